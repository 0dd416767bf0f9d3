"""What the pages keep a few seconds in the process (the layout's unread count, the public funding projects): read
once while it lasts, read again once it ended, and never more entries than its bound."""

from __future__ import annotations

import asyncio

from web.gateway import Kept


def test_an_answer_is_read_once_while_it_lasts_and_again_once_it_ended() -> None:
    kept = Kept()
    reads: list[int] = []

    async def read() -> int:
        reads.append(1)
        return len(reads)

    async def scenario() -> list[int]:
        first = await kept.read("unread:anna", 60, read)
        again = await kept.read("unread:anna", 60, read)
        ended = await kept.read("unread:janis", -1, read)  # kept for no time: the next read asks again
        after = await kept.read("unread:janis", 60, read)
        return [first, again, ended, after]

    assert asyncio.run(scenario()) == [1, 1, 2, 3]


def test_a_value_put_is_what_the_next_read_answers() -> None:
    kept = Kept()
    kept.put("unread:anna", 60, 4)

    async def never() -> int:
        raise AssertionError("a kept value is not read again")

    assert asyncio.run(kept.read("unread:anna", 60, never)) == 4


def test_it_never_keeps_more_than_its_bound() -> None:
    kept = Kept(entries=3)
    for n in range(10):
        kept.put(f"k{n}", 60, n)
    assert len(kept._kept) <= 3 and kept._kept["k9"][1] == 9
