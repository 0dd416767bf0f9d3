"""The calls service's rules, pure Python (no SQL, HTTP, bus or pydantic; checked by `tools/import_rules.py`).

- common: Riga time (deadlines to the minute, across daylight-saving changes), normalised text
- calls: a call, its timeline and the phase its clock is in, its criteria as configurable rules, learning needs
- offers: an offer's draft in three steps, its attachments, its state machine and its frozen versions
- institutions: what calls knows of institutions (catalog's read models, the registers, delivered groups)
- checks: every check before submission, each problem naming its field, rule, source and step
"""
