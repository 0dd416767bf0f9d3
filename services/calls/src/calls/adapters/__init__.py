"""Calls' clients of the outside world.

- registers: the register of education institutions and VIIS, asked of catalog over HTTP (`HttpRegisters`), or
  a fixed set in memory (`StaticRegisters`, tests and demos)
- signature checks are `prasmes_documents.signatures` (shared with catalog)
"""
