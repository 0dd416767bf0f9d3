"""Use cases of the catalog service: one function per command, each in one unit of work.

Who may act for an institution comes from catalog's own membership table (a user belongs to one
institution): another institution's drafts, groups and learners are simply not found. Agency roles
come from the token and are checked by the API.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from prasmes_contracts.accounts import EnrolmentConfirmed, StudiesCompleted, StudiesDiscontinued, StudiesStarted
from prasmes_contracts.calls import CooperationAgreementEnded, CooperationAgreementSigned
from prasmes_contracts.catalog import (
    CoefficientTableChanged,
    GroupChanged,
    GroupScheduled,
    ProgrammePublished,
    ProgrammeRegistered,
    ProgrammeWithdrawn,
    ProviderApproved,
    ProviderRegistered,
    ProviderRejected,
    ProviderUserAdded,
    ProviderUserRemoved,
)
from prasmes_runtime.clock import RIGA, Clock, today_in_riga
from prasmes_runtime.db import Database
from prasmes_runtime.errors import Conflict, Forbidden, InvalidInput, NotFound
from prasmes_runtime.logging import get_logger
from prasmes_runtime.outbox import record_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from catalog import db, domain, signatures
from catalog.domain import (
    CatalogueQuery,
    CoefficientTable,
    Document,
    DocumentPurpose,
    Enrolment,
    EnrolmentStatus,
    GroupInput,
    GroupStatus,
    Institution,
    InstitutionStatus,
    Location,
    Membership,
    OutcomeCounts,
    Programme,
    ProgrammeInput,
    ProgrammeStatus,
    ProviderRole,
    PublicRating,
    RatingSummary,
    RuleCheck,
    StudyGroup,
)
from catalog.registers import RegisteredInstitution, Registers

log = get_logger(__name__)


# --------------------------------------------------------------------------- access


async def _acting_member(
    session: AsyncSession,
    user_id: str,
    institution_id: uuid.UUID,
    *,
    admin: bool = False,
    approved: bool = True,
) -> tuple[Institution, Membership]:
    """The institution the user acts for; anyone else's is not found."""
    membership = await db.membership_of(session, user_id)
    institution = None
    if membership is not None and membership.institution_id == institution_id:
        institution = await db.institution_by_id(session, institution_id)
    if institution is None or membership is None:
        raise NotFound(f"no institution {institution_id}")
    if admin and membership.role != ProviderRole.ADMIN:
        raise Forbidden("only the institution's provider_admin may do this")
    if approved and institution.status != InstitutionStatus.APPROVED:
        raise Conflict("the institution's registration is not approved", institution.summary())
    return institution, membership


async def _registered(registers: Registers, register_number: str) -> RegisteredInstitution:
    registered = await registers.institution(register_number)
    if registered is None:
        raise Conflict(
            "the register of education institutions no longer lists this institution",
            {"register_number": register_number},
        )
    return registered


# --------------------------------------------------------------------------- documents


async def upload_document(
    database: Database,
    clock: Clock,
    owner_id: str,
    purpose: DocumentPurpose,
    content: bytes,
    filename: str | None,
    declared_type: str | None,
) -> Document:
    """Store a document after checking by its content what it is (and, for a statement, that it is
    signed with a time stamp). The uploader then refers to it by id."""
    inspection = signatures.inspect(
        content,
        filename=filename,
        declared_type=declared_type,
        require_signature=purpose == DocumentPurpose.STATEMENT,
    )
    document_id = uuid.uuid4()
    sha256 = hashlib.sha256(content).hexdigest()
    async with database.transaction() as session:
        await db.insert_document(
            session, document_id, owner_id, purpose.value, filename, content, sha256, inspection, clock.now()
        )
        document = await db.document_meta(session, document_id)
    assert document is not None
    return document


async def _readable_document(session: AsyncSession, user_id: str, document_id: uuid.UUID, *, agency: bool) -> Document:
    document = await db.document_meta(session, document_id)
    if document is None:
        raise NotFound(f"no document {document_id}")
    if agency or document.owner_id == user_id:
        return document
    membership = await db.membership_of(session, user_id)
    if membership is not None and document.institution_id == membership.institution_id:
        return document
    raise NotFound(f"no document {document_id}")


