"""What /readyz says when a dependency goes away: a database outage makes the service not ready (503); a bus
outage leaves it ready and "degraded", serving requests while its events wait in the outbox."""

import importlib
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from accounts.app import DEFINITION as ACCOUNTS
from prasmes_runtime.auth import TokenIssuer
from prasmes_runtime.messaging import outbox
from prasmes_testing.harness import harness, local_settings
from prasmes_testing.servers import create_database, free_port
from prasmes_testing.support import personal_code

pytestmark = pytest.mark.postgres


async def _drop(server_url: str, name: str) -> None:
    """DROP DATABASE ... WITH (FORCE): every open connection to it is ended, and no new one can be made."""
    asyncpg: Any = importlib.import_module("asyncpg")
    dsn = server_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(dsn, timeout=30)
    try:
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def test_a_database_outage_makes_the_service_not_ready(
    postgres_server_url: str, tmp_path: Path, token_issuer: TokenIssuer
) -> None:
    name = f"ready_{uuid.uuid4().hex[:12]}"
    settings = local_settings(ACCOUNTS, create_database(postgres_server_url, name), tmp_path)
    async with harness(ACCOUNTS, settings, token_issuer) as svc:
        ready = await svc.client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready", "checks": {"database": "ok", "bus": "ok", "background": "ok"}}
        await _drop(postgres_server_url, name)
        down = await svc.client.get("/readyz")
        assert down.status_code == 503, down.text
        body = down.json()
        assert body["status"] == "not_ready"
        assert body["checks"]["database"].startswith("failed: "), body
        assert body["checks"]["bus"] == "ok"
        assert (await svc.client.get("/healthz")).status_code == 200  # alive, only not ready


async def test_a_bus_outage_leaves_the_service_ready_and_degraded(tmp_path: Path, token_issuer: TokenIssuer) -> None:
    nobody = f"127.0.0.1:{free_port()}"  # no broker listens here
    url = f"sqlite+aiosqlite:///{tmp_path / 'accounts.db'}"
    settings = local_settings(ACCOUNTS, url, tmp_path, bus="kafka", kafka_bootstrap_servers=nobody)
    async with harness(ACCOUNTS, settings, token_issuer) as svc:
        ready = await svc.client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready", "checks": {"database": "ok", "bus": "degraded", "background": "ok"}}
        opened = await svc.client.post(
            "/accounts", json={"personal_code": personal_code(90_001)}, headers=svc.as_("readiness-1")
        )
        assert opened.status_code == 201, opened.text  # requests are still served
        async with svc.database.session() as session:
            waiting = await session.scalar(
                sa.select(sa.func.count()).select_from(outbox).where(outbox.c.dispatched_at.is_(None))
            )
        assert waiting == 1  # the AccountOpened event waits in the outbox
        assert await svc.outbox_types() == ["lv.prasmes.accounts.AccountOpened.v1"]
