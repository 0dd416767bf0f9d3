"""Documents the platform receives, judged by their content (never by their name).

- signatures: a PDF, a PAdES-signed PDF or an ASiC-E container with XAdES signatures; signatures, time stamps
  and digests checked (`inspect`). Pure Python: bytes in, facts out; a damaged document is a 422 on `file`.
- tables: rows as the CSV and XLSX files the platform gives out (`as_csv`, `as_xlsx`), texts kept from running
  as formulas.

Used by catalog (a provider's signed statement, a curriculum) and calls (an offer's attachments; the decisions'
exports).
"""
