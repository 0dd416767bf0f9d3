"""A notice's mail: written beside the notice (one transaction), sent by the sender loop, retried, given up with the
reason, shown to operators; the recipients' e-mail preferences."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from prasmes_runtime import roles
from prasmes_runtime.auth import Principal
from prasmes_runtime.clock import RIGA
from prasmes_runtime.context import ServiceContext
from prasmes_runtime.db import Database
from prasmes_runtime.errors import InvalidInput, NotFound
from prasmes_runtime.logging import get_logger
from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters.contacts import Contact, Contacts, ContactsUnavailable
from notifications.adapters.render import render
from notifications.adapters.smtp import OutgoingMail, PermanentFailure, TemporaryFailure
from notifications.db import digests as digests_db
from notifications.db import mails as db
from notifications.domain.digests import digest_violations
from notifications.domain.mails import (
    CATEGORIES,
    MAIL_STATES,
    Mail,
    Retry,
    category_of,
    email_wanted,
    preference_violations,
)
from notifications.domain.notices import Notice

log = get_logger(__name__)
mails_pending = Gauge("prasmes_mails", "Mails by state (failed and in_doubt wait for an operator)", ["state"])
mail_attempts = Counter("prasmes_mail_attempts_total", "Attempts to send a mail", ["outcome"])


class Mailer(Protocol):
    async def send(self, mail: OutgoingMail) -> None: ...


@dataclass(frozen=True)
class Sending:
    """What the sender loop needs: where addresses come from, how mails leave, how they are retried."""

    contacts: Contacts
    mailer: Mailer
    retry: Retry
    public_url: str
    lease: timedelta
    """A mail claimed longer ago than this and not marked was being sent when its sender stopped."""
    batch: int = 50
    concurrency: int = 8
    """Mails sent side by side (each over its own connection)."""


async def enqueue(session: AsyncSession, notice: Notice, values: Mapping[str, str], now: datetime) -> Mail | None:
    """The notice's mail, in the notice's transaction; none when the recipient switched its category off or gets it
    in the daily digest."""
    preferences, digest = await db.wishes(session, notice.recipient_id)
    if not email_wanted(category_of(notice.kind), preferences, digest=digest):
        return None
    mail = Mail.of(notice.id, notice.recipient_id, notice.kind, values, now)
    await db.add(session, mail)
    return mail


def _link(public_url: str) -> str:
    """The platform's inbox, where the notice waits (web clients will route it to the thing it is about)."""
    return f"{public_url.rstrip('/')}/notices"


async def _attempt(sending: Sending, mail: Mail, contact: Contact, now: datetime) -> Mail:
    try:
        rendered = render(mail.kind, contact.language, mail.values, link=_link(sending.public_url))
    except (KeyError, ValueError) as exc:
        return mail.refused(f"the mail could not be written: {exc}")
    outgoing = OutgoingMail(
        mail.message_id, contact.email, rendered.subject, rendered.text, rendered.html, contact.language
    )
    try:
        await sending.mailer.send(outgoing)
    except PermanentFailure as exc:
        return mail.refused(str(exc))
    except TemporaryFailure as exc:
        return mail.failed_for_now(str(exc), now, sending.retry)
    except Exception:  # not the server's answer: whether it was sent is unknown, so it is in doubt
        log.exception("mail.send_failed", mail_id=str(mail.id))
        return mail.in_doubt()
    return mail.sent(now)


async def _addresses(sending: Sending, due: list[Mail], now: datetime) -> dict[str, Contact] | list[Mail]:
    """The round's addresses, asked for at once; or, when the directory could not say, every mail put off."""
    try:
        return await sending.contacts.contacts(sorted({m.recipient_id for m in due}))
    except ContactsUnavailable as exc:
        return [m.claimed(now).failed_for_now(f"the directory is unavailable ({exc})", now, sending.retry) for m in due]
    except Exception as exc:  # whatever else the lookup met: the mails wait and are tried again, the round goes on
        log.exception("mail.contacts_failed", mails=len(due))
        reason = f"the address could not be looked up ({type(exc).__name__})"
        return [m.claimed(now).failed_for_now(reason, now, sending.retry) for m in due]


async def _settle_unsent(database: Database, outcomes: list[Mail]) -> None:
    """Mails no sender touched (no address, the directory down): marked in one transaction, each only while it is
    still queued (another sender may have taken it meanwhile)."""
    async with database.transaction() as session:
        await db.save_all(session, outcomes, expected="queued")
    _count(outcomes)