async def document_info(database: Database, user_id: str, document_id: uuid.UUID, *, agency: bool) -> Document:
    async with database.session() as session:
        return await _readable_document(session, user_id, document_id, agency=agency)


async def document_content(
    database: Database, user_id: str, document_id: uuid.UUID, *, agency: bool
) -> tuple[Document, bytes]:
    async with database.session() as session:
        document = await _readable_document(session, user_id, document_id, agency=agency)
        content = await db.document_content(session, document_id)
    assert content is not None
    return document, content


async def _usable_document(
    session: AsyncSession,
    field: str,
    document_id: uuid.UUID,
    purpose: DocumentPurpose,
    user_id: str,
    institution_id: uuid.UUID | None,
) -> Document:
    """A document the user uploaded (or their institution holds) for this purpose."""
    document = await db.document_meta(session, document_id)
    own = document is not None and (
        document.owner_id == user_id or (institution_id is not None and document.institution_id == institution_id)
    )
    if document is None or not own:
        raise InvalidInput.of(field, "uploaded", "upload the document first (POST /catalog/documents) and give its id")
    if document.purpose != purpose:
        raise InvalidInput.of(field, "purpose", f"the document was uploaded as a {document.purpose.value}")
    if purpose == DocumentPurpose.STATEMENT and document.institution_id is not None:
        raise InvalidInput.of(field, "unused", "this statement already belongs to a registration")
    return document


# --------------------------------------------------------------------------- provider registration


@dataclass(frozen=True)
class RegistrationForm:
    name: str
    register_number: str
    legal_address: str
    admin_name: str
    admin_email: str
    statement_document_id: uuid.UUID


async def register_provider(
    database: Database, clock: Clock, registers: Registers, user_id: str, form: RegistrationForm
) -> Institution:
    registered = await registers.institution(form.register_number)
    institution = domain.register_institution(
        form.name,
        form.register_number,
        form.legal_address,
        form.admin_name,
        form.admin_email,
        user_id,
        form.statement_document_id,
        clock.now(),
        registered,
    )
    try:
        async with database.transaction() as session:
            return await _register(session, institution, user_id)
    except IntegrityError:
        async with database.session() as session:  # a concurrent registration won: say what it is
            await _refuse_second_registration(session, user_id, form.register_number)
        raise


async def _refuse_second_registration(session: AsyncSession, user_id: str, register_number: str) -> Institution | None:
    membership = await db.membership_of(session, user_id)
    if membership is not None:
        raise Conflict(
            "you already act for an education institution",
            {
                "institution_id": str(membership.institution_id),
                "role": membership.role.value,
                "active": membership.active,
            },
        )
    existing = await db.institution_by_number(session, register_number)
    if existing is not None and existing.status != InstitutionStatus.REJECTED:
        raise Conflict("this institution is already registered", existing.summary())
    return existing


async def _register(session: AsyncSession, institution: Institution, user_id: str) -> Institution:
    rejected = await _refuse_second_registration(session, user_id, institution.register_number)
    await _usable_document(
        session, "statement_document_id", institution.statement_document_id, DocumentPurpose.STATEMENT, user_id, None
    )
    if rejected is not None:  # a registration the agency rejected may be made again, under the same id
        institution = replace(institution, id=rejected.id)
        await db.replace_institution(session, institution)
    else:
        await db.insert_institution(session, institution)
    await db.attach_document(session, institution.statement_document_id, institution.id)
    membership = Membership(institution.id, user_id, ProviderRole.ADMIN, False, institution.registered_at, user_id)
    await db.insert_membership(session, membership)
    event = ProviderRegistered(
        institution_id=institution.id,
        at=institution.registered_at,
        name=institution.name,
        register_number=institution.register_number,
    )
    await record_event(session, event)
    return institution


@dataclass(frozen=True)
class RegistrationView:
    institution: Institution
    decision_due_on: date | None
    """The last Latvian working day on which to decide."""
    overdue: bool


def registration_view(institution: Institution, clock: Clock) -> RegistrationView:
    if institution.status != InstitutionStatus.PENDING:
        return RegistrationView(institution, None, False)
    due = domain.decision_due(institution.registered_at)
    last_day = domain.next_working_day(institution.registered_at.astimezone(RIGA).date())
    return RegistrationView(institution, last_day, clock.now() >= due)


