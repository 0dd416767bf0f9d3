"""The projection's facts, and its one state row: generation 1 and a fresh random key for the persons' digests.

Revision ID: 0002
Revises: 0001
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('account_id')
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_opened_at'), ['opened_at'], unique=False)

    op.create_table('answer_reasons',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('event_id', 'reason')
    )
    op.create_table('answer_stars',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('aspect', sa.String(length=40), nullable=False),
    sa.Column('stars', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', 'aspect')
    )
    op.create_table('applications',
    sa.Column('application_id', sa.Uuid(), nullable=False),
    sa.Column('person', sa.String(length=32), nullable=False),
    sa.Column('project_code', sa.String(length=30), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_on', sa.Date(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('grant_amount', sa.Numeric(14, 2), nullable=True),
    sa.Column('rejected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason_code', sa.String(length=40), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lapsed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('application_id')
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applications_person'), ['person'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_project_code'), ['project_code'], unique=False)

    op.create_table('call_phases',
    sa.Column('call_id', sa.Uuid(), nullable=False),
    sa.Column('phase', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('call_id', 'phase')
    )
    op.create_table('calls',
    sa.Column('call_id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('project_code', sa.String(length=30), nullable=False),
    sa.Column('applications_open_on', sa.Date(), nullable=False),
    sa.Column('applications_close_on', sa.Date(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('call_id')
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calls_project_code'), ['project_code'], unique=False)

    op.create_table('grant_entries',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('application_id', sa.Uuid(), nullable=False),
    sa.Column('project_code', sa.String(length=30), nullable=False),
    sa.Column('entry', sa.String(length=10), nullable=False),
    sa.Column('cause', sa.String(length=20), nullable=True),
    sa.Column('amount', sa.Numeric(14, 2), nullable=False),
    sa.Column('programme_id', sa.Uuid(), nullable=True),
    sa.Column('institution_id', sa.Uuid(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('grant_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grant_entries_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grant_entries_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grant_entries_project_code'), ['project_code'], unique=False)

    op.create_table('offer_decisions',
    sa.Column('offer_id', sa.Uuid(), nullable=False),
    sa.Column('call_id', sa.Uuid(), nullable=False),
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('offer_id')
    )
    with op.batch_alter_table('offer_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_decisions_call_id'), ['call_id'], unique=False)

    op.create_table('offer_versions',
    sa.Column('offer_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Uuid(), nullable=False),
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('offer_id', 'version')
    )
    with op.batch_alter_table('offer_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_versions_call_id'), ['call_id'], unique=False)

    op.create_table('projection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('person_key', sa.String(length=64), nullable=False),
    sa.Column('rebuild_requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rebuild_requested_by', sa.String(length=20), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('studies',
    sa.Column('enrolment_id', sa.Uuid(), nullable=False),
    sa.Column('application_id', sa.Uuid(), nullable=False),
    sa.Column('person', sa.String(length=32), nullable=False),
    sa.Column('project_code', sa.String(length=30), nullable=False),
    sa.Column('programme_id', sa.Uuid(), nullable=False),
    sa.Column('group_id', sa.Uuid(), nullable=False),
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('discontinued_on', sa.Date(), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('enrolment_id')
    )
    with op.batch_alter_table('studies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_studies_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_studies_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_studies_person'), ['person'], unique=False)
        batch_op.create_index(batch_op.f('ix_studies_project_code'), ['project_code'], unique=False)

    op.create_table('survey_answers',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('programme_id', sa.Uuid(), nullable=False),
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('project_code', sa.String(length=30), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_answers_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_answers_programme_id'), ['programme_id'], unique=False)
    op.create_table('groups',
    sa.Column('group_id', sa.Uuid(), nullable=False),
    sa.Column('programme_id', sa.Uuid(), nullable=False),
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('group_id')
    )
    op.create_table('institutions',
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('institution_id')
    )
    projection = sa.table(
        "projection", sa.column("id", sa.Integer()), sa.column("generation", sa.Integer()),
        sa.column("person_key", sa.String()),
    )
    op.bulk_insert(projection, [{"id": 1, "generation": 1, "person_key": secrets.token_hex(32)}])


def downgrade() -> None:
    op.drop_table('institutions')
    op.drop_table('groups')
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_answers_programme_id'))
        batch_op.drop_index(batch_op.f('ix_survey_answers_institution_id'))

    op.drop_table('survey_answers')
    with op.batch_alter_table('studies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_studies_project_code'))
        batch_op.drop_index(batch_op.f('ix_studies_person'))
        batch_op.drop_index(batch_op.f('ix_studies_institution_id'))
        batch_op.drop_index(batch_op.f('ix_studies_application_id'))

    op.drop_table('studies')
    op.drop_table('projection')
    with op.batch_alter_table('offer_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_versions_call_id'))

    op.drop_table('offer_versions')
    with op.batch_alter_table('offer_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_decisions_call_id'))

    op.drop_table('offer_decisions')
    with op.batch_alter_table('grant_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grant_entries_project_code'))
        batch_op.drop_index(batch_op.f('ix_grant_entries_institution_id'))
        batch_op.drop_index(batch_op.f('ix_grant_entries_application_id'))

    op.drop_table('grant_entries')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calls_project_code'))

    op.drop_table('calls')
    op.drop_table('call_phases')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_applications_project_code'))
        batch_op.drop_index(batch_op.f('ix_applications_person'))

    op.drop_table('applications')
    op.drop_table('answer_stars')
    op.drop_table('answer_reasons')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_opened_at'))

    op.drop_table('accounts')
