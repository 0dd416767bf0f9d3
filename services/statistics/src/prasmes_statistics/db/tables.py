"""The projection's tables: facts as the events told them, each row keyed by what identifies it (an account, an
application, an enrolment, an offer's version, an event), so that a second delivery writes what the first wrote.

Every figure is counted from these rows at read time, as of an instant: a row holds when each thing happened, not a
running total. No person is stored: a learner appears only as `person`, a keyed digest of the opaque user id that
lets figures count distinct persons and leads to no one (the key is the projection's own, in `projection`).
"""

from __future__ import annotations

import sqlalchemy as sa
from prasmes_runtime.db import MoneyColumn, UtcDateTime

metadata = sa.MetaData()
PERSON = 32
"""Hex characters of a person's digest (128 bits)."""

projection = sa.Table(
    "projection",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("generation", sa.Integer(), nullable=False),
    sa.Column("version", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("person_key", sa.String(64), nullable=False),
    sa.Column("rebuild_requested_at", UtcDateTime(), nullable=True),
    sa.Column("rebuild_requested_by", sa.String(20), nullable=True),
)
"""One row: the generation the consumer projects into (a rebuild starts the next one from the first offsets), the
version (one more with every batch of facts written and every rebuild: figures read under one version are the same
figures), the key of the persons' digests (kept across rebuilds, so that a rebuilt figure equals the live one) and
the last rebuild."""

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("account_id", sa.Uuid(), primary_key=True),
    sa.Column("opened_at", UtcDateTime(), nullable=False, index=True),
)

applications = sa.Table(
    "applications",
    metadata,
    sa.Column("application_id", sa.Uuid(), primary_key=True),
    sa.Column("person", sa.String(PERSON), nullable=False, index=True),
    sa.Column("project_code", sa.String(30), nullable=False, index=True),
    sa.Column("submitted_at", UtcDateTime(), nullable=True),
    sa.Column("submitted_on", sa.Date(), nullable=True),
    sa.Column("approved_at", UtcDateTime(), nullable=True),
    sa.Column("grant_amount", MoneyColumn(), nullable=True),
    sa.Column("rejected_at", UtcDateTime(), nullable=True),
    sa.Column("reason_code", sa.String(40), nullable=True),
    sa.Column("withdrawn_at", UtcDateTime(), nullable=True),
    sa.Column("lapsed_at", UtcDateTime(), nullable=True),
)
"""An application and when each of its steps happened (`submitted_on` is the day in Riga, which places it in a
call's application round)."""

grant_entries = sa.Table(
    "grant_entries",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("application_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("project_code", sa.String(30), nullable=False, index=True),
    sa.Column("entry", sa.String(10), nullable=False),
    sa.Column("cause", sa.String(20), nullable=True),
    sa.Column("amount", MoneyColumn(), nullable=False),
    sa.Column("programme_id", sa.Uuid(), nullable=True),
    sa.Column("institution_id", sa.Uuid(), nullable=True, index=True),
    sa.Column("at", UtcDateTime(), nullable=False),
)
"""The grant ledger's entries (reserved, released, spent), one per event."""

studies = sa.Table(
    "studies",
    metadata,
    sa.Column("enrolment_id", sa.Uuid(), primary_key=True),
    sa.Column("application_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("person", sa.String(PERSON), nullable=False, index=True),
    sa.Column("project_code", sa.String(30), nullable=False, index=True),
    sa.Column("programme_id", sa.Uuid(), nullable=False),
    sa.Column("group_id", sa.Uuid(), nullable=False),
    sa.Column("institution_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("enrolled_at", UtcDateTime(), nullable=True),
    sa.Column("started_on", sa.Date(), nullable=True),
    sa.Column("discontinued_on", sa.Date(), nullable=True),
    sa.Column("completed_on", sa.Date(), nullable=True),
)
"""An enrolment and its study record: the days the provider recorded (a start, a discontinuation, a completion). A
study figure as of an instant counts the records of days up to that instant's day in Riga."""

calls = sa.Table(
    "calls",
    metadata,
    sa.Column("call_id", sa.Uuid(), primary_key=True),
    sa.Column("code", sa.String(30), nullable=False),
    sa.Column("project_code", sa.String(30), nullable=False, index=True),
    sa.Column("applications_open_on", sa.Date(), nullable=False),
    sa.Column("applications_close_on", sa.Date(), nullable=False),
    sa.Column("opened_at", UtcDateTime(), nullable=False),
)
"""A call: its funding project's application round is its learners' application period."""

call_phases = sa.Table(
    "call_phases",
    metadata,
    sa.Column("call_id", sa.Uuid(), primary_key=True),
    sa.Column("phase", sa.String(20), primary_key=True),
    sa.Column("at", UtcDateTime(), nullable=False),
)

offer_versions = sa.Table(
    "offer_versions",
    metadata,
    sa.Column("offer_id", sa.Uuid(), primary_key=True),
    sa.Column("version", sa.Integer(), primary_key=True),
    sa.Column("call_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("institution_id", sa.Uuid(), nullable=False),
    sa.Column("submitted_at", UtcDateTime(), nullable=True),
    sa.Column("withdrawn_at", UtcDateTime(), nullable=True),
)

offer_decisions = sa.Table(
    "offer_decisions",
    metadata,
    sa.Column("offer_id", sa.Uuid(), primary_key=True),
    sa.Column("call_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("institution_id", sa.Uuid(), nullable=False),
    sa.Column("decision", sa.String(10), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
)

survey_answers = sa.Table(
    "survey_answers",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("programme_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("institution_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("project_code", sa.String(30), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
)
"""A submitted survey (closed answers only; no person): its stars and reasons in the two tables after it."""

answer_stars = sa.Table(
    "answer_stars",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("aspect", sa.String(40), primary_key=True),
    sa.Column("stars", sa.Integer(), nullable=False),
)

answer_reasons = sa.Table(
    "answer_reasons",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("reason", sa.String(40), primary_key=True),
)

groups = sa.Table(
    "groups",
    metadata,
    sa.Column("group_id", sa.Uuid(), primary_key=True),
    sa.Column("programme_id", sa.Uuid(), nullable=False),
    sa.Column("institution_id", sa.Uuid(), nullable=False),
    sa.Column("start_date", sa.Date(), nullable=False),
    sa.Column("end_date", sa.Date(), nullable=False),
)
"""A study group's dates as catalog last told them (an enrolment a day before the start is a late one)."""

institutions = sa.Table(
    "institutions",
    metadata,
    sa.Column("institution_id", sa.Uuid(), primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
)
"""An institution's name, to say which one a flag is about (an organisation, not a person)."""

FACTS: tuple[sa.Table, ...] = (
    accounts,
    applications,
    grant_entries,
    studies,
    calls,
    call_phases,
    offer_versions,
    offer_decisions,
    survey_answers,
    answer_stars,
    answer_reasons,
    groups,
    institutions,
)
"""The tables a rebuild empties and fills again."""
