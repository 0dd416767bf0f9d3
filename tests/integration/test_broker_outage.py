"""The broker stops while 500 accounts are opened through the API; it starts again; nothing is lost."""

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from notifications.db import notices
from prasmes_devtools.devstack import Stack, free_base_port
from prasmes_runtime.db import Database
from prasmes_testing.servers import LocalKafkaBroker, create_database

from tests.support import eventually, personal_code

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.e2e]
ACCOUNTS = 500


@pytest.fixture
def broker() -> Iterator[LocalKafkaBroker]:
    """A broker of this test's own: it is stopped and started again mid-test."""
    broker = LocalKafkaBroker()
    broker.start()
    try:
        yield broker
    finally:
        broker.close()


async def _open_all(stack: Stack, offset: int) -> list[int]:
    issuer = stack.token_issuer()
    limit = asyncio.Semaphore(16)

    async def open_one(client: httpx.AsyncClient, n: int) -> int:
        headers = {"Authorization": f"Bearer {issuer.issue(f'outage-{n}', ['learner'])}"}
        async with limit:
            response = await client.post(
                "/api/accounts/accounts", json={"personal_code": personal_code(offset + n)}, headers=headers
            )
        return response.status_code

    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        return list(await asyncio.gather(*(open_one(client, n) for n in range(ACCOUNTS))))


async def test_accounts_opened_while_the_broker_is_down_all_get_one_welcome_notice(
    broker: LocalKafkaBroker, postgres_server_url: str, tmp_path: Path
) -> None:
    suffix = time.monotonic_ns()
    urls = {
        name: create_database(postgres_server_url, f"outage_{name}_{suffix}") for name in ("accounts", "notifications")
    }
    stack = Stack(
        var_dir=tmp_path,
        base_port=free_base_port(),
        bus="kafka",
        kafka_bootstrap=broker.bootstrap,
        database_urls=urls,
        extra_env={"RATE_LIMIT_PER_MINUTE": "1000000", "RATE_LIMIT_BURST": "100000"},
    )
    stored = Database(urls["notifications"])
    count = sa.select(sa.func.count()).select_from(notices)
    distinct = sa.select(sa.func.count(sa.distinct(notices.c.recipient_id)))
    try:
        stack.start(("gateway", "accounts", "notifications"))
        broker.stop()
        statuses = await _open_all(stack, offset=10_000)
        assert statuses == [201] * ACCOUNTS, "the API must answer every request while the broker is down"
        async with stored.session() as session:
            assert await session.scalar(count) == 0  # nothing could have travelled yet
        broker.start()

        async def all_arrived() -> bool:
            async with stored.session() as session:
                return int(await session.scalar(count) or 0) >= ACCOUNTS

        await eventually(all_arrived, timeout=180, interval=0.5)
        await asyncio.sleep(3)  # a duplicate would land now
        async with stored.session() as session:
            assert await session.scalar(count) == ACCOUNTS
            assert await session.scalar(distinct) == ACCOUNTS
    finally:
        stack.stop()
        await stored.dispose()
