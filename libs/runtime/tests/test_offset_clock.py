"""A clock set by configuration (CLOCK_START, tests and rehearsals only): it starts at the configured instant and runs
at real speed; a service refuses it outside dev mode; tokens stay on real time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi import APIRouter
from prasmes_runtime.auth import CurrentUser, TokenIssuer
from prasmes_runtime.clock import OffsetClock, SystemClock
from prasmes_runtime.dependencies import ClockDep
from prasmes_runtime.service import ServiceDefinition, ServiceRuntime
from prasmes_runtime.settings import Settings
from prasmes_testing.harness import harness, local_settings
from pydantic import ValidationError

RIGA = ZoneInfo("Europe/Riga")
START = datetime(2025, 10, 10, 20, 0, tzinfo=RIGA)
FUTURE = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
"""Far past every token's expiry: a token verified on the domain's clock would be expired there."""

router = APIRouter()


@router.get("/now")
async def now(user: CurrentUser, clock: ClockDep) -> dict[str, str]:
    return {"now": clock.now().isoformat(), "subject": user.subject}


CLOCKED = ServiceDefinition(name="clocked", title="A service that tells its time", routers=[router])


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


def test_the_clock_starts_at_the_instant_and_runs_at_real_speed() -> None:
    ticks = Ticks()
    clock = OffsetClock(START, monotonic=ticks)
    assert clock.now() == START and clock.now().tzinfo == UTC
    ticks.at += 3 * 3600 + 59 * 60 + 59.5  # to 23:59:59.5 Riga, the last half second before the deadline minute ends
    assert clock.now().astimezone(RIGA) == datetime(2025, 10, 10, 23, 59, 59, 500000, tzinfo=RIGA)
    ticks.at += 0.5
    assert clock.now().astimezone(RIGA) == datetime(2025, 10, 11, 0, 0, tzinfo=RIGA)


def test_a_start_without_an_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        OffsetClock(datetime(2025, 10, 10, 20, 0))
    with pytest.raises(ValidationError, match="timezone"):
        Settings(dev_mode=True, clock_start="2025-10-10T20:00:00")


def test_clock_start_outside_dev_mode_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOCK_START", "2025-10-10T20:00:00+03:00")
    monkeypatch.delenv("DEV_MODE", raising=False)
    with pytest.raises(ValidationError, match="CLOCK_START is set but DEV_MODE is not true"):
        CLOCKED.create_app()
    monkeypatch.setenv("DEV_MODE", "false")
    with pytest.raises(ValidationError, match="for tests and rehearsals only"):
        CLOCKED.app_factory()


def test_the_runtime_uses_the_configured_clock_unless_one_is_given(tmp_path: Path) -> None:
    configured = Settings(dev_mode=True, clock_start=START, var_dir=tmp_path)
    clock = ServiceRuntime.build(CLOCKED, configured).clock
    assert isinstance(clock, OffsetClock) and clock.start == START
    given = SystemClock()
    assert ServiceRuntime.build(CLOCKED, configured, given).clock is given
    assert isinstance(ServiceRuntime.build(CLOCKED, Settings(var_dir=tmp_path)).clock, SystemClock)


async def test_only_the_domain_clock_moves_tokens_stay_on_real_time(
    sqlite_url: str, tmp_path: Path, token_issuer: TokenIssuer
) -> None:
    settings = local_settings(CLOCKED, sqlite_url, tmp_path, dev_mode=True, clock_start=FUTURE)
    before = time.monotonic()
    async with harness(CLOCKED, settings, token_issuer) as svc:
        answer = await svc.client.get("/now", headers=svc.as_("ilze", "agency_officer"))
        elapsed = timedelta(seconds=time.monotonic() - before)
        assert answer.status_code == 200, answer.text  # a token valid now, though the domain's clock is in 2030
        assert FUTURE <= datetime.fromisoformat(answer.json()["now"]) <= FUTURE + elapsed
        expired = token_issuer.issue("ilze", ["agency_officer"], ttl_seconds=-60)
        refused = await svc.client.get("/now", headers={"Authorization": f"Bearer {expired}"})
        assert refused.status_code == 401
