"""Offers (the draft and its state), their frozen versions and their attachments."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from prasmes_runtime.db import UtcDateTime
from sqlalchemy.ext.asyncio import AsyncSession

from calls.db.common import Row, dumps, loads, metadata
from calls.domain.offers import Attachment, Offer, OfferContent, OfferState, OfferVersion

offers = sa.Table(
    "offers",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("call_id", sa.Uuid(), sa.ForeignKey("calls.id"), nullable=False, index=True),
    sa.Column("institution_id", sa.Uuid(), nullable=False, index=True),
    sa.Column("state", sa.String(20), nullable=False, index=True),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("content", sa.Text(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
    sa.UniqueConstraint("call_id", "institution_id", name="uq_offers_call_institution"),
)

offer_versions = sa.Table(
    "offer_versions",
    metadata,
    sa.Column("offer_id", sa.Uuid(), sa.ForeignKey("offers.id"), primary_key=True),
    sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("content", sa.Text(), nullable=False),
    sa.Column("submitted_at", UtcDateTime(), nullable=False),
    sa.Column("submitted_by", sa.String(64), nullable=False),
    sa.Column("withdrawn_at", UtcDateTime(), nullable=True),
)

offer_attachments = sa.Table(
    "offer_attachments",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("offer_id", sa.Uuid(), sa.ForeignKey("offers.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("programme_id", sa.Uuid(), nullable=True),
    sa.Column("filename", sa.String(255), nullable=True),
    sa.Column("media_type", sa.String(100), nullable=False),
    sa.Column("format", sa.String(10), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("signatures", sa.Integer(), nullable=False),
    sa.Column("timestamps", sa.Integer(), nullable=False),
    sa.Column("uploaded_at", UtcDateTime(), nullable=False),
    sa.Column("uploaded_by", sa.String(64), nullable=False),
    sa.Column("content", sa.LargeBinary(), nullable=False),
)
ATTACHMENT_META = [c for c in offer_attachments.c if c.name not in ("content", "uploaded_by")]


def _offer(row: Row) -> Offer:
    m = row._mapping
    return Offer(
        id=m["id"],
        call_id=m["call_id"],
        institution_id=m["institution_id"],
        state=m["state"],
        version=m["version"],
        content=OfferContent.from_json(loads(m["content"])),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _attachment(row: Row) -> Attachment:
    m = row._mapping
    return Attachment(**{c.name: m[c.name] for c in ATTACHMENT_META})


async def insert_offer(session: AsyncSession, offer: Offer, user_id: str) -> None:
    await session.execute(
        offers.insert().values(
            id=offer.id,
            call_id=offer.call_id,
            institution_id=offer.institution_id,
            state=offer.state,
            version=offer.version,
            content=dumps(offer.content.to_json()),
            created_at=offer.created_at,
            updated_at=offer.updated_at,
            updated_by=user_id,
        )
    )


async def offer_by_id(session: AsyncSession, offer_id: uuid.UUID, *, for_update: bool = False) -> Offer | None:
    query = offers.select().where(offers.c.id == offer_id)
    row = (await session.execute(query.with_for_update() if for_update else query)).first()
    return None if row is None else _offer(row)


async def offer_of(session: AsyncSession, call_id: uuid.UUID, institution_id: uuid.UUID) -> Offer | None:
    query = offers.select().where(offers.c.call_id == call_id, offers.c.institution_id == institution_id)
    row = (await session.execute(query)).first()
    return None if row is None else _offer(row)


async def list_offers(
    session: AsyncSession,
    call_id: uuid.UUID,
    institution_id: uuid.UUID | None,
    limit: int,
    offset: int,
    state: OfferState | None = None,
) -> tuple[list[Offer], int]:
    where = [offers.c.call_id == call_id]
    if institution_id is not None:
        where.append(offers.c.institution_id == institution_id)
    if state is not None:
        where.append(offers.c.state == state)
    total = await session.scalar(sa.select(sa.func.count()).select_from(offers).where(*where))
    query = offers.select().where(*where).order_by(offers.c.created_at, offers.c.id).limit(limit).offset(offset)
    return [_offer(r) for r in await session.execute(query)], int(total or 0)


async def count_by_state(session: AsyncSession, call_id: uuid.UUID) -> dict[str, int]:
    query = sa.select(offers.c.state, sa.func.count()).where(offers.c.call_id == call_id).group_by(offers.c.state)
    return {state: int(n) for state, n in await session.execute(query)}


async def save_offer(
    session: AsyncSession,
    offer: Offer,
    user_id: str,
    *,
    expected_state: OfferState,
) -> bool:
    """Store the offer's content and state unless its state changed meanwhile (a concurrent submit)."""
    result = await session.execute(
        offers.update()
        .where(offers.c.id == offer.id, offers.c.state == expected_state)
        .values(
            state=offer.state,
            version=offer.version,
            content=dumps(offer.content.to_json()),
            updated_at=offer.updated_at,
            updated_by=user_id,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def insert_version(session: AsyncSession, version: OfferVersion, user_id: str) -> None:
    content = version.content.to_json() | {"attachments": [_attachment_json(a) for a in version.attachments]}
    await session.execute(
        offer_versions.insert().values(
            offer_id=version.offer_id,
            version=version.version,
            content=dumps(content),
            submitted_at=version.submitted_at,
            submitted_by=user_id,
            withdrawn_at=None,
        )
    )


def _attachment_json(a: Attachment) -> dict[str, object]:
    return {"id": str(a.id), "kind": a.kind, "sha256": a.sha256, "size": a.size}


async def mark_withdrawn(session: AsyncSession, offer_id: uuid.UUID, version: int, at: datetime) -> None:
    await session.execute(
        offer_versions.update()
        .where(offer_versions.c.offer_id == offer_id, offer_versions.c.version == version)
        .values(withdrawn_at=at)
    )


def _version(row: Row, attachments: Sequence[Attachment]) -> OfferVersion:
    m = row._mapping
    raw = loads(m["content"])
    held = {uuid.UUID(a["id"]) for a in raw.get("attachments", [])}
    return OfferVersion(
        offer_id=m["offer_id"],
        version=m["version"],
        content=OfferContent.from_json(raw),
        attachments=tuple(a for a in attachments if a.id in held),
        submitted_at=m["submitted_at"],
        withdrawn_at=m["withdrawn_at"],
    )


async def versions(
    session: AsyncSession, offer_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[OfferVersion], int]:
    where = offer_versions.c.offer_id == offer_id
    total = await session.scalar(sa.select(sa.func.count()).select_from(offer_versions).where(where))
    query = offer_versions.select().where(where).order_by(offer_versions.c.version).limit(limit).offset(offset)
    stored = await attachments_of(session, offer_id)
    return [_version(r, stored) for r in await session.execute(query)], int(total or 0)


async def version(session: AsyncSession, offer_id: uuid.UUID, number: int) -> OfferVersion | None:
    query = offer_versions.select().where(offer_versions.c.offer_id == offer_id, offer_versions.c.version == number)
    row = (await session.execute(query)).first()
    return None if row is None else _version(row, await attachments_of(session, offer_id))


async def insert_attachment(session: AsyncSession, attachment: Attachment, content: bytes, user_id: str) -> None:
    values = {c.name: getattr(attachment, c.name) for c in ATTACHMENT_META}
    await session.execute(offer_attachments.insert().values(**values, content=content, uploaded_by=user_id))


async def attachments_of(session: AsyncSession, offer_id: uuid.UUID) -> list[Attachment]:
    query = (
        sa.select(*ATTACHMENT_META)
        .where(offer_attachments.c.offer_id == offer_id)
        .order_by(offer_attachments.c.uploaded_at, offer_attachments.c.id)
    )
    return [_attachment(r) for r in await session.execute(query)]


async def attachment(session: AsyncSession, attachment_id: uuid.UUID) -> Attachment | None:
    row = (await session.execute(sa.select(*ATTACHMENT_META).where(offer_attachments.c.id == attachment_id))).first()
    return None if row is None else _attachment(row)


async def attachment_content(session: AsyncSession, attachment_id: uuid.UUID) -> bytes | None:
    content: bytes | None = await session.scalar(
        sa.select(offer_attachments.c.content).where(offer_attachments.c.id == attachment_id)
    )
    return content