async def list_registrations(
    database: Database, clock: Clock, status: InstitutionStatus | None, overdue_only: bool
) -> list[RegistrationView]:
    """For the agency. Overdue: still pending after one Latvian working day."""
    if overdue_only:
        status = InstitutionStatus.PENDING
    async with database.session() as session:
        found = await db.institutions_with_status(session, status)
    views = [registration_view(i, clock) for i in found]
    return [v for v in views if v.overdue] if overdue_only else views


async def institution_for(
    database: Database, clock: Clock, user_id: str, institution_id: uuid.UUID, *, agency: bool
) -> RegistrationView:
    async with database.session() as session:
        if agency:
            institution = await db.institution_by_id(session, institution_id)
            if institution is None:
                raise NotFound(f"no institution {institution_id}")
        else:
            institution, _ = await _acting_member(session, user_id, institution_id, approved=False)
    return registration_view(institution, clock)


async def my_institution(database: Database, clock: Clock, user_id: str) -> tuple[RegistrationView, Membership]:
    async with database.session() as session:
        membership = await db.membership_of(session, user_id)
        institution = await db.institution_by_id(session, membership.institution_id) if membership else None
    if institution is None or membership is None:
        raise NotFound("you do not act for an education institution")
    return registration_view(institution, clock), membership


async def approve_provider(database: Database, clock: Clock, officer_id: str, institution_id: uuid.UUID) -> Institution:
    now = clock.now()
    async with database.transaction() as session:
        await _decide(session, institution_id, InstitutionStatus.APPROVED, now, officer_id)
        await db.activate_members(session, institution_id)
        await record_event(session, ProviderApproved(institution_id=institution_id, at=now))
        for member in await db.members_of(session, institution_id):
            added = ProviderUserAdded(
                institution_id=institution_id, at=now, user_id=member.user_id, role=member.role.value
            )
            await record_event(session, added)
        institution = await db.institution_by_id(session, institution_id)
    assert institution is not None
    return institution


async def reject_provider(
    database: Database, clock: Clock, officer_id: str, institution_id: uuid.UUID, reason_code: str, reason: str
) -> Institution:
    if reason_code not in domain.REJECTION_REASONS:
        raise InvalidInput.of("reason_code", "known", f"one of {list(domain.REJECTION_REASONS)}")
    if not reason.strip():
        raise InvalidInput.of("reason", "required", "say why, for the institution")
    now = clock.now()
    async with database.transaction() as session:
        await _decide(session, institution_id, InstitutionStatus.REJECTED, now, officer_id, reason_code, reason.strip())
        await db.delete_members_of(session, institution_id)  # the registrant may register again
        event = ProviderRejected(institution_id=institution_id, at=now, reason_code=reason_code)
        await record_event(session, event)
        institution = await db.institution_by_id(session, institution_id)
    assert institution is not None
    return institution


async def _decide(
    session: AsyncSession,
    institution_id: uuid.UUID,
    status: InstitutionStatus,
    now: datetime,
    officer_id: str,
    reason_code: str | None = None,
    reason: str | None = None,
) -> None:
    institution = await db.institution_by_id(session, institution_id)
    if institution is None:
        raise NotFound(f"no institution {institution_id}")
    decided = await db.set_decision(session, institution_id, status, now, officer_id, reason_code, reason)
    if not decided or institution.status != InstitutionStatus.PENDING:
        current = await db.institution_by_id(session, institution_id)
        assert current is not None
        raise Conflict("the registration was already decided", current.summary())


# --------------------------------------------------------------------------- provider users


async def members(database: Database, user_id: str, institution_id: uuid.UUID) -> list[Membership]:
    async with database.session() as session:
        await _acting_member(session, user_id, institution_id, approved=False)
        return await db.members_of(session, institution_id)


async def add_staff(
    database: Database, clock: Clock, admin_id: str, institution_id: uuid.UUID, user_id: str
) -> Membership:
    user_id = user_id.strip()
    if not user_id or len(user_id) > 64:
        raise InvalidInput.of("user_id", "format", "the user's id (1 to 64 characters)")
    now = clock.now()
    membership = Membership(institution_id, user_id, ProviderRole.STAFF, True, now, admin_id)
    try:
        async with database.transaction() as session:
            await _acting_member(session, admin_id, institution_id, admin=True)
            await _refuse_member_elsewhere(session, user_id, institution_id)
            await db.insert_membership(session, membership)
            added = ProviderUserAdded(institution_id=institution_id, at=now, user_id=user_id, role="provider_staff")
            await record_event(session, added)
    except IntegrityError:
        async with database.session() as session:
            await _refuse_member_elsewhere(session, user_id, institution_id)
        raise
    return membership


