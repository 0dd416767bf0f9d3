"""The catalog service's tables. Only the shared outbox and inbox so far."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
