"""The calls service's use cases, one unit of work each: `calls` (open a call, its learning needs, the phase
clock), `offers` (drafts, attachments, checks, submission, withdrawal, versions), `readmodels` (catalog's and
accounts' events), `seed` (the seeded calls)."""