async def _refuse_member_elsewhere(session: AsyncSession, user_id: str, institution_id: uuid.UUID) -> None:
    existing = await db.membership_of(session, user_id)
    if existing is None:
        return
    if existing.institution_id == institution_id:
        raise Conflict("the user already acts for this institution", {"user_id": user_id, "role": existing.role.value})
    # Which other institution is none of this institution's business.
    raise Conflict("the user already acts for another education institution", {"user_id": user_id})


async def remove_user(database: Database, clock: Clock, admin_id: str, institution_id: uuid.UUID, user_id: str) -> None:
    now = clock.now()
    async with database.transaction() as session:
        await _acting_member(session, admin_id, institution_id, admin=True)
        target = await db.membership_of(session, user_id)
        if target is None or target.institution_id != institution_id:
            raise NotFound(f"no user {user_id} in this institution")
        if user_id == admin_id:
            raise Conflict("the provider_admin cannot remove themself", {"user_id": user_id, "role": target.role.value})
        await db.delete_membership(session, institution_id, user_id)
        removed = ProviderUserRemoved(institution_id=institution_id, at=now, user_id=user_id)
        await record_event(session, removed)


# --------------------------------------------------------------------------- locations


async def add_location(
    database: Database, clock: Clock, registers: Registers, user_id: str, institution_id: uuid.UUID, address: str
) -> Location:
    async with database.session() as session:
        institution, _ = await _acting_member(session, user_id, institution_id, admin=True)
    registered = await _registered(registers, institution.register_number)
    canonical, city, viis_id = domain.match_viis_address("address", address, registered)
    location = Location(uuid.uuid4(), institution_id, canonical, city, viis_id, clock.now())
    try:
        async with database.transaction() as session:
            await _refuse_known_location(session, institution_id, viis_id)
            await db.insert_location(session, location)
    except IntegrityError:
        async with database.session() as session:
            await _refuse_known_location(session, institution_id, viis_id)
        raise
    return location


async def _refuse_known_location(session: AsyncSession, institution_id: uuid.UUID, viis_id: str) -> None:
    for known in await db.locations_of(session, institution_id):
        if known.viis_id == viis_id:
            raise Conflict(
                "this address is already a location", {"location_id": str(known.id), "address": known.address}
            )


