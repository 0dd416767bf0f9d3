"""Offers: drafted in three steps by an approved institution's provider_admin inside the offer window, checked,
submitted (frozen as a version), withdrawn and submitted again until the deadline; read back by the institution
and the agency."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from prasmes_contracts.calls import OfferSubmitted, OfferWithdrawn
from prasmes_documents import signatures
from prasmes_runtime.clock import Clock, today_in_riga
from prasmes_runtime.db import Database
from prasmes_runtime.errors import Conflict, Forbidden, InvalidInput, NotFound, Violation
from prasmes_runtime.logging import get_logger
from prasmes_runtime.outbox import record_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from calls.adapters.registers import Registers
from calls.db import offers as db
from calls.db import readmodels
from calls.domain.calls import Call
from calls.domain.checks import CheckInput, OfferNotReady, Problem, check_offer
from calls.domain.institutions import (
    NOT_APPROVED,
    Programme,
    Provider,
    RegisteredInstitution,
    acting_institution,
    in_force,
)
from calls.domain.offers import (
    Attachment,
    AttachmentKind,
    Location,
    Offer,
    OfferContent,
    OfferedProgramme,
    OfferState,
    OfferVersion,
    Terms,
    attach,
    current_attachments,
    detach,
)
from calls.service.calls import existing_call, follow_clock

log = get_logger(__name__)
MEDIA_TYPES = ("application/pdf", "application/vnd.etsi.asic-e+zip", "application/zip", "application/octet-stream")
"""What an attachment may be sent as; its content decides what it is."""
NO_OFFER = "no such offer"


@dataclass(frozen=True)
class Actor:
    """Who asks: a user id (the token's subject), whether agency staff, and the bearer token (for the registers)."""

    user_id: str
    agency: bool
    token: str


# --------------------------------------------------------------------------- access


async def acting_provider(session: AsyncSession, user_id: str, *, admin: bool) -> Provider:
    """The approved institution the provider user acts for (403 for a user of none)."""
    for user in await readmodels.users_of(session, user_id):
        provider = await readmodels.provider(session, user.institution_id)
        if provider is not None and provider.status == "approved":
            return acting_institution(user, provider, admin=admin)
    raise Forbidden(NOT_APPROVED)


async def _reachable(
    session: AsyncSession, actor: Actor, offer_id: uuid.UUID, *, admin: bool = False, lock: bool = False
) -> Offer:
    """The offer, if the actor may reach it: the agency any, a provider user their approved institution's (404);
    `admin`: to change it (the institution's provider_admin); `lock`: held until the transaction ends."""
    offer = await db.offer_by_id(session, offer_id, for_update=lock)
    if offer is None:
        raise NotFound(NO_OFFER)
    if actor.agency and not admin:
        return offer
    try:
        provider = await acting_provider(session, actor.user_id, admin=admin)
    except Forbidden:
        raise NotFound(NO_OFFER) from None
    if provider.institution_id != offer.institution_id:
        raise NotFound(NO_OFFER)
    return offer


# --------------------------------------------------------------------------- the draft


async def start_offer(database: Database, clock: Clock, actor: Actor, call_id: uuid.UUID) -> Offer:
    now = clock.now()
    try:
        async with database.transaction() as session:
            call = await existing_call(session, call_id)
            provider = await acting_provider(session, actor.user_id, admin=True)
            await _in_window(session, call, now, "draft an offer")
            existing = await db.offer_of(session, call_id, provider.institution_id)
            if existing is not None:
                raise Conflict("the institution has an offer to this call", existing.current())
            offer = Offer(uuid.uuid4(), call_id, provider.institution_id, "draft", 0, OfferContent(), now, now)
            await db.insert_offer(session, offer, actor.user_id)
    except IntegrityError:
        raise Conflict("the institution has an offer to this call", {"call_id": str(call_id)}) from None
    log.info("offer.started", offer_id=str(offer.id), call_id=str(call_id))
    return offer


async def _in_window(session: AsyncSession, call: Call, now: datetime, action: str) -> None:
    await follow_clock(session, call, now)
    call.require_offer_window(now, action)


async def _edit(
    database: Database, clock: Clock, actor: Actor, offer_id: uuid.UUID, change: Callable[[OfferContent], OfferContent]
) -> Offer:
    now = clock.now()
    async with database.transaction() as session:
        offer = await _reachable(session, actor, offer_id, admin=True, lock=True)
        await _in_window(session, await existing_call(session, offer.call_id), now, "edit an offer")
        offer.require_editable()
        content = change(offer.content)
        await _known_programmes(session, offer, content)
        changed = replace(offer, content=content, updated_at=now)
        if not await db.save_offer(session, changed, actor.user_id, expected_state=offer.state):
            raise Conflict("the offer changed meanwhile", offer.current())
    return changed


async def _known_programmes(session: AsyncSession, offer: Offer, content: OfferContent) -> None:
    known = {p.programme_id for p in await readmodels.programmes_of(session, offer.institution_id)}
    violations = [
        Violation(f"programmes[{i}].programme_id", "known_programme", "not a programme of the institution")
        for i, p in enumerate(content.programmes)
        if p.programme_id not in known
    ]
    if violations:
        raise InvalidInput(*violations)


async def set_locations(
    database: Database, clock: Clock, actor: Actor, offer_id: uuid.UUID, locations: tuple[Location, ...]
) -> Offer:
    """Step 1: every address where the programmes are delivered."""
    return await _edit(database, clock, actor, offer_id, lambda content: replace(content, locations=locations))


async def set_programmes(
    database: Database, clock: Clock, actor: Actor, offer_id: uuid.UUID, programmes: tuple[OfferedProgramme, ...]
) -> Offer:
    """Step 2: the programmes (the institution's, from catalog), their hours split, cost and provision."""
    return await _edit(database, clock, actor, offer_id, lambda content: replace(content, programmes=programmes))


async def set_terms(database: Database, clock: Clock, actor: Actor, offer_id: uuid.UUID, terms: Terms) -> Offer:
    """Step 3: the funding source, the ticked programmes, the confirmed statements."""
    return await _edit(database, clock, actor, offer_id, lambda content: replace(content, terms=terms))


async def _current(database: Database, actor: Actor, offer_id: uuid.UUID) -> Offer:
    async with database.session() as session:
        return await _reachable(session, actor, offer_id, admin=True)


async def get_offer(database: Database, actor: Actor, offer_id: uuid.UUID) -> tuple[Offer, list[Attachment]]:
    async with database.session() as session:
        offer = await _reachable(session, actor, offer_id)
        return offer, current_attachments(offer.content, await db.attachments_of(session, offer_id))


async def list_offers(
    database: Database, actor: Actor, call_id: uuid.UUID, limit: int, offset: int, state: OfferState | None = None
) -> tuple[list[Offer], int]:
    async with database.session() as session:
        await existing_call(session, call_id)
        institution = None if actor.agency else (await acting_provider(session, actor.user_id, admin=False))
        return await db.list_offers(
            session, call_id, institution.institution_id if institution else None, limit, offset, state
        )


async def my_programmes(database: Database, actor: Actor) -> list[Programme]:
    """The institution's programmes step 2 chooses from (catalog's read model)."""
    async with database.session() as session:
        provider = await acting_provider(session, actor.user_id, admin=False)
        return await readmodels.programmes_of(session, provider.institution_id)


# --------------------------------------------------------------------------- attachments


@dataclass(frozen=True)
class Upload:
    kind: AttachmentKind
    programme_id: uuid.UUID | None
    filename: str | None
    media_type: str
    content: bytes


def _check_upload(upload: Upload, offer: Offer, max_bytes: int) -> signatures.Inspection:
    if len(upload.content) > max_bytes:
        raise InvalidInput.of("file", "max_size", f"an attachment is at most {max_bytes} bytes")
    media_type = upload.media_type.split(";", 1)[0].strip().lower()
    if media_type not in MEDIA_TYPES:
        raise InvalidInput.of("file", "media_type", "a PDF or an ASiC-E container (.edoc/.asice)")
    if (upload.kind == "curriculum") != (upload.programme_id is not None):
        raise InvalidInput.of("programme_id", "curriculum_only", "a curriculum names its programme; nothing else does")
    if upload.programme_id is not None and upload.programme_id not in {
        p.programme_id for p in offer.content.programmes
    }:
        raise InvalidInput.of("programme_id", "consistent", "not a programme of the offer's step 2")
    return signatures.inspect(
        upload.content,
        filename=upload.filename,
        declared_type=media_type,
        require_signature=upload.kind == "signed_statement",
    )


async def add_attachment(
    database: Database, clock: Clock, actor: Actor, offer_id: uuid.UUID, upload: Upload, max_bytes: int
) -> Attachment:
    now = clock.now()
    async with database.transaction() as session:
        offer = await _reachable(session, actor, offer_id, admin=True, lock=True)
        await _in_window(session, await existing_call(session, offer.call_id), now, "attach a document")
        offer.require_editable()
        inspection = _check_upload(upload, offer, max_bytes)
        attachment = Attachment(
            id=uuid.uuid4(),
            offer_id=offer.id,
            kind=upload.kind,
            programme_id=upload.programme_id,
            filename=upload.filename,
            media_type=inspection.media_type,
            format=str(inspection.format),
            size=len(upload.content),
            sha256=hashlib.sha256(upload.content).hexdigest(),
            signatures=inspection.signatures,
            timestamps=inspection.timestamps,
            uploaded_at=now,
        )
        await db.insert_attachment(session, attachment, upload.content, actor.user_id)
        stored = await db.attachments_of(session, offer.id)
        changed = replace(offer, content=attach(offer.content, stored, attachment), updated_at=now)
        await db.save_offer(session, changed, actor.user_id, expected_state=offer.state)
    log.info("offer.attached", offer_id=str(offer.id), kind=upload.kind, size=attachment.size)
    return attachment


async def remove_attachment(
    database: Database, clock: Clock, actor: Actor, offer_id: uuid.UUID, attachment_id: uuid.UUID
) -> Offer:
    """Takes the attachment out of the draft; it stays stored (a submitted version may hold it)."""
    now = clock.now()
    async with database.transaction() as session:
        offer = await _reachable(session, actor, offer_id, admin=True, lock=True)
        await _in_window(session, await existing_call(session, offer.call_id), now, "edit an offer")
        offer.require_editable()
        if attachment_id not in offer.content.attachment_ids:
            raise NotFound("no such attachment in the draft")
        changed = replace(offer, content=detach(offer.content, attachment_id), updated_at=now)
        await db.save_offer(session, changed, actor.user_id, expected_state=offer.state)
    return changed


async def attachment(
    database: Database, actor: Actor, offer_id: uuid.UUID, attachment_id: uuid.UUID
) -> tuple[Attachment, bytes]:
    async with database.session() as session:
        offer = await _reachable(session, actor, offer_id)
        found = await db.attachment(session, attachment_id)
        content = await db.attachment_content(session, attachment_id)
    if found is None or found.offer_id != offer.id or content is None:
        raise NotFound("no such attachment")
    return found, content


# --------------------------------------------------------------------------- checks, submission, withdrawal


async def _problems(
    session: AsyncSession, clock: Clock, registers: Registers, actor: Actor, offer: Offer
) -> list[Problem]:
    """Every check of the offer, from one session: the register (catalog, over HTTP: the slowest part) is asked
    while the platform's own facts are read."""
    provider = await readmodels.provider(session, offer.institution_id)
    lookup = None
    if provider is not None:
        lookup = asyncio.ensure_future(registers.institution(provider.register_number, actor.token))
    try:
        call = await existing_call(session, offer.call_id)
        programmes = {p.programme_id: p for p in await readmodels.programmes_of(session, offer.institution_id)}
        stored = await db.attachments_of(session, offer.id)
        tables = await readmodels.coefficient_tables_all(session)
        delivered = await readmodels.delivered(session, offer.institution_id)
        registered = await lookup if lookup is not None else None
    finally:
        _settle(lookup)
    today = today_in_riga(clock)
    given = CheckInput(
        call=call,
        content=offer.content,
        attachments=current_attachments(offer.content, stored),
        programmes=programmes,
        registered=registered,
        coefficients=in_force(tables, today),
        delivered=delivered,
        today=today,
    )
    return check_offer(given)


def _settle(lookup: asyncio.Future[RegisteredInstitution | None] | None) -> None:
    """A register lookup left behind by a failed read: cancelled, or its failure taken (never logged as lost)."""
    if lookup is None:
        return
    if not lookup.done():
        lookup.cancel()
    elif not lookup.cancelled():
        lookup.exception()


async def run_checks(
    database: Database, clock: Clock, registers: Registers, actor: Actor, offer_id: uuid.UUID
) -> list[Problem]:
    """Every check of a submission, without submitting (a draft's problems, by step)."""
    async with database.session() as session:
        offer = await _reachable(session, actor, offer_id)
        return await _problems(session, clock, registers, actor, offer)


async def submit(database: Database, clock: Clock, registers: Registers, actor: Actor, offer_id: uuid.UUID) -> Offer:
    offer = await _current(database, actor, offer_id)
    async with database.session() as session:
        (await existing_call(session, offer.call_id)).require_offer_window(clock.now(), "submit an offer")
    offer.require_transition("submitted")
    async with database.session() as session:
        problems = await _problems(session, clock, registers, actor, offer)
    if problems:
        raise OfferNotReady(problems)
    now = clock.now()
    async with database.transaction() as session:
        current = await _reachable(session, actor, offer_id, admin=True, lock=True)
        await _in_window(session, await existing_call(session, offer.call_id), now, "submit an offer")
        if current.updated_at != offer.updated_at or current.state != offer.state:
            raise Conflict("the offer changed while it was checked: check it again", current.current())
        submitted = replace(current, state="submitted", version=current.version + 1, updated_at=now)
        if not await db.save_offer(session, submitted, actor.user_id, expected_state=current.state):
            raise Conflict("the offer changed while it was checked: check it again", current.current())
        held = current_attachments(current.content, await db.attachments_of(session, offer_id))
        frozen = OfferVersion(offer_id, submitted.version, current.content, tuple(held), now, None)
        await db.insert_version(session, frozen, actor.user_id)
        await record_event(
            session,
            OfferSubmitted(
                offer_id=offer_id,
                call_id=current.call_id,
                institution_id=current.institution_id,
                at=now,
                offer_version=submitted.version,
                programme_ids=list(current.content.terms.programme_ids),
                funding_source=current.content.terms.funding_source or "",
            ),
        )
    log.info("offer.submitted", offer_id=str(offer_id), version=submitted.version)
    return submitted


async def withdraw(database: Database, clock: Clock, actor: Actor, offer_id: uuid.UUID) -> Offer:
    now = clock.now()
    async with database.transaction() as session:
        offer = await _reachable(session, actor, offer_id, admin=True, lock=True)
        await _in_window(session, await existing_call(session, offer.call_id), now, "withdraw an offer")
        offer.require_transition("withdrawn")
        withdrawn = replace(offer, state="withdrawn", updated_at=now)
        if not await db.save_offer(session, withdrawn, actor.user_id, expected_state=offer.state):
            raise Conflict("the offer changed meanwhile", offer.current())
        await db.mark_withdrawn(session, offer_id, offer.version, now)
        await record_event(
            session,
            OfferWithdrawn(
                offer_id=offer_id,
                call_id=offer.call_id,
                institution_id=offer.institution_id,
                at=now,
                offer_version=offer.version,
            ),
        )
    log.info("offer.withdrawn", offer_id=str(offer_id), version=offer.version)
    return withdrawn


async def versions(
    database: Database, actor: Actor, offer_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[OfferVersion], int]:
    async with database.session() as session:
        await _reachable(session, actor, offer_id)
        return await db.versions(session, offer_id, limit, offset)


async def version(database: Database, actor: Actor, offer_id: uuid.UUID, number: int) -> OfferVersion:
    async with database.session() as session:
        await _reachable(session, actor, offer_id)
        found = await db.version(session, offer_id, number)
    if found is None:
        raise NotFound("no such version of the offer")
    return found
