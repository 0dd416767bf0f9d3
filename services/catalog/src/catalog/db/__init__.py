"""The catalog service's tables and the queries over them, one module per aggregate.

- providers: documents, institutions, memberships, locations
- programmes: coefficient tables, programmes (their form, qualifications, locations), agreements
- groups: study groups and their places, enrolments and the learners' progress
- catalogue: the public search, ratings

Every query answers with domain objects (or small frozen dataclasses), never with rows. Money is
`MoneyColumn` (NUMERIC(14, 2)). `metadata` holds every table: the migrations are compared with it.
"""

from catalog.db import catalogue, groups, programmes, providers  # noqa: F401  (every table on `metadata`)
from catalog.db.common import metadata

__all__ = ["metadata"]
