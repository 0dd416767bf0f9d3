"""Profiles, DigComp self-assessments, funding projects, applications, the grant ledger, enrolments,
and the read models of catalog's programmes, groups and provider users.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Money = sa.Numeric(14, 2)
OPEN = "state IN ('submitted', 'approved', 'enrolled', 'studying')"


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("first_name", sa.String(100)))
        batch.add_column(sa.Column("last_name", sa.String(100)))
        batch.add_column(sa.Column("email", sa.String(254)))
        batch.add_column(sa.Column("phone", sa.String(20)))
        batch.add_column(sa.Column("preferred_language", sa.String(2), nullable=False, server_default="lv"))
        batch.add_column(sa.Column("education_level", sa.String(20)))
        batch.add_column(sa.Column("employment_status", sa.String(20)))
    op.create_table(
        "digcomp_assessments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.Uuid(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("levels", sa.Text(), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_digcomp_assessments_account_id", "digcomp_assessments", ["account_id"])
    op.create_table(
        "funding_projects",
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("budget", Money, nullable=False),
        sa.Column("grant_per_person", Money, nullable=False),
        sa.Column("reserved", Money, nullable=False, server_default="0"),
        sa.Column("spent", Money, nullable=False, server_default="0"),
        sa.Column("window_opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enrolment_deadline", sa.Date(), nullable=False),
        sa.Column("allocation_mode", sa.String(20), nullable=False),
        sa.Column("min_age", sa.Integer(), nullable=False, server_default="18"),
        sa.Column("employment_statuses", sa.Text()),
        sa.Column("allocated_at", sa.DateTime(timezone=True)),
        sa.Column("lottery_seed", sa.String(64)),
        sa.CheckConstraint("reserved >= 0 AND spent >= 0 AND reserved + spent <= budget",
                           name="ck_budget_not_overspent"),
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("account_id", sa.Uuid(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("learner_id", sa.String(64), nullable=False),
        sa.Column("project_code", sa.String(20), sa.ForeignKey("funding_projects.code"), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("learning_need", sa.String(500)),
        sa.Column("programme_id", sa.Uuid()),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("reason", sa.String(1000)),
        sa.Column("reason_code", sa.String(40)),
        sa.Column("priority_score", sa.Integer()),
        sa.Column("reserved", Money, nullable=False, server_default="0"),
        sa.Column("spent", Money, nullable=False, server_default="0"),
        sa.Column("released", Money, nullable=False, server_default="0"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("spent + released <= reserved", name="ck_grant_not_negative"),
    )
    op.create_index("ix_applications_learner_id", "applications", ["learner_id"])
    op.create_index("ix_applications_project_state", "applications", ["project_code", "state", "submitted_at"])
    op.create_index("ux_applications_one_open_per_project", "applications", ["learner_id", "project_code"],
                    unique=True, sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("application_id", sa.Uuid(), sa.ForeignKey("applications.id"), nullable=False),
        sa.Column("learner_id", sa.String(64), nullable=False),
        sa.Column("project_code", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("amount", Money, nullable=False),
        sa.Column("cause", sa.String(20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ledger_entries_application_id", "ledger_entries", ["application_id"])
    op.create_index("ix_ledger_entries_learner_id", "ledger_entries", ["learner_id"])
    op.create_table(
        "enrolments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("application_id", sa.Uuid(), sa.ForeignKey("applications.id"), nullable=False, unique=True),
        sa.Column("learner_id", sa.String(64), nullable=False),
        sa.Column("project_code", sa.String(20), nullable=False),
        sa.Column("programme_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("started_on", sa.Date()),
        sa.Column("ended_on", sa.Date()),
        sa.Column("reason", sa.String(500)),
        sa.Column("hours_attended", sa.Integer()),
        sa.Column("result", sa.String(200)),
    )
    op.create_index("ix_enrolments_learner_id", "enrolments", ["learner_id"])
    op.create_index("ix_enrolments_group_id", "enrolments", ["group_id"])
    op.create_index("ix_enrolments_institution_id", "enrolments", ["institution_id"])
    op.create_table(
        "programmes",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("institution_name", sa.String(300)),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("cost_per_participant", Money, nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "study_groups",
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
    op.create_table(
        "provider_users",
        sa.Column("institution_id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
    )


def downgrade() -> None:
    for table in ("provider_users", "study_groups", "programmes", "enrolments", "ledger_entries", "applications",
                  "funding_projects", "digcomp_assessments"):
        op.drop_table(table)
    with op.batch_alter_table("accounts") as batch:
        for column in ("employment_status", "education_level", "preferred_language", "phone", "email",
                       "last_name", "first_name"):
            batch.drop_column(column)
