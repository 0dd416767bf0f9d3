"""Small helpers of every tier of tests: valid personal codes, waiting for an effect."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

from stdnum.lv import pvn


def personal_code(n: int) -> str:
    """The n-th of a series of distinct valid old-form personal codes (born in the 1900s)."""
    born = date(1950, 1, 1) + timedelta(days=n // 100)
    stem = f"{born:%d%m%y}1{n % 100:03d}"
    return f"{stem[:6]}-{stem[6:]}{pvn.calc_check_digit_pers(stem)}"


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 60, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"not reached within {timeout} s")
