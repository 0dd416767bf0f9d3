"""The accounts service's tables: its own aggregates, and the read models fed by catalog's and calls' events."""

from __future__ import annotations

import sqlalchemy as sa
from prasmes_runtime.db import UNDECLARED, MoneyColumn, UtcDateTime

from accounts.domain.applications import OPEN_STATES

metadata = sa.MetaData()
metadata.info[UNDECLARED] = frozenset(
    {"ix_applications_decided_desc"}  # PostgreSQL only (migration 0008): decided latest first, the undecided last
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("learner_id", sa.String(64), nullable=False, unique=True),
    sa.Column("personal_code", sa.String(11), nullable=False, unique=True),
    sa.Column("birth_date", sa.Date(), nullable=False),
    sa.Column("opened_at", UtcDateTime(), nullable=False),
    sa.Column("first_name", sa.String(100)),
    sa.Column("last_name", sa.String(100)),
    sa.Column("email", sa.String(254)),
    sa.Column("phone", sa.String(20)),
    sa.Column("preferred_language", sa.String(2), nullable=False, server_default="lv"),
    sa.Column("education_level", sa.String(20)),
    sa.Column("employment_status", sa.String(20)),
    sa.Index("ix_accounts_name", "last_name", "first_name", "id"),
)

digcomp_assessments = sa.Table(
    "digcomp_assessments",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Uuid(), sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("levels", sa.Text(), nullable=False),
    sa.Column("assessed_at", UtcDateTime(), nullable=False),
)

