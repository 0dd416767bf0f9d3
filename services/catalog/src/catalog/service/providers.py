"""Documents, the registration of an education institution and the agency's decision, the institution's
users and locations, and the registers' extract for other services."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from prasmes_contracts.catalog import (
    ProviderApproved,
    ProviderRegistered,
    ProviderRejected,
    ProviderUserAdded,
    ProviderUserRemoved,
)
from prasmes_runtime.clock import Clock, today_in_riga
from prasmes_runtime.db import Database
from prasmes_runtime.errors import Conflict, NotFound, Unavailable
from prasmes_runtime.logging import get_logger
from prasmes_runtime.outbox import record_event, record_events
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.adapters import signatures
from catalog.adapters.directory import Directory
from catalog.adapters.registers import Registers
from catalog.db import providers as db
from catalog.domain import providers as domain
from catalog.domain.providers import (
    Document,
    DocumentPurpose,
    Institution,
    InstitutionStatus,
    Location,
    Member,
    Membership,
    RegisteredInstitution,
    RegistrationChecks,
    RegistrationView,
    RuleCheck,
)

log = get_logger(__name__)

# --------------------------------------------------------------------------- access (also for programmes and groups)


async def acting_member(
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
    return domain.acting_for(membership, institution, institution_id, admin=admin, approved=approved)


async def registered_institution(registers: Registers, register_number: str) -> RegisteredInstitution:
    return domain.still_registered(await registers.institution(register_number), register_number)


async def usable_document(
    session: AsyncSession,
    field: str,
    document_id: uuid.UUID,
    purpose: DocumentPurpose,
    user_id: str,
    institution_id: uuid.UUID | None,
) -> Document:
    document = await db.document_meta(session, document_id)
    return domain.usable_document(document, field, purpose, user_id, institution_id)


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
        content, filename=filename, declared_type=declared_type, require_signature=purpose.requires_signature
    )
    document = Document(
        id=uuid.uuid4(),
        owner_id=owner_id,
        institution_id=None,
        purpose=purpose,
        format=inspection.format.value,
        media_type=inspection.media_type,
        filename=filename,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        signatures=inspection.signatures,
        timestamps=inspection.timestamps,
        signing_time=inspection.signing_time,
        timestamp_time=inspection.timestamp_time,
        uploaded_at=clock.now(),
    )
    async with database.transaction() as session:
        await db.insert_document(session, document, content)
        stored = await db.document_meta(session, document.id)
    assert stored is not None
    return stored


async def _readable_document(session: AsyncSession, user_id: str, document_id: uuid.UUID, *, agency: bool) -> Document:
    document = await db.document_meta(session, document_id)
    membership = await db.membership_of(session, user_id) if document is not None else None
    if document is None or not document.readable_by(user_id, membership, agency=agency):
        raise NotFound(f"no document {document_id}")
    return document


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


# --------------------------------------------------------------------------- registration and decision


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
) -> RegistrationView:
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
            institution = await _register(session, institution)
    except IntegrityError:
        async with database.session() as session:  # a concurrent registration won: say what it is
            await _refuse_second_registration(session, user_id, form.register_number)
        raise
    return domain.registration_view(institution, clock.now())


async def _refuse_second_registration(session: AsyncSession, user_id: str, register_number: str) -> Institution | None:
    membership = await db.membership_of(session, user_id)
    existing = await db.institution_by_number(session, register_number) if membership is None else None
    return domain.refuse_second_registration(membership, existing)


async def _register(session: AsyncSession, institution: Institution) -> Institution:
    user_id = institution.registered_by
    rejected = await _refuse_second_registration(session, user_id, institution.register_number)
    await usable_document(
        session, "statement_document_id", institution.statement_document_id, DocumentPurpose.STATEMENT, user_id, None
    )
    institution = institution.registered_again(rejected)
    if rejected is not None:
        await db.replace_institution(session, institution)
    else:
        await db.insert_institution(session, institution)
    await db.attach_document(session, institution.statement_document_id, institution.id)
    await db.insert_membership(session, domain.registrant_membership(institution))
    event = ProviderRegistered(
        institution_id=institution.id,
        at=institution.registered_at,
        name=institution.name,
        register_number=institution.register_number,
        registered_by=institution.registered_by,
    )
    await record_event(session, event)
    return institution


async def list_registrations(
    database: Database, clock: Clock, status: InstitutionStatus | None, overdue_only: bool
) -> list[RegistrationView]:
    """For the agency. Overdue: still pending after one Latvian working day."""
    if overdue_only:
        status = InstitutionStatus.PENDING
    async with database.session() as session:
        found = await db.institutions_with_status(session, status)
    now = clock.now()
    views = [domain.registration_view(i, now) for i in found]
    return [v for v in views if v.overdue] if overdue_only else views


async def registrations_checked(
    database: Database,
    clock: Clock,
    registers: Registers,
    status: InstitutionStatus | None,
    overdue_only: bool,
    limit: int | None,
    offset: int,
) -> tuple[list[RegistrationChecks], int]:
    """The agency's page of registrations (oldest first) with what the register says of each now and what the
    signature check found in its statement; and how many match in all."""
    views = await list_registrations(database, clock, status, overdue_only)
    page = views[offset : offset + limit] if limit is not None else views[offset:]
    async with database.session() as session:
        statements = await db.documents_meta(session, [v.institution.statement_document_id for v in page])
    today = today_in_riga(clock)
    checked = []
    for view in page:
        registered = await registers.institution(view.institution.register_number)
        finding = domain.register_finding(view.institution, registered, today)
        checked.append(RegistrationChecks(view, finding, statements.get(view.institution.statement_document_id)))
    return checked, len(views)


async def institution_for(
    database: Database, clock: Clock, user_id: str, institution_id: uuid.UUID, *, agency: bool
) -> RegistrationView:
    async with database.session() as session:
        if agency:
            institution = await _institution(session, institution_id)
        else:
            institution, _ = await acting_member(session, user_id, institution_id, approved=False)
    return domain.registration_view(institution, clock.now())


async def my_institution(database: Database, clock: Clock, user_id: str) -> tuple[RegistrationView, Membership]:
    async with database.session() as session:
        membership = await db.membership_of(session, user_id)
        institution = await db.institution_by_id(session, membership.institution_id) if membership else None
    if institution is None or membership is None:
        raise NotFound("you do not act for an education institution")
    return domain.registration_view(institution, clock.now()), membership


async def _institution(session: AsyncSession, institution_id: uuid.UUID) -> Institution:
    institution = await db.institution_by_id(session, institution_id)
    if institution is None:
        raise NotFound(f"no institution {institution_id}")
    return institution


async def _save_decision(session: AsyncSession, decided: Institution) -> Institution:
    """The decision stored, or a 409 with the registration as a concurrent decision left it."""
    if not await db.save_decision(session, decided):
        current = await _institution(session, decided.id)
        raise Conflict("the registration was already decided", current.summary())
    return await _institution(session, decided.id)


async def approve_provider(
    database: Database, clock: Clock, officer_id: str, institution_id: uuid.UUID
) -> RegistrationView:
    now = clock.now()
    async with database.transaction() as session:
        institution = await _institution(session, institution_id)
        institution = await _save_decision(session, institution.approved(now, officer_id))
        await db.activate_members(session, institution_id)
        added = [
            ProviderUserAdded(institution_id=institution_id, at=now, user_id=member.user_id, role=member.role.value)
            for member in await db.members_of(session, institution_id)
        ]
        await record_events(session, [ProviderApproved(institution_id=institution_id, at=now), *added])
    return domain.registration_view(institution, clock.now())


async def reject_provider(
    database: Database, clock: Clock, officer_id: str, institution_id: uuid.UUID, reason_code: str, reason: str
) -> RegistrationView:
    code, words = domain.rejection(reason_code, reason)
    now = clock.now()
    async with database.transaction() as session:
        institution = await _institution(session, institution_id)
        institution = await _save_decision(session, institution.rejected(now, officer_id, code, words))
        await db.delete_members_of(session, institution_id)  # the registrant may register again
        await record_event(session, ProviderRejected(institution_id=institution_id, at=now, reason_code=code.value))
    return domain.registration_view(institution, clock.now())


# --------------------------------------------------------------------------- users


async def members(
    database: Database, directory: Directory, user_id: str, institution_id: uuid.UUID, token: str, *, agency: bool
) -> list[Member]:
    """The institution's users, for its own users and the agency; with their names (asked of the identity
    provider now, never stored) for those who may see them. A directory that does not answer leaves names out."""
    async with database.session() as session:
        if agency:
            await _institution(session, institution_id)
            membership = None
        else:
            _, membership = await acting_member(session, user_id, institution_id, approved=False)
        found = await db.members_of(session, institution_id)
    names: dict[str, str] = {}
    if found and domain.sees_names(membership, institution_id, agency=agency):
        try:
            names = await directory.names([m.user_id for m in found], token)
        except Unavailable:
            log.warning("members.names_unavailable", institution_id=str(institution_id))
    return [Member(m, names.get(m.user_id)) for m in found]


async def add_staff(
    database: Database,
    clock: Clock,
    directory: Directory,
    admin_id: str,
    institution_id: uuid.UUID,
    username: str | None,
    email: str | None,
    token: str,
) -> Member:
    """Invite a person the identity provider knows by their user name or e-mail address (asked only once the caller
    is the institution's admin: nobody learns through catalog who has an account)."""
    invited = domain.invitee(username, email)
    async with database.session() as session:
        await acting_member(session, admin_id, institution_id, admin=True)
    user = await directory.find(invited.username, invited.email, token)
    if user is None:
        raise domain.unknown_invitee(invited)
    membership = domain.staff_membership(institution_id, invited, user.subject, admin_id, clock.now())
    try:
        async with database.transaction() as session:
            await acting_member(session, admin_id, institution_id, admin=True)
            await _refuse_member_elsewhere(session, membership.user_id, institution_id)
            await db.insert_membership(session, membership)
            added = ProviderUserAdded(
                institution_id=institution_id,
                at=membership.added_at,
                user_id=membership.user_id,
                role=membership.role.value,
            )
            await record_event(session, added)
    except IntegrityError:
        async with database.session() as session:
            await _refuse_member_elsewhere(session, membership.user_id, institution_id)
        raise
    return Member(membership, user.display_name)


async def _refuse_member_elsewhere(session: AsyncSession, user_id: str, institution_id: uuid.UUID) -> None:
    domain.refuse_member_elsewhere(await db.membership_of(session, user_id), user_id, institution_id)


async def remove_user(database: Database, clock: Clock, admin_id: str, institution_id: uuid.UUID, user_id: str) -> None:
    now = clock.now()
    async with database.transaction() as session:
        await acting_member(session, admin_id, institution_id, admin=True)
        domain.removable_member(await db.membership_of(session, user_id), institution_id, user_id, admin_id)
        await db.delete_membership(session, institution_id, user_id)
        await record_event(session, ProviderUserRemoved(institution_id=institution_id, at=now, user_id=user_id))


# --------------------------------------------------------------------------- locations


async def add_location(
    database: Database, clock: Clock, registers: Registers, user_id: str, institution_id: uuid.UUID, address: str
) -> Location:
    async with database.session() as session:
        institution, _ = await acting_member(session, user_id, institution_id, admin=True)
    registered = await registered_institution(registers, institution.register_number)
    location = domain.new_location(institution_id, address, registered, clock.now())
    try:
        async with database.transaction() as session:
            await _refuse_known_location(session, institution_id, location.viis_id)
            await db.insert_location(session, location)
    except IntegrityError:
        async with database.session() as session:
            await _refuse_known_location(session, institution_id, location.viis_id)
        raise
    return location


async def _refuse_known_location(session: AsyncSession, institution_id: uuid.UUID, viis_id: str) -> None:
    domain.refuse_known_location(await db.locations_of(session, institution_id), viis_id)


async def locations(database: Database, user_id: str, institution_id: uuid.UUID) -> list[Location]:
    async with database.session() as session:
        await acting_member(session, user_id, institution_id, approved=False)
        return await db.locations_of(session, institution_id)


# --------------------------------------------------------------------------- the registers, for other services


async def register_extract(
    registers: Registers, clock: Clock, register_number: str
) -> tuple[RegisteredInstitution, list[RuleCheck]]:
    registered = await registers.institution(register_number)
    if registered is None:
        raise NotFound(f"the register of education institutions has no institution {register_number}")
    return registered, domain.eligibility_checks(registered, today_in_riga(clock))
