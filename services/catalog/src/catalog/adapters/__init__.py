"""Catalog's clients of the outside world, each behind what the use cases need of it.

- registers: the register of education institutions and VIIS (`Registers`, the local `FileRegisters`)
- signatures: what an uploaded document is, judged by its content (ASiC-E, PAdES, PDF)
"""
