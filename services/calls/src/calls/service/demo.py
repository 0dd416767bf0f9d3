"""The demonstration call, replayed on its own past dates (development only: `make run`'s demo).

A call's offer window, evaluation, decision and agreements are phases of its timeline, days apart, so the demo
cannot walk them on today's clock. `replay_demonstration` opens the demonstration call (`DEMO-2025`, in
`calls/data/demonstration/call.json`) and takes the demo institution's offer through every step with a clock set to
a moment of that step's phase: the three steps of the draft (locations from the registers, the programmes from the
read model, the terms, the demonstration's documents), the checks, the submission, the evaluator, a finding that
meets for every criterion, the decision by the caller (who is not the evaluator), the agreement and its signed
document: the signature records `CooperationAgreementSigned`, and catalog publishes the programmes. Every step is
the use case the API runs. IMK-4's institution criterion I4 (the platform's own history of completers) is left out
of the call: a fresh platform has none.

Idempotent: each run looks at where the offer is and does only what is left (an interrupted run resumes); a run
that finds the agreement signed does nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from prasmes_runtime.clock import Clock, FixedClock
from prasmes_runtime.db import Database
from prasmes_runtime.errors import Conflict, InvalidInput, NotFound
from prasmes_runtime.logging import get_logger

from calls.adapters.registers import Registers
from calls.domain.agreements import Agreement
from calls.domain.calls import Call
from calls.domain.checks import OfferNotReady
from calls.domain.evaluations import FindingResult
from calls.domain.institutions import Programme, RegisteredInstitution
from calls.domain.offers import (
    STATEMENTS,
    AttachmentKind,
    Location,
    Offer,
    OfferedProgramme,
    Provision,
    Terms,
)
from calls.service import calls, evaluations, offers
from calls.service.evaluations import SignedDocument
from calls.service.offers import Actor, Upload
from calls.service.seed import call_id, seed_calls

log = get_logger(__name__)
RIGA = ZoneInfo("Europe/Riga")
DATA = Path(__file__).resolve().parents[1] / "data" / "demonstration"
CALL_FILE = DATA / "call.json"
CALL_ID = call_id("prasmes-demonstration-call-2025")
"""The id of the demonstration call of call.json (uuid5 of its name, as every seeded call's)."""
PDF, ASICE = "application/pdf", "application/vnd.etsi.asic-e+zip"
DOCUMENTS: dict[AttachmentKind, tuple[str, str]] = {
    "application": ("pieteikums.pdf", PDF),
    "experience": ("pieredze.pdf", PDF),
    "signed_statement": ("apliecinajums.edoc", ASICE),
    "curriculum": ("macibu-plans.pdf", PDF),
}
AGREEMENT_DOCUMENT = ("ligums.edoc", ASICE)
AGREEMENT_NUMBER = "DEMO-2025/001"
AGREEMENT_FROM, AGREEMENT_UNTIL = date(2025, 8, 1), date(2027, 4, 30)
NOTE = "atbilst (demonstrācija)"
EQUIPMENT = "Dators ar 8 GB RAM un tīmekļa kameru; mācību klasē tas ir nodrošināts"


def _riga(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=RIGA).astimezone(UTC)


OPENED = _riga(2025, 6, 2, 9)
"""The moment of each step, in the phase of the call's timeline (call.json) it belongs to."""
OFFERED = _riga(2025, 6, 18, 10)
EVALUATED = _riga(2025, 7, 8, 9)
DECIDED = _riga(2025, 7, 28, 10)
SIGNED = _riga(2025, 7, 30, 10)


@dataclass
class Replay:
    """What a run did (`done`, in order; empty when it found everything done) and where the offer is."""

    call: Call
    offer: Offer
    agreement: Agreement
    done: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Cast:
    """Who acts: the caller (an agency_admin: assigns, decides, signs), the institution's provider_admin (the
    offer) and the evaluator (the findings); all with the caller's token (the registers answer the agency)."""

    admin: Actor
    provider: Actor
    evaluator: Actor


def cast(admin: Actor, provider_admin_id: str, evaluator_id: str) -> Cast:
    if evaluator_id == admin.user_id:
        raise InvalidInput.of("evaluator_id", "four_eyes", "the evaluator is not the agency admin who decides")
    return Cast(admin, Actor(provider_admin_id, False, admin.token), Actor(evaluator_id, True, admin.token))


async def replay_demonstration(
    database: Database,
    clock: Clock,
    registers: Registers,
    who: Cast,
    programme_ids: tuple[uuid.UUID, ...],
    max_bytes: int,
) -> Replay:
    """Replay the demonstration call to the demo institution's signed agreement, or find it signed."""
    chosen = await _programmes(database, who.provider, programme_ids)
    if clock.now() < SIGNED:
        raise Conflict("the demonstration's dates are not past yet", {"signed_on": SIGNED.date().isoformat()})
    done: list[str] = []
    call = await _call(database, done)
    offer = await _offer(database, who.provider, call, done)
    if offer.state in ("draft", "withdrawn"):
        offer = await _draft(database, registers, who.provider, call, offer, chosen, max_bytes, done)
    if offer.state in ("submitted", "under_evaluation"):
        offer = await _evaluate(database, who, call, offer, done)
    if offer.state != "approved":
        raise Conflict("the demonstration offer was not approved", offer.current())
    agreement = await _agreement(database, who.admin, offer, max_bytes, done)
    log.info("demonstration.replayed", offer_id=str(offer.id), steps=len(done))
    return Replay(call, offer, agreement, done)


async def _programmes(database: Database, provider: Actor, wanted: tuple[uuid.UUID, ...]) -> list[Programme]:
    """The named programmes of the provider admin's institution (calls' read model of catalog's)."""
    mine = {p.programme_id: p for p in await offers.my_programmes(database, provider)}
    missing = [str(p) for p in wanted if p not in mine]
    if missing:
        raise Conflict("calls has not learned these programmes of the institution yet", {"programme_ids": missing})
    return [mine[p] for p in dict.fromkeys(wanted)]


async def _call(database: Database, done: list[str]) -> Call:
    try:
        return await calls.get_call(database, CALL_ID)
    except NotFound:
        (call,) = await seed_calls(database, FixedClock(OPENED), CALL_FILE)
    done.append("call opened")
    return call


async def _offer(database: Database, provider: Actor, call: Call, done: list[str]) -> Offer:
    found, _ = await offers.list_offers(database, provider, call.id, 1, 0)
    if found:
        return found[0]
    done.append("offer started")
    return await offers.start_offer(database, FixedClock(OFFERED), provider, call.id)


# --------------------------------------------------------------------------- the offer window


async def _draft(
    database: Database,
    registers: Registers,
    provider: Actor,
    call: Call,
    offer: Offer,
    chosen: list[Programme],
    max_bytes: int,
    done: list[str],
) -> Offer:
    """The three steps, the documents not yet attached, the checks (which must pass) and the submission."""
    clock = FixedClock(OFFERED)
    registered = await _registered(database, registers, provider)
    locations = tuple(Location(a.address, a.city, a.viis_id) for a in registered.addresses)
    await offers.set_locations(database, clock, provider, offer.id, locations)
    offered = tuple(_offered(p, registered, locations[0].viis_id) for p in chosen)
    await offers.set_programmes(database, clock, provider, offer.id, offered)
    ticked = tuple(p.programme_id for p in chosen)
    await offers.set_terms(database, clock, provider, offer.id, Terms(call.project_code, ticked, tuple(STATEMENTS)))
    done += ["locations", "programmes", "terms"]
    await _attach(database, clock, provider, offer.id, ticked, max_bytes, done)
    problems = await offers.run_checks(database, clock, registers, provider, offer.id)
    if problems:
        raise OfferNotReady(problems)
    submitted = await offers.submit(database, clock, registers, provider, offer.id)
    done += ["checks", "submitted"]
    return submitted


async def _registered(database: Database, registers: Registers, provider: Actor) -> RegisteredInstitution:
    async with database.session() as session:
        institution = await offers.acting_provider(session, provider.user_id, admin=True)
    registered = await registers.institution(institution.register_number, provider.token)
    if registered is None or not registered.addresses:
        current = {"institution_id": str(institution.institution_id)}
        raise Conflict("the registers list no address of the institution", current)
    return registered


def _offered(programme: Programme, registered: RegisteredInstitution, viis_id: str) -> OfferedProgramme:
    """A programme as its licence splits it, at catalog's cost, delivered at the first location."""
    licence = registered.licence(programme.licence_number or "")
    theory, practice = (licence.theory_hours, licence.practice_hours) if licence else (None, None)
    provision = Provision(EQUIPMENT, ("windows", "linux"))
    return OfferedProgramme(
        programme.programme_id, theory, practice, programme.cost_per_participant, provision, (viis_id,)
    )


async def _attach(
    database: Database,
    clock: Clock,
    provider: Actor,
    offer_id: uuid.UUID,
    ticked: tuple[uuid.UUID, ...],
    max_bytes: int,
    done: list[str],
) -> None:
    """Each document the draft does not hold yet (an interrupted run attached some)."""
    _, held = await offers.get_offer(database, provider, offer_id)
    have = {(a.kind, a.programme_id) for a in held}
    wanted: list[tuple[AttachmentKind, uuid.UUID | None]] = [
        ("application", None),
        ("experience", None),
        ("signed_statement", None),
        *(("curriculum", p) for p in ticked),
    ]
    for kind, programme_id in wanted:
        if (kind, programme_id) in have:
            continue
        filename, media_type = DOCUMENTS[kind]
        upload = Upload(kind, programme_id, filename, media_type, (DATA / filename).read_bytes())
        await offers.add_attachment(database, clock, provider, offer_id, upload, max_bytes)
        done.append(f"attached {kind}")


# --------------------------------------------------------------------------- evaluation and decision


async def _evaluate(database: Database, who: Cast, call: Call, offer: Offer, done: list[str]) -> Offer:
    """The evaluator assigned, every criterion met, and the caller's approval."""
    clock = FixedClock(EVALUATED)
    view = await evaluations.evaluation(database, clock, who.admin, offer.id)
    if view.missing and (view.evaluation is None or view.evaluation.evaluator_id != who.evaluator.user_id):
        await evaluations.assign(database, clock, who.admin, offer.id, who.evaluator.user_id)
        done.append("evaluator assigned")
    if view.missing:
        findings: list[tuple[str, FindingResult, str]] = [(c, "meets", NOTE) for c in view.criteria]
        await evaluations.record_findings(database, clock, who.evaluator, offer.id, findings)
        done.append("findings")
    await evaluations.decide(database, FixedClock(DECIDED), who.admin, offer.id, "approved", [])
    done.append("approved")
    approved, _ = await offers.get_offer(database, who.admin, offer.id)
    return approved


# --------------------------------------------------------------------------- the cooperation agreement


async def _agreement(database: Database, admin: Actor, offer: Offer, max_bytes: int, done: list[str]) -> Agreement:
    clock = FixedClock(SIGNED)
    try:
        made = await evaluations.agreement(database, admin, offer.id)
    except NotFound:
        made = await evaluations.make_agreement(
            database, clock, admin, offer.id, AGREEMENT_NUMBER, AGREEMENT_FROM, AGREEMENT_UNTIL
        )
        done.append("agreement made")
    if made.signed_at is not None:
        return made
    filename, media_type = AGREEMENT_DOCUMENT
    document = SignedDocument(filename, media_type, (DATA / filename).read_bytes())
    signed = await evaluations.sign_agreement(database, clock, admin, offer.id, document, max_bytes)
    done.append("agreement signed")
    return signed
