"""An institution's offer to a call: a draft in three steps, its attachments, its states and its frozen versions.

States (`TRANSITIONS`):

    draft ──submit──► submitted ──withdraw──► withdrawn ──submit──► submitted (the next version) ...
                          └──(evaluation)──► under_evaluation ──► approved | rejected

Only a draft or a withdrawn offer is edited; submitting freezes the content as version n (kept for ever, read back
by number); a withdrawal keeps it and lets the institution edit and submit version n+1 until the deadline.
One offer per institution and call.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from prasmes_runtime.errors import Conflict

OfferState = Literal["draft", "submitted", "withdrawn", "under_evaluation", "approved", "rejected"]
TRANSITIONS: Mapping[OfferState, frozenset[OfferState]] = {
    "draft": frozenset({"submitted"}),
    "submitted": frozenset({"withdrawn", "under_evaluation"}),
    "withdrawn": frozenset({"submitted"}),
    "under_evaluation": frozenset({"approved", "rejected"}),
    "approved": frozenset(),
    "rejected": frozenset(),
}
EDITABLE: frozenset[OfferState] = frozenset({"draft", "withdrawn"})
AttachmentKind = Literal["application", "experience", "curriculum", "signed_statement"]
ATTACHMENT_KINDS: tuple[AttachmentKind, ...] = ("application", "experience", "curriculum", "signed_statement")
ATTACHMENT_TITLES: Mapping[AttachmentKind, str] = {
    "application": "the application (annex 2)",
    "experience": "the experience statement (annex 3)",
    "curriculum": "the licensed curriculum",
    "signed_statement": "the statement signed with a qualified electronic signature and a time stamp",
}
STATEMENTS: Mapping[str, str] = {
    "data_true": "the information given is true and complete",
    "no_double_funding": "the programmes are not funded twice for the same learners",
    "call_terms_accepted": "the institution accepts the terms of the call",
}
"""The statements an offer confirms (step 3)."""
OPERATING_SYSTEMS = ("windows", "macos", "linux", "chromeos", "any")


@dataclass(frozen=True)
class Location:
    address: str
    city: str
    viis_id: str


@dataclass(frozen=True)
class Provision:
    """The material and technical provision a learner needs (equipment, the operating systems that work)."""

    equipment: str
    operating_systems: tuple[str, ...]


@dataclass(frozen=True)
class OfferedProgramme:
    programme_id: uuid.UUID
    theory_hours: int | None = None
    practice_hours: int | None = None
    cost_per_participant: Decimal | None = None
    provision: Provision | None = None
    location_viis_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Terms:
    funding_source: str | None = None
    programme_ids: tuple[uuid.UUID, ...] = ()
    """The programmes ticked for the offer (from those of step 2)."""
    statements: tuple[str, ...] = ()


@dataclass(frozen=True)
class OfferContent:
    locations: tuple[Location, ...] = ()
    programmes: tuple[OfferedProgramme, ...] = ()
    terms: Terms = field(default_factory=Terms)
    attachment_ids: tuple[uuid.UUID, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "locations": [vars(loc) for loc in self.locations],
            "programmes": [_programme_json(p) for p in self.programmes],
            "terms": {
                "funding_source": self.terms.funding_source,
                "programme_ids": [str(p) for p in self.terms.programme_ids],
                "statements": list(self.terms.statements),
            },
            "attachment_ids": [str(a) for a in self.attachment_ids],
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> OfferContent:
        terms = raw.get("terms") or {}
        return cls(
            locations=tuple(Location(**loc) for loc in raw.get("locations", [])),
            programmes=tuple(_programme_of(p) for p in raw.get("programmes", [])),
            terms=Terms(
                funding_source=terms.get("funding_source"),
                programme_ids=tuple(uuid.UUID(p) for p in terms.get("programme_ids", [])),
                statements=tuple(terms.get("statements", [])),
            ),
            attachment_ids=tuple(uuid.UUID(a) for a in raw.get("attachment_ids", [])),
        )


def _programme_json(p: OfferedProgramme) -> dict[str, Any]:
    provision = p.provision
    return {
        "programme_id": str(p.programme_id),
        "theory_hours": p.theory_hours,
        "practice_hours": p.practice_hours,
        "cost_per_participant": None if p.cost_per_participant is None else str(p.cost_per_participant),
        "provision": None
        if provision is None
        else {"equipment": provision.equipment, "operating_systems": list(provision.operating_systems)},
        "location_viis_ids": list(p.location_viis_ids),
    }


def _programme_of(raw: Mapping[str, Any]) -> OfferedProgramme:
    provision = raw.get("provision")
    cost = raw.get("cost_per_participant")
    return OfferedProgramme(
        programme_id=uuid.UUID(raw["programme_id"]),
        theory_hours=raw.get("theory_hours"),
        practice_hours=raw.get("practice_hours"),
        cost_per_participant=None if cost is None else Decimal(cost),
        provision=None
        if provision is None
        else Provision(provision["equipment"], tuple(provision.get("operating_systems", []))),
        location_viis_ids=tuple(raw.get("location_viis_ids", [])),
    )


@dataclass(frozen=True)
class Attachment:
    """A stored attachment: immutable once uploaded (a replacement is a new one); its bytes are kept apart."""

    id: uuid.UUID
    offer_id: uuid.UUID
    kind: AttachmentKind
    programme_id: uuid.UUID | None
    filename: str | None
    media_type: str
    format: str
    size: int
    sha256: str
    signatures: int
    timestamps: int
    uploaded_at: datetime


@dataclass(frozen=True)
class Offer:
    id: uuid.UUID
    call_id: uuid.UUID
    institution_id: uuid.UUID
    state: OfferState
    version: int
    """The number of the last submitted version (0: never submitted)."""
    content: OfferContent
    created_at: datetime
    updated_at: datetime

    def current(self) -> dict[str, Any]:
        return {"offer_id": str(self.id), "state": self.state, "version": self.version}

    def require_editable(self) -> None:
        if self.state not in EDITABLE:
            raise Conflict(
                f"a {self.state} offer cannot be edited"
                + (": withdraw it first (until the deadline)" if self.state == "submitted" else ""),
                self.current(),
            )

    def require_transition(self, to: OfferState) -> None:
        if to not in TRANSITIONS[self.state]:
            raise Conflict(f"a {self.state} offer cannot become {to}", self.current())


@dataclass(frozen=True)
class OfferVersion:
    offer_id: uuid.UUID
    version: int
    content: OfferContent
    attachments: tuple[Attachment, ...]
    submitted_at: datetime
    withdrawn_at: datetime | None


def current_attachments(content: OfferContent, stored: list[Attachment]) -> list[Attachment]:
    """The attachments the draft holds now, in the order they were attached."""
    by_id = {a.id: a for a in stored}
    return [by_id[a] for a in content.attachment_ids if a in by_id]


def attach(content: OfferContent, stored: list[Attachment], new: Attachment) -> OfferContent:
    """The draft with `new` attached. One of a kind (per programme, for a curriculum) replaces the earlier one in
    the draft; the earlier one stays stored (a submitted version may hold it)."""
    same = {
        a.id for a in current_attachments(content, stored) if (a.kind, a.programme_id) == (new.kind, new.programme_id)
    }
    kept = tuple(a for a in content.attachment_ids if a not in same)
    return OfferContent(content.locations, content.programmes, content.terms, (*kept, new.id))


def detach(content: OfferContent, attachment_id: uuid.UUID) -> OfferContent:
    kept = tuple(a for a in content.attachment_ids if a != attachment_id)
    return OfferContent(content.locations, content.programmes, content.terms, kept)
