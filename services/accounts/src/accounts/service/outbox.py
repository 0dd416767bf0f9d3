"""What the aggregates raised, as the published contracts, into the outbox of the current transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prasmes_contracts import Event
from prasmes_contracts import accounts as published
from prasmes_runtime.outbox import record_events

from accounts.db import Session
from accounts.domain import events as raised

CONTRACTS: Mapping[type[raised.DomainEvent], type[Event]] = {
    raised.AccountOpened: published.AccountOpened,
    raised.DigCompAssessed: published.DigCompAssessed,
    raised.ApplicationSubmitted: published.ApplicationSubmittedV2,  # version 1 is no longer published
    raised.ApplicationWithdrawn: published.ApplicationWithdrawn,
    raised.ApplicationApproved: published.ApplicationApproved,
    raised.ApplicationRejected: published.ApplicationRejected,
    raised.ApplicationLapsed: published.ApplicationLapsed,
    raised.GrantReserved: published.GrantReserved,
    raised.GrantReleased: published.GrantReleased,
    raised.GrantSpent: published.GrantSpent,
    raised.EnrolmentConfirmed: published.EnrolmentConfirmed,
    raised.StudiesStarted: published.StudiesStarted,
    raised.StudiesDiscontinued: published.StudiesDiscontinued,
    raised.StudiesCompleted: published.StudiesCompleted,
}
"""Each domain event and the contract it is published as (the same fields)."""


def contract_of(event: raised.DomainEvent) -> Event:
    return CONTRACTS[type(event)](**vars(event))  # a domain event's attributes are its fields


async def record(session: Session, events: Iterable[raised.DomainEvent]) -> None:
    """Record `events` in order, beside the change that raised them."""
    await record_events(session, [contract_of(event) for event in events])
