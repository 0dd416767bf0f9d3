"""The coefficient table, programmes registered by providers, and their publication by calls' agreements."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from prasmes_contracts.calls import CooperationAgreementEnded, CooperationAgreementSigned
from prasmes_contracts.catalog import (
    CoefficientTableChanged,
    ProgrammePublished,
    ProgrammeRegistered,
    ProgrammeWithdrawn,
)
from prasmes_runtime.clock import Clock, today_in_riga
from prasmes_runtime.db import Database
from prasmes_runtime.errors import Conflict, NotFound, Violation
from prasmes_runtime.logging import get_logger
from prasmes_runtime.outbox import record_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters.registers import Registers
from catalog.db import programmes as db
from catalog.db import providers as providers_db
from catalog.domain import programmes as domain
from catalog.domain.programmes import (
    Agreement,
    AgreementStatus,
    CoefficientTable,
    CoefficientTableForm,
    Cost,
    Programme,
    ProgrammeInput,
    ProgrammeStatus,
)
from catalog.domain.providers import DocumentPurpose
from catalog.service.providers import acting_member, registered_institution, usable_document

log = get_logger(__name__)


# --------------------------------------------------------------------------- coefficient tables


async def current_coefficients(database: Database, clock: Clock) -> CoefficientTable:
    async with database.session() as session:
        table = await db.current_coefficient_table(session, today_in_riga(clock))
    if table is None:
        raise NotFound("no coefficient table is in force")
    return table


async def coefficient_history(database: Database) -> list[CoefficientTable]:
    async with database.session() as session:
        return await db.coefficient_tables_all(session)


async def publish_coefficients(
    database: Database,
    clock: Clock,
    admin_id: str,
    form: CoefficientTableForm,
    refused: Iterable[Violation] = (),
) -> CoefficientTable:
    """A new version of the table; programmes keep the version their cost was computed with. Every problem of
    the form (with those the request's parsing found, `refused`) is answered at once."""
    today, now = today_in_riga(clock), clock.now()
    version = 0
    try:
        async with database.transaction() as session:
            version = await db.latest_coefficient_version(session) + 1
            table = domain.new_coefficient_table(version, form, today, now, admin_id, refused=refused)
            await db.insert_coefficient_table(session, table)
            event = CoefficientTableChanged(
                table_version=version,
                hourly_rate=table.hourly_rate,
                coefficients=dict(table.coefficients),
                valid_from=table.valid_from,
                at=now,
            )
            await record_event(session, event)
    except IntegrityError:
        raise Conflict("another version was published at the same moment; try again", {"version": version}) from None
    return table


# --------------------------------------------------------------------------- programmes


async def register_programme(
    database: Database,
    clock: Clock,
    registers: Registers,
    user_id: str,
    institution_id: uuid.UUID,
    spec: ProgrammeInput,
) -> Programme:
    async with database.session() as session:
        institution, _ = await acting_member(session, user_id, institution_id, admin=True)
    registered = await registered_institution(registers, institution.register_number)
    now = clock.now()
    try:
        async with database.transaction() as session:
            table = await db.current_coefficient_table(session, today_in_riga(clock))
            if table is None:
                raise Conflict("no coefficient table is in force: the agency must publish one", {})
            own = [loc.id for loc in await providers_db.locations_of(session, institution_id)]
            await usable_document(
                session,
                "curriculum_document_id",
                spec.curriculum_document_id,
                DocumentPurpose.CURRICULUM,
                user_id,
                institution_id,
            )
            licence = registered.licence(spec.licence_number)
            programme = domain.register_programme(institution_id, spec, licence, table, own, user_id, now)
            await _refuse_second_programme(session, institution_id, spec.licence_number)
            cities = await providers_db.location_cities(session, spec.location_ids)
            await db.insert_programme(session, programme, domain.programme_search_text(spec, institution.name, cities))
            await providers_db.attach_document(session, spec.curriculum_document_id, institution_id)
            await record_event(session, _registered_event(programme))
    except IntegrityError:
        async with database.session() as session:  # a concurrent registration of the licence won: say which
            await _refuse_second_programme(session, institution_id, spec.licence_number)
        raise
    return programme


async def _refuse_second_programme(session: AsyncSession, institution_id: uuid.UUID, licence_number: str) -> None:
    domain.refuse_second_programme(await db.programme_with_licence(session, institution_id, licence_number))


def _registered_event(programme: Programme) -> ProgrammeRegistered:
    spec = programme.spec
    return ProgrammeRegistered(
        programme_id=programme.id,
        institution_id=programme.institution_id,
        at=programme.registered_at,
        title=programme.title,
        licence_number=spec.licence_number,
        programme_group=spec.programme_group,
        form=spec.form.value,
        digcomp_level=spec.digcomp_level,
        hours=spec.total_hours,
        digital_share_percent=spec.digital_share_percent,
        qualifications=list(spec.qualifications),
        cost_per_participant=programme.cost.per_participant,
        coefficient_table_version=programme.cost.table_version,
    )


async def programmes_of(
    database: Database,
    user_id: str,
    institution_id: uuid.UUID,
    statuses: Sequence[ProgrammeStatus] = (),
    words: str = "",
    sort: domain.ProgrammeSort = domain.ProgrammeSort.NEWEST,
    language: str = "lv",
) -> list[Programme]:
    """The institution's programmes, narrowed and ordered as asked (an institution has tens, not thousands)."""
    async with database.session() as session:
        await acting_member(session, user_id, institution_id, approved=False)
        found = await db.programmes_of(session, institution_id)
    return domain.select_programmes(found, statuses, words, sort, language)


async def quote_cost(
    database: Database, clock: Clock, programme_group: str, hours: int
) -> tuple[Cost, CoefficientTable]:
    """What a draft would cost per participant if registered now (the table in force, the registration's rule),
    and that table."""
    table = await current_coefficients(database, clock)
    return domain.quote_cost(table, programme_group, hours), table


async def own_programme(
    session: AsyncSession, user_id: str, institution_id: uuid.UUID, programme_id: uuid.UUID, *, admin: bool = False
) -> Programme:
    """A programme of the institution the user acts for (an admin's, of an approved institution)."""
    await acting_member(session, user_id, institution_id, admin=admin, approved=admin)
    programme = await db.programme_by_id(session, programme_id)
    if programme is None or programme.institution_id != institution_id:
        raise NotFound(f"no programme {programme_id}")
    return programme


async def programme_of(
    database: Database, user_id: str, institution_id: uuid.UUID, programme_id: uuid.UUID
) -> Programme:
    async with database.session() as session:
        return await own_programme(session, user_id, institution_id, programme_id)


async def programme_for_agency(database: Database, programme_id: uuid.UUID) -> Programme:
    async with database.session() as session:
        programme = await db.programme_by_id(session, programme_id)
    if programme is None:
        raise NotFound(f"no programme {programme_id}")
    return programme


# --------------------------------------------------------------------------- publication (calls' events)


def _published_event(programme: Programme, offer_id: uuid.UUID, institution_name: str | None) -> ProgrammePublished:
    return ProgrammePublished(
        programme_id=programme.id,
        institution_id=programme.institution_id,
        at=programme.published_at or programme.registered_at,
        title=programme.title,
        digcomp_level=programme.spec.digcomp_level,
        hours=programme.spec.total_hours,
        cost_per_participant=programme.cost.per_participant,
        coefficient_table_version=programme.cost.table_version,
        call_id=programme.call_id,
        form=programme.spec.form.value,
        qualifications=list(programme.spec.qualifications),
        offer_id=offer_id,
        institution_name=institution_name,
    )


async def _agreement_programmes(
    session: AsyncSession, institution_id: uuid.UUID, programme_ids: Sequence[uuid.UUID], offer_id: uuid.UUID
) -> list[Programme]:
    found = await db.programmes_by_ids(session, programme_ids)
    own = [p for p in found if p.institution_id == institution_id]
    if len(own) != len(set(programme_ids)):
        # Not a retryable failure: an agreement naming programmes catalog does not hold for that institution.
        log.warning(
            "agreement.unknown_programmes", offer_id=str(offer_id), expected=len(set(programme_ids)), found=len(own)
        )
    return own


async def agreement_signed(session: AsyncSession, event: CooperationAgreementSigned) -> None:
    """An approved offer's agreement is signed: its programmes become public (in the consumer's transaction)."""
    if await db.agreement_status(session, event.offer_id) is not None:
        return  # already signed, or already ended: nothing to publish
    signed = Agreement(event.offer_id, event.call_id, event.institution_id, AgreementStatus.SIGNED, event.valid_until)
    await db.insert_agreement(session, signed, event.at, event.programme_ids)
    for programme in await _agreement_programmes(session, event.institution_id, event.programme_ids, event.offer_id):
        if await _another_of_its_licence_is_active(session, programme):
            continue
        published = programme.signed_under(event.call_id, event.at, event.valid_until)
        await db.save_publication(session, published)
        if not programme.published:
            names = await providers_db.institution_names(session, [programme.institution_id])
            await record_event(
                session, _published_event(published, event.offer_id, names.get(programme.institution_id))
            )


async def _another_of_its_licence_is_active(session: AsyncSession, programme: Programme) -> bool:
    """A withdrawn programme returns only while no other programme of its licence is active: the case of the
    duplicate drafts revision 0004 withdrew (since then an institution registers a licence once)."""
    if programme.status != ProgrammeStatus.WITHDRAWN:
        return False
    other = await db.programme_with_licence(
        session, programme.institution_id, programme.spec.licence_number, active_only=True
    )
    if other is None:
        return False
    log.warning("agreement.licence_already_active", programme_id=str(programme.id), active_programme_id=str(other.id))
    return True


async def agreement_ended(session: AsyncSession, event: CooperationAgreementEnded) -> None:
    """The agreement ended: its programmes leave the public catalogue unless another agreement still covers them.
    Their scheduled groups stay as they are: learners already enrolled finish their studies."""
    status = await db.agreement_status(session, event.offer_id)
    if status is None:
        ended = Agreement(event.offer_id, event.call_id, event.institution_id, AgreementStatus.ENDED, None)
        await db.insert_agreement(session, ended, event.at)
        return
    if status == AgreementStatus.ENDED:
        return
    await db.end_agreement(session, event.offer_id, event.at)
    for programme in await _agreement_programmes(session, event.institution_id, event.programme_ids, event.offer_id):
        after = programme.agreement_ended(await db.active_agreement_of(session, programme.id))
        if after == programme:
            continue
        await db.save_publication(session, after)
        if programme.published and not after.published:
            withdrawn = ProgrammeWithdrawn(
                programme_id=programme.id, institution_id=programme.institution_id, at=event.at
            )
            await record_event(session, withdrawn)