funding_projects = sa.Table(
    "funding_projects",
    metadata,
    sa.Column("code", sa.String(20), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("budget", MoneyColumn(), nullable=False),
    sa.Column("grant_per_person", MoneyColumn(), nullable=False),
    sa.Column("reserved", MoneyColumn(), nullable=False, server_default="0"),
    sa.Column("spent", MoneyColumn(), nullable=False, server_default="0"),
    sa.Column("window_opens_at", UtcDateTime(), nullable=False),
    sa.Column("window_closes_at", UtcDateTime(), nullable=False),
    sa.Column("enrolment_deadline", sa.Date(), nullable=False),
    sa.Column("allocation_mode", sa.String(20), nullable=False),
    sa.Column("min_age", sa.Integer(), nullable=False, server_default="18"),
    sa.Column("employment_statuses", sa.Text()),
    sa.Column("allocated_at", UtcDateTime()),
    sa.Column("lottery_seed", sa.String(64)),
    sa.CheckConstraint("reserved >= 0 AND spent >= 0 AND reserved + spent <= budget", name="ck_budget_not_overspent"),
)

OPEN = [s.value for s in OPEN_STATES]
applications = sa.Table(
    "applications",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("account_id", sa.Uuid(), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("learner_id", sa.String(64), nullable=False, index=True),
    sa.Column("project_code", sa.String(20), sa.ForeignKey("funding_projects.code"), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("submitted_at", UtcDateTime(), nullable=False),
    sa.Column("learning_need", sa.String(500)),  # the learner's own words: never published
    sa.Column("learning_need_code", sa.String(100)),
    sa.Column("programme_id", sa.Uuid()),
    sa.Column("group_id", sa.Uuid()),
    sa.Column("decided_at", UtcDateTime()),
    sa.Column("reason", sa.String(1000)),
    sa.Column("reason_code", sa.String(40)),
    sa.Column("priority_score", sa.Integer()),
    sa.Column("reserved", MoneyColumn(), nullable=False, server_default="0"),
    sa.Column("spent", MoneyColumn(), nullable=False, server_default="0"),
    sa.Column("released", MoneyColumn(), nullable=False, server_default="0"),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.CheckConstraint("spent + released <= reserved", name="ck_grant_not_negative"),
    sa.Index("ix_applications_project_state", "project_code", "state", "submitted_at"),
    # The agency's list: one index per filter and sort it offers (see db.application.agency_applications).
    sa.Index("ix_applications_submitted", "submitted_at", "id"),
    sa.Index("ix_applications_state_submitted", "state", "submitted_at"),
    sa.Index("ix_applications_project_submitted", "project_code", "submitted_at"),
    sa.Index("ix_applications_decided", "decided_at"),
    sa.Index("ix_applications_account", "account_id"),
    sa.Index(
        "ux_applications_one_open_per_project",
        "learner_id",
        "project_code",
        unique=True,
        sqlite_where=sa.text(f"state IN ({', '.join(repr(s) for s in OPEN)})"),
        postgresql_where=sa.text(f"state IN ({', '.join(repr(s) for s in OPEN)})"),
    ),
)

ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("application_id", sa.Uuid(), sa.ForeignKey("applications.id"), nullable=False, index=True),
    sa.Column("learner_id", sa.String(64), nullable=False, index=True),
    sa.Column("project_code", sa.String(20), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("amount", MoneyColumn(), nullable=False),
    sa.Column("cause", sa.String(20), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Index("ix_ledger_entries_project", "project_code", "at", "id"),
)

allocations = sa.Table(
    "allocations",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("project_code", sa.String(20), sa.ForeignKey("funding_projects.code"), nullable=False, unique=True),
    sa.Column("seed", sa.String(64), nullable=False),
    sa.Column("rules_version", sa.Integer(), nullable=False),
    sa.Column("total", sa.Integer(), nullable=False),
    sa.Column("ranked", sa.Integer(), nullable=False),
    sa.Column("approved", sa.Integer(), nullable=False),
    sa.Column("rejected", sa.Integer(), nullable=False),
    sa.Column("requested_at", UtcDateTime(), nullable=False),
    sa.Column("requested_by", sa.String(64), nullable=False),
    sa.Column("finished_at", UtcDateTime()),
)

enrolments = sa.Table(
    "enrolments",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("application_id", sa.Uuid(), sa.ForeignKey("applications.id"), nullable=False, unique=True),
    sa.Column("learner_id", sa.String(64), nullable=False, index=True),
    sa.Column("project_code", sa.String(20), nullable=False),
    sa.Column("programme_id", sa.Uuid(), nullable=False),
    sa.Column("group_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("institution_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("enrolled_at", UtcDateTime(), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("started_on", sa.Date()),
    sa.Column("ended_on", sa.Date()),
    sa.Column("reason", sa.String(500)),
    sa.Column("hours_attended", sa.Integer()),
    sa.Column("result", sa.String(200)),
    sa.Column("invoiced_amount", MoneyColumn()),
    sa.Column("invoiced_at", UtcDateTime()),
)

# Read models fed by catalog's events: accounts never asks catalog's database.
programmes = sa.Table(
    "programmes",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("institution_id", sa.Uuid(), nullable=False),
    sa.Column("institution_name", sa.String(300)),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("hours", sa.Integer(), nullable=False),
    sa.Column("cost_per_participant", MoneyColumn(), nullable=False),
    sa.Column("published", sa.Boolean(), nullable=False),
    sa.Column("digcomp_level", sa.SmallInteger()),
)

groups = sa.Table(
    "study_groups",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("programme_id", sa.Uuid(), nullable=False),
    sa.Column("institution_id", sa.Uuid(), nullable=False),
    sa.Column("capacity", sa.Integer(), nullable=False),
    sa.Column("taken", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("start_date", sa.Date(), nullable=False),
    sa.Column("end_date", sa.Date(), nullable=False),
    sa.Column("city", sa.String(100), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
)

# Read models fed by calls' events: a call's funding project, and the learning needs its latest list approved.
calls = sa.Table(
    "calls",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("project_code", sa.String(20), nullable=False),
    sa.Column("code", sa.String(100)),
    sa.Column("title", sa.Text()),
    sa.Column("needs_approved_at", UtcDateTime()),
)

learning_needs = sa.Table(
    "learning_needs",
    metadata,
    sa.Column("call_id", sa.Uuid(), sa.ForeignKey("calls.id"), primary_key=True),
    sa.Column("code", sa.String(100), primary_key=True),
    sa.Column("project_code", sa.String(20), nullable=False, index=True),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("approved_on", sa.Date(), nullable=False),
    sa.Column("approved_at", UtcDateTime(), nullable=False),
)

provider_users = sa.Table(
    "provider_users",
    metadata,
    sa.Column("institution_id", sa.Uuid(), primary_key=True),
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),
)