async def _send_chunk(context: ServiceContext, sending: Sending, chunk: list[tuple[Mail, Contact]]) -> int:
    """Claimed in one transaction, sent side by side, marked in one transaction: a process stopping meanwhile leaves
    at most this chunk `sending` (then in doubt), every one of which was being sent."""
    database, now = context.database, context.clock.now()
    async with database.transaction() as session:
        ids = await db.claim(session, [mail for mail, _ in chunk], now)
    claimed = [(mail.claimed(now), contact) for mail, contact in chunk if mail.id in ids]
    if not claimed:
        return 0
    at = context.clock.now()
    outcomes = list(await asyncio.gather(*(_attempt(sending, mail, contact, at) for mail, contact in claimed)))
    async with database.transaction() as session:
        await db.save_all(session, outcomes, expected="sending")
    _count(outcomes)
    return len(claimed)


def _count(outcomes: list[Mail]) -> None:
    for outcome in outcomes:
        mail_attempts.labels(outcome.state).inc()
        if outcome.state == "failed":
            log.warning("mail.failed", mail_id=str(outcome.id), kind=outcome.kind, reason=outcome.last_error)


async def _settle_stuck(database: Database, now: datetime, lease: timedelta) -> None:
    async with database.transaction() as session:
        for mail in await db.stuck(session, now - lease):
            await db.save(session, mail.in_doubt(), expected="sending")
            log.warning("mail.in_doubt", mail_id=str(mail.id), kind=mail.kind)


async def send_due(context: ServiceContext, sending: Sending) -> int:
    """One round of the sender loop: mails whose sender stopped are set in doubt; the due mails' addresses are asked
    for at once; a mail whose recipient has none is refused unsent; the others are claimed (one claimed elsewhere is
    skipped), sent and marked, `sending.concurrency` at a time. Returns how many were attempted."""
    database = context.database
    await _settle_stuck(database, context.clock.now(), sending.lease)
    async with database.session() as session:
        due = await db.due(session, context.clock.now(), sending.batch)
    if not due:
        await _measure(database)
        return 0
    found = await _addresses(sending, due, context.clock.now())
    if isinstance(found, list):
        await _settle_unsent(database, found)
        await _measure(database)
        return len(due)
    refused = [m.claimed(context.clock.now()).refused(NO_ADDRESS) for m in due if m.recipient_id not in found]
    if refused:
        await _settle_unsent(database, refused)
    sendable = [(m, found[m.recipient_id]) for m in due if m.recipient_id in found]
    attempted = len(refused)
    for start in range(0, len(sendable), sending.concurrency):
        attempted += await _send_chunk(context, sending, sendable[start : start + sending.concurrency])
    await _measure(database)
    return attempted


NO_ADDRESS = "the recipient has no e-mail address in the directory"


async def _measure(database: Database) -> None:
    async with database.session() as session:
        counts = await db.counts(session)
    for state in MAIL_STATES:
        mails_pending.labels(state).set(counts.get(state, 0))


# --------------------------------------------------------------------------- operators, preferences


async def mails_in(database: Database, states: list[str], limit: int, offset: int) -> tuple[list[Mail], int]:
    async with database.session() as session:
        return await db.listed(session, states, limit, offset)


async def requeue(database: Database, mail_id: uuid.UUID, now: datetime) -> Mail:
    async with database.transaction() as session:
        mail = await db.get(session, mail_id)
        if mail is None:
            raise NotFound("no such mail")
        again = mail.requeued(now)
        await db.save(session, again, expected=mail.state)
    return again


@dataclass(frozen=True)
class Preferences:
    email: dict[str, bool]
    """Category -> whether its notices are mailed (legal ones always)."""
    digest: bool
    """Whether the non-legal ones come in one daily digest instead of one mail each."""


async def preferences(database: Database, user_id: str) -> Preferences:
    async with database.session() as session:
        chosen, digest = await db.wishes(session, user_id)
    email = {category: legal or chosen.get(category, True) for category, legal in CATEGORIES.items()}
    return Preferences(email, digest)


async def set_preferences(
    database: Database, user: Principal, changes: Mapping[str, bool], digest: bool | None, now: datetime
) -> Preferences:
    """The categories changed, and the digest chosen or dropped (`None`: as it was); every problem named at once."""
    problems = preference_violations(changes) + digest_violations(digest, staff=_staff(user))
    if problems:
        raise InvalidInput(*problems)
    async with database.transaction() as session:
        await db.save_preferences(session, user.subject, dict(changes))
        if digest is True:
            await digests_db.choose(session, user.subject, now, now.astimezone(RIGA).date())
        elif digest is False:
            await digests_db.drop(session, user.subject)
    return await preferences(database, user.subject)


def _staff(user: Principal) -> bool:
    return user.has_any((*roles.PROVIDER, *roles.AGENCY))
