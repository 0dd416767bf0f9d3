"""The calls service's tables and the queries over them, one module per aggregate.

- calls: `calls` (the timeline, criteria and learning needs, the phase last announced)
- offers: `offers` (one per institution and call: the draft and its state), `offer_versions` (every submitted
  version, frozen), `offer_attachments` (immutable uploads with their digest; the bytes in `content`)
- evaluations: `evaluations` (the assigned evaluator), `findings` (one per offer and criterion),
  `clarifications`, `decisions`, `agreements` (the cooperation agreement and its signed document)
- readmodels: catalog's `providers`, `provider_users`, `programmes`, `study_groups`, `coefficient_tables`, and
  accounts' `completions` (one row per completed enrolment: no learner id)

Every query answers with domain objects, never with rows. `metadata` holds every table.
"""

from calls.db import calls, evaluations, offers, readmodels  # noqa: F401  (every table on `metadata`)
from calls.db.common import metadata

__all__ = ["metadata"]
