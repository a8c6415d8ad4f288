"""web/batch.GroupCommit: requests waiting together share one call; a failed call's error
reaches each of its requests and the next batch runs; a request whose client went away
does not break the others."""

from __future__ import annotations

import asyncio
import threading

import pytest

from briefing.web.batch import GroupCommit


def test_waiting_requests_share_a_call_and_keep_their_own_answers() -> None:
    calls: list[list[int]] = []
    gate = threading.Event()

    def work(items: list[int]) -> list[int]:
        calls.append(items)
        gate.wait(5)  # the first call holds its thread while the others queue
        return [i * 10 for i in items]

    async def main() -> list[int]:
        batcher: GroupCommit[int, int] = GroupCommit(work)
        first = asyncio.create_task(batcher.submit(0))
        await asyncio.sleep(0.05)
        rest = [asyncio.create_task(batcher.submit(i)) for i in range(1, 8)]
        await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.gather(first, *rest)

    assert asyncio.run(main()) == [0, 10, 20, 30, 40, 50, 60, 70]
    assert calls == [[0], [1, 2, 3, 4, 5, 6, 7]]


def test_a_failed_batch_fails_each_of_its_requests_and_the_next_one_runs() -> None:
    def work(items: list[str]) -> list[str]:
        if "bad" in items:
            raise RuntimeError("database is locked")
        return [s.upper() for s in items]

    async def main() -> None:
        batcher: GroupCommit[str, str] = GroupCommit(work)
        failed = await asyncio.gather(
            batcher.submit("bad"), batcher.submit("x"), return_exceptions=True
        )
        assert [str(e) for e in failed] == ["database is locked"] * 2
        assert await batcher.submit("ok") == "OK"

    asyncio.run(main())


def test_a_request_cancelled_while_waiting_leaves_the_others_answered() -> None:
    gate = threading.Event()

    def work(items: list[int]) -> list[int]:
        gate.wait(5)
        return items

    async def main() -> None:
        batcher: GroupCommit[int, int] = GroupCommit(work)
        gone = asyncio.create_task(batcher.submit(1))
        kept = asyncio.create_task(batcher.submit(2))
        await asyncio.sleep(0.05)
        gone.cancel()
        gate.set()
        assert await kept == 2
        with pytest.raises(asyncio.CancelledError):
            await gone

    asyncio.run(main())


def test_a_batch_is_at_most_its_limit() -> None:
    sizes: list[int] = []

    def work(items: list[int]) -> list[int]:
        sizes.append(len(items))
        return items

    async def main() -> None:
        batcher: GroupCommit[int, int] = GroupCommit(work, limit=3)
        assert await asyncio.gather(*(batcher.submit(i) for i in range(7))) == list(range(7))

    asyncio.run(main())
    assert max(sizes) <= 3 and sum(sizes) == 7
