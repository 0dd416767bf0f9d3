"""What calls keeps of catalog's and accounts' events (in the consumer's transaction, beside its inbox row)."""

from __future__ import annotations

from prasmes_contracts.accounts import StudiesCompleted
from prasmes_contracts.catalog import (
    CoefficientTableChanged,
    GroupChanged,
    GroupScheduled,
    ProgrammeRegistered,
    ProviderApproved,
    ProviderRegistered,
    ProviderRejected,
    ProviderUserAdded,
    ProviderUserRemoved,
)
from sqlalchemy.ext.asyncio import AsyncSession

from calls.db import readmodels as db
from calls.domain.institutions import Programme


async def provider_registered(session: AsyncSession, event: ProviderRegistered) -> None:
    """A registration (or a new one after a rejection, same id) awaits the agency."""
    await db.save_provider(
        session, event.institution_id, name=event.name, register_number=event.register_number, status="registered"
    )


async def provider_decided(session: AsyncSession, event: ProviderApproved | ProviderRejected) -> None:
    status = "approved" if isinstance(event, ProviderApproved) else "rejected"
    await db.set_provider_status(session, event.institution_id, status)


async def provider_user_added(session: AsyncSession, event: ProviderUserAdded) -> None:
    await db.add_user(session, event.user_id, event.institution_id, event.role)


async def provider_user_removed(session: AsyncSession, event: ProviderUserRemoved) -> None:
    await db.remove_user(session, event.user_id, event.institution_id)


async def programme_registered(session: AsyncSession, event: ProgrammeRegistered) -> None:
    programme = Programme(
        programme_id=event.programme_id,
        institution_id=event.institution_id,
        title=event.title,
        licence_number=event.licence_number,
        programme_group=event.programme_group,
        form=event.form,
        digcomp_level=event.digcomp_level,
        hours=event.hours,
        digital_share_percent=event.digital_share_percent,
        qualifications=tuple(event.qualifications or ()),
        cost_per_participant=event.cost_per_participant,
        coefficient_table_version=event.coefficient_table_version,
    )
    await db.save_programme(session, programme)


async def group_changed(session: AsyncSession, event: GroupScheduled | GroupChanged) -> None:
    await db.save_group(session, event.group_id, event.programme_id, event.institution_id, event.status)


async def studies_completed(session: AsyncSession, event: StudiesCompleted) -> None:
    """One completer of the group (by enrolment: no learner id is kept)."""
    await db.record_completion(session, event.enrolment_id, event.group_id, event.programme_id, event.institution_id)


async def coefficients_changed(session: AsyncSession, event: CoefficientTableChanged) -> None:
    await db.save_coefficients(session, event.table_version, event.hourly_rate, event.coefficients, event.valid_from)
