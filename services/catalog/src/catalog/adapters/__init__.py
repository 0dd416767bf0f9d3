"""Catalog's clients of the outside world, each behind what the use cases need of it.

- registers: the register of education institutions and VIIS (`Registers`, the local `FileRegisters`)
- signatures: what an uploaded document is, judged by its content (ASiC-E, PAdES, PDF)
- directory: the identity provider's user directory (`Directory`, `HttpDirectory`): who a user name or an e-mail
  address is, and the names of subjects, asked at request time (catalog stores no names)
"""
