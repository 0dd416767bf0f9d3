"""Documents the platform receives, judged by their content (never by their name).

- signatures: a PDF, a PAdES-signed PDF or an ASiC-E container with XAdES signatures; signatures, time stamps
  and digests checked (`inspect`). Pure Python: bytes in, facts out; a damaged document is a 422 on `file`.

Used by catalog (a provider's signed statement, a curriculum) and calls (an offer's attachments).
"""
