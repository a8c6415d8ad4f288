"""Group commit for a click storm: requests that each need one small write wait together,
and one call in a worker thread does all the writes that arrived meanwhile, in one
transaction.

After a send, mailbox providers POST one-click unsubscribes (RFC 8058) in bursts. Done one
by one, each POST costs a hop to a thread, a database connection and, on SQLite, a commit
(an fsync); dozens of threads doing that at once also fight over the GIL with the event
loop. Here one batch runs at a time: while it is in its thread, new requests queue, and
the next batch takes them all (up to ``limit``). A request answers only when its batch has
committed, so an answered unsubscribe is stored. When a batch fails, each request in it
gets the error (and the transaction has changed nothing).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    """``await batcher.submit(item)`` runs ``work([item, ...])`` in a thread, together with
    the items that wait at the same time; ``work`` returns one result per item, in order."""

    def __init__(self, work: Callable[[list[Item]], Sequence[Result]], *, limit: int = 500):
        self._work = work
        self._limit = limit
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._runner: asyncio.Task[None] | None = None
        self.batches = 0  # how many batches have run (for tests and the curious)

    async def submit(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self._limit], self._waiting[self._limit :]
            self.batches += 1
            try:
                results = await run_in_threadpool(self._work, [item for item, _ in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"{len(results)} results for {len(batch)} items")
            except Exception as exc:  # every request of the batch gets the error
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():  # its client went away: nothing to answer
                    future.set_result(result)