async def locations(database: Database, user_id: str, institution_id: uuid.UUID) -> list[Location]:
    async with database.session() as session:
        await _acting_member(session, user_id, institution_id, approved=False)
        return await db.locations_of(session, institution_id)


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
    hourly_rate: Decimal,
    coefficients: Mapping[str, Decimal],
    valid_from: date,
) -> CoefficientTable:
    """A new version of the table; programmes keep the version their cost was computed with."""
    if valid_from < today_in_riga(clock):
        raise InvalidInput.of("valid_from", "not_in_past", "a new table cannot apply to the past")
    now = clock.now()
    try:
        async with database.transaction() as session:
            version = await db.latest_coefficient_version(session) + 1
            table = domain.new_coefficient_table(version, hourly_rate, coefficients, valid_from, now, admin_id)
            await db.insert_coefficient_table(session, table)
            event = CoefficientTableChanged(
                table_version=version,
                hourly_rate=table.hourly_rate,
                coefficients=dict(table.coefficients),
                valid_from=valid_from,
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
        institution, _ = await _acting_member(session, user_id, institution_id, admin=True)
    registered = await _registered(registers, institution.register_number)
    now = clock.now()
    async with database.transaction() as session:
        table = await db.current_coefficient_table(session, today_in_riga(clock))
        if table is None:
            raise Conflict("no coefficient table is in force: the agency must publish one", {})
        own = [loc.id for loc in await db.locations_of(session, institution_id)]
        await _usable_document(
            session,
            "curriculum_document_id",
            spec.curriculum_document_id,
            DocumentPurpose.CURRICULUM,
            user_id,
            institution_id,
        )
        licence = registered.licence(spec.licence_number)
        programme = domain.register_programme(institution_id, spec, licence, table, own, user_id, now)
        cities = await db.location_cities(session, spec.location_ids)
        await db.insert_programme(session, programme, domain.programme_search_text(spec, institution.name, cities))
        await db.attach_document(session, spec.curriculum_document_id, institution_id)
        await record_event(session, _registered_event(programme))
    return programme


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


async def programmes_of(database: Database, user_id: str, institution_id: uuid.UUID) -> list[Programme]:
    async with database.session() as session:
        await _acting_member(session, user_id, institution_id, approved=False)
        return await db.programmes_of(session, institution_id)


async def _own_programme(
    session: AsyncSession, user_id: str, institution_id: uuid.UUID, programme_id: uuid.UUID, *, admin: bool = False
) -> Programme:
    await _acting_member(session, user_id, institution_id, admin=admin, approved=admin)
    programme = await db.programme_by_id(session, programme_id)
    if programme is None or programme.institution_id != institution_id:
        raise NotFound(f"no programme {programme_id}")
    return programme


async def programme_of(
    database: Database, user_id: str, institution_id: uuid.UUID, programme_id: uuid.UUID
) -> Programme:
    async with database.session() as session:
        return await _own_programme(session, user_id, institution_id, programme_id)


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
    await db.save_agreement(
        session, event.offer_id, event.call_id, event.institution_id, event.programme_ids, event.valid_until, event.at
    )
    for programme in await _agreement_programmes(session, event.institution_id, event.programme_ids, event.offer_id):
        if programme.status == ProgrammeStatus.PUBLISHED:
            until = max(programme.publication_valid_until or event.valid_until, event.valid_until)
            await db.set_publication(
                session,
                programme.id,
                ProgrammeStatus.PUBLISHED,
                at=programme.published_at,
                valid_until=until,
                call_id=programme.call_id,
            )
            continue
        published = replace(
            programme,
            status=ProgrammeStatus.PUBLISHED,
            published_at=event.at,
            publication_valid_until=event.valid_until,
            call_id=event.call_id,
        )
        await db.set_publication(
            session,
            programme.id,
            ProgrammeStatus.PUBLISHED,
            at=event.at,
            valid_until=event.valid_until,
            call_id=event.call_id,
        )
        names = await db.institution_names(session, [programme.institution_id])
        await record_event(
            session,
            _published_event(published, event.offer_id, names.get(programme.institution_id)),
        )


async def agreement_ended(session: AsyncSession, event: CooperationAgreementEnded) -> None:
    """The agreement ended: its programmes leave the public catalogue unless another agreement still covers them.
    Their scheduled groups stay as they are: learners already enrolled finish their studies."""
    status = await db.agreement_status(session, event.offer_id)
    if status is None:
        await db.insert_ended_agreement(session, event.offer_id, event.call_id, event.institution_id, event.at)
        return
    if status == "ended":
        return
    await db.end_agreement(session, event.offer_id, event.at)
    for programme in await _agreement_programmes(session, event.institution_id, event.programme_ids, event.offer_id):
        other = await db.active_agreement_of(session, programme.id)
        if other is not None:
            await db.set_publication(
                session,
                programme.id,
                ProgrammeStatus.PUBLISHED,
                at=programme.published_at,
                valid_until=other.valid_until,
                call_id=other.call_id,
            )
        elif programme.status == ProgrammeStatus.PUBLISHED:
            await db.set_publication(
                session, programme.id, ProgrammeStatus.WITHDRAWN, at=None, valid_until=None, call_id=None
            )
            withdrawn = ProgrammeWithdrawn(
                programme_id=programme.id, institution_id=programme.institution_id, at=event.at
            )
            await record_event(session, withdrawn)


# --------------------------------------------------------------------------- study groups


def _group_event(
    group: StudyGroup, event_type: type[GroupScheduled] | type[GroupChanged], at: datetime
) -> GroupScheduled | GroupChanged:
    return event_type(
        group_id=group.id,
        programme_id=group.programme_id,
        institution_id=group.institution_id,
        at=at,
        capacity=group.spec.capacity,
        start_date=group.spec.start_date,
        end_date=group.spec.end_date,
        city=group.city,
        language=group.spec.language,
        status=group.status.value,
        location_id=group.spec.location_id,
        entry_level=group.spec.entry_level,
    )


async def schedule_group(
    database: Database, clock: Clock, user_id: str, institution_id: uuid.UUID, programme_id: uuid.UUID, spec: GroupInput
) -> StudyGroup:
    now = clock.now()
    async with database.transaction() as session:
        programme = await _own_programme(session, user_id, institution_id, programme_id, admin=True)
        if programme.status != ProgrammeStatus.PUBLISHED:
            raise Conflict("groups are scheduled for published programmes only", programme.summary())
        domain.validate_group(spec, programme, today_in_riga(clock))
        location = await db.location_by_id(session, spec.location_id)
        assert location is not None  # a programme's locations are the institution's own
        group = StudyGroup(
            uuid.uuid4(), programme_id, institution_id, spec, location.city, GroupStatus.SCHEDULED, 0, now, now
        )
        await db.insert_group(session, group)
        await record_event(session, _group_event(group, GroupScheduled, now))
    return group


@dataclass(frozen=True)
class GroupChanges:
    location_id: uuid.UUID | None = None
    start_date: date | None = None
    end_date: date | None = None
    schedule: str | None = None
    capacity: int | None = None
    language: str | None = None
    entry_level: int | None = None
    cancelled: bool = False


async def change_group(
    database: Database,
    clock: Clock,
    user_id: str,
    institution_id: uuid.UUID,
    group_id: uuid.UUID,
    changes: GroupChanges,
) -> StudyGroup:
    now = clock.now()
    async with database.transaction() as session:
        await _acting_member(session, user_id, institution_id, admin=True)
        group = await _own_group(session, institution_id, group_id)
        if group.status == GroupStatus.CANCELLED:
            raise Conflict("the group is cancelled", group.summary())
        changed = _apply(group, changes, now)
        if changed.status == GroupStatus.CANCELLED and group.enrolled > 0:
            raise Conflict("a group with enrolled learners cannot be cancelled", group.summary())
        programme = await db.programme_by_id(session, group.programme_id)
        assert programme is not None
        starts_anew = changes.start_date is not None and changes.start_date != group.spec.start_date
        domain.validate_group(changed.spec, programme, today_in_riga(clock), group.enrolled, new=starts_anew)
        location = await db.location_by_id(session, changed.spec.location_id)
        assert location is not None
        changed = replace(changed, city=location.city)
        await db.update_group(session, changed)
        await record_event(session, _group_event(changed, GroupChanged, now))
        stored = await db.group_by_id(session, group_id)
    assert stored is not None
    return stored


def _apply(group: StudyGroup, changes: GroupChanges, now: datetime) -> StudyGroup:
    given = {k: v for k, v in asdict(changes).items() if v is not None and k != "cancelled"}
    status = GroupStatus.CANCELLED if changes.cancelled else group.status
    return replace(group, spec=replace(group.spec, **given), status=status, updated_at=now)


async def _own_group(session: AsyncSession, institution_id: uuid.UUID, group_id: uuid.UUID) -> StudyGroup:
    group = await db.group_by_id(session, group_id)
    if group is None or group.institution_id != institution_id:
        raise NotFound(f"no group {group_id}")
    return group


async def groups_of(database: Database, user_id: str, institution_id: uuid.UUID) -> list[StudyGroup]:
    async with database.session() as session:
        await _acting_member(session, user_id, institution_id)
        return await db.groups_of_institution(session, institution_id)


async def group_with_learners(
    database: Database, user_id: str, institution_id: uuid.UUID, group_id: uuid.UUID
) -> tuple[StudyGroup, list[Enrolment]]:
    """The provider's view of one group: its learners' progress (opaque learner ids, no personal data)."""
    async with database.session() as session:
        await _acting_member(session, user_id, institution_id)
        group = await _own_group(session, institution_id, group_id)
        return group, await db.enrolments_of_group(session, group_id)


# --------------------------------------------------------------------------- enrolments and study progress


async def enrolment_confirmed(session: AsyncSession, event: EnrolmentConfirmed) -> None:
    """A place is taken. Free places = capacity - confirmed enrolments. A later discontinuation does not
    free the place: the group has started and the grant is spent, so nobody else can take it mid-course."""
    if await db.enrolment_by_id(session, event.enrolment_id) is not None:
        return
    enrolment = Enrolment(
        event.enrolment_id,
        event.group_id,
        event.programme_id,
        event.institution_id,
        event.learner_id,
        EnrolmentStatus.ENROLLED,
        event.at,
    )
    await db.save_enrolment(session, enrolment, new=True)
    if await db.group_by_id(session, event.group_id) is None:
        log.warning("enrolment.unknown_group", enrolment_id=str(event.enrolment_id), group_id=str(event.group_id))
        return
    await db.count_enrolment(session, event.group_id, event.at)


async def study_progress(session: AsyncSession, event: StudiesStarted | StudiesDiscontinued | StudiesCompleted) -> None:
    existing = await db.enrolment_by_id(session, event.enrolment_id)
    base = existing or Enrolment(
        event.enrolment_id,
        event.group_id,
        event.programme_id,
        event.institution_id,
        event.learner_id,
        EnrolmentStatus.ENROLLED,
        None,
    )
    if isinstance(event, StudiesStarted):
        if base.status in (EnrolmentStatus.COMPLETED, EnrolmentStatus.DISCONTINUED):
            return  # the outcome is already known; a start cannot undo it
        updated = replace(base, status=EnrolmentStatus.STARTED, started_on=event.started_on)
    elif isinstance(event, StudiesDiscontinued):
        updated = replace(base, status=EnrolmentStatus.DISCONTINUED, ended_on=event.discontinued_on)
    else:
        updated = replace(
            base,
            status=EnrolmentStatus.COMPLETED,
            ended_on=event.completed_on,
            hours_attended=event.hours_attended,
            result=event.result[:200],
        )
    await db.save_enrolment(session, updated, new=existing is None)


# --------------------------------------------------------------------------- ratings (fed by surveys)


async def record_rating_summary(session: AsyncSession, summary: RatingSummary, clock: Clock) -> None:
    """The surveys issue wires its rating events to this: the latest aggregate for one programme."""
    domain.validate_rating_summary(summary)
    await db.save_rating(session, summary, clock.now())


# --------------------------------------------------------------------------- the public catalogue


@dataclass(frozen=True)
class CatalogueEntry:
    programme: Programme
    institution_name: str
    groups: list[StudyGroup]
    rating: PublicRating
    outcomes: OutcomeCounts


async def _entries(session: AsyncSession, found: list[tuple[Programme, str]], today: date) -> list[CatalogueEntry]:
    ids = [p.id for p, _ in found]
    groups = await db.upcoming_groups(session, ids, today)
    outcomes = await db.outcome_counts(session, ids)
    ratings = await db.ratings(session, ids)
    return [
        CatalogueEntry(
            programme=p,
            institution_name=name,
            groups=groups.get(p.id, []),
            rating=domain.public_rating(ratings.get(p.id)),
            outcomes=outcomes.get(p.id, OutcomeCounts(0, 0, 0)),
        )
        for p, name in found
    ]


async def search_catalogue(database: Database, clock: Clock, query: CatalogueQuery) -> tuple[list[CatalogueEntry], int]:
    query.validate()
    today = today_in_riga(clock)
    async with database.session() as session:
        found, total = await db.search_programmes(session, query, today)
        return await _entries(session, found, today), total


async def public_programme(database: Database, clock: Clock, programme_id: uuid.UUID) -> CatalogueEntry:
    today = today_in_riga(clock)
    async with database.session() as session:
        programme = await db.programme_by_id(session, programme_id)
        if programme is None or programme.status != ProgrammeStatus.PUBLISHED:
            raise NotFound(f"no published programme {programme_id}")
        names = await db.institution_names(session, [programme.institution_id])
        (entry,) = await _entries(session, [(programme, names.get(programme.institution_id, ""))], today)
    return entry


# --------------------------------------------------------------------------- the registers, for other services


async def register_extract(
    registers: Registers, clock: Clock, register_number: str
) -> tuple[RegisteredInstitution, list[RuleCheck]]:
    registered = await registers.institution(register_number)
    if registered is None:
        raise NotFound(f"the register of education institutions has no institution {register_number}")
    return registered, domain.eligibility_checks(registered, today_in_riga(clock))
