"""The staff's daily digest: made once a day per user who chose it, as one mail listing the notices that came since
the last one and are still unread (none when nothing waits). The mail is sent by the sender loop as any other."""

from __future__ import annotations

from prasmes_runtime.clock import RIGA
from prasmes_runtime.context import ServiceContext

from notifications.db import digests as db
from notifications.db import mails as mails_db
from notifications.domain.digests import DIGEST_KIND, MAX_ITEMS, DigestChoice, digest_id, digest_values, due
from notifications.domain.mails import DIGESTED_KINDS, Mail


async def make_digests(context: ServiceContext, hour: int) -> int:
    """Each due digest made in a transaction of its own (another process making it meanwhile: skipped): how many
    mails were written."""
    now = context.clock.now()
    async with context.database.session() as session:
        chosen = [c for c in await db.choices(session) if due(c, now, hour)]
    made = 0
    for choice in chosen:
        made += await _make(context, choice)
    return made


async def _make(context: ServiceContext, choice: DigestChoice) -> int:
    now = context.clock.now()
    day = now.astimezone(RIGA).date()
    async with context.database.transaction() as session:
        if not await db.covered(session, choice.user_id, day, now):
            return 0
        titles, total = await db.waiting(session, choice.user_id, DIGESTED_KINDS, choice.covered_until, now, MAX_ITEMS)
        if not total:
            return 0
        values = digest_values(titles, total)
        await mails_db.add(session, Mail.of(digest_id(choice.user_id, day), choice.user_id, DIGEST_KIND, values, now))
    return 1
