"""Workers on any number of machines, over a real PostgreSQL, with a real SMTP server
(aiosmtpd on 127.0.0.1) and real `briefing` processes: four workers and 20,000
subscribers with one worker SIGKILLed mid-run; two schedulers whose leader is SIGKILLed
just before the send time; a send paused and resumed while workers deliver; a subscriber
who unsubscribes (the one-click link) after the send started.

The helpers (World, the worker processes) are test_workers.py's.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from test_workers import World, build_world, running, stop, wait_for

from briefing.store.outbox_schema import outbox


@pytest.fixture
def pg_world(
    tmp_path_factory: pytest.TempPathFactory, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[int], World]]:
    """pg_world(n): seeds ingested, an issue drafted and approved, ``n`` active subscribers
    imported from a CSV, in this test's own PostgreSQL database."""
    from test_workers import BASE_URL, SECRET

    monkeypatch.setenv("BRIEFING_SECRET", SECRET)
    monkeypatch.setenv("BRIEFING_NEWSLETTER_BASE_URL", BASE_URL)
    worlds: list[World] = []

    def make(n: int) -> World:
        world = build_world(Path(tmp_path_factory.mktemp("workers-pg")), pg_url, n)
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        world.engine.dispose()


def held_by(world: World, pid: int, state: str | None = None) -> set[int]:
    """The outbox rows leased by the worker process ``pid`` (lease owner host:pid:...)."""
    with world.engine.connect() as conn:
        query = select(outbox.c.id).where(
            outbox.c.issue_id == world.issue_id, outbox.c.lease_owner.like(f"%:{pid}:%")
        )
        if state is not None:
            query = query.where(outbox.c.state == state)
        return set(conn.execute(query).scalars())


def emails_of(world: World, row_ids: set[int]) -> set[str]:
    from briefing.store.subscribers_schema import subscribers

    if not row_ids:
        return set()
    with world.engine.connect() as conn:
        return set(
            conn.execute(
                select(subscribers.c.email)
                .join(outbox, outbox.c.subscriber_id == subscribers.c.id)
                .where(outbox.c.id.in_(row_ids))
            ).scalars()
        )


# --- a. four workers, 20,000 subscribers, one worker SIGKILLed mid-run ---------------------------


def test_four_workers_20000_subscribers_one_sigkilled_mid_run(
    pg_world: Callable[[int], World], smtp_server: Any
) -> None:
    """Every subscriber gets the issue exactly once, except the rows the killed worker had
    in `sending` (at most one per connection: two), which the others report as ambiguous
    and resend; nothing is left claimed."""
    n = int(os.environ.get("BRIEFING_TEST_PG_KILL_SUBSCRIBERS", "20000"))
    started = time.monotonic()
    world = pg_world(n)
    setup = time.monotonic() - started
    sink = smtp_server
    queued = world.run("send", str(world.issue_id), "--transport", sink.url, "--queue", "--json")
    assert queued.code == 0, queued.err
    assert queued.doc["counts"]["queued"] == n
    workers = [world.worker(sink, "--concurrency", "2") for _ in range(4)]
    doomed, survivors = workers[0], workers[1:]
    with running(workers):
        # mid-run: a quarter of the list delivered, and the doomed worker holding rows
        wait_for(sink, n // 4, workers, timeout=120)
        deadline = time.monotonic() + 30
        while not held_by(world, doomed.pid):
            assert time.monotonic() < deadline, "the doomed worker never held rows"
            time.sleep(0.01)
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.communicate(timeout=10)
        assert doomed.returncode == -signal.SIGKILL
        time.sleep(0.2)  # a message in the server's hands lands (or not) now
        held = held_by(world, doomed.pid)
        caught = emails_of(world, held_by(world, doomed.pid, "sending"))
        assert held, "the killed worker held no rows"
        assert len(caught) <= 2, caught  # one per connection at most
        assert len(sink.messages) < n, "killed too late to test anything"
        waited = world.run("send", str(world.issue_id), "--wait", "--json", timeout=300)
        assert waited.code == 0, waited.err
        assert waited.doc["state"] == "sent" and waited.doc["sent"] == n, waited.doc
        stopped = [stop(w) for w in survivors]
    seconds = time.monotonic() - started
    assert [s.code for s in stopped] == [0, 0, 0], [s.err for s in stopped]
    ambiguous = [a for s in stopped for a in s.doc["ambiguous"]]
    assert sorted(ambiguous) == sorted(caught), (ambiguous, caught)
    got = sink.received()
    assert set(got) == set(world.emails), len(set(world.emails) - set(got))
    twice = {e for e, k in got.items() if k > 1}
    assert twice <= caught, twice - caught
    assert max(got.values()) <= 2
    assert world.state() == "sent"
    assert world.leased() == 0
    counts = world.counts()
    assert counts["sent"] == n and counts["sending"] == counts["queued"] == 0, counts
    print(
        f"\n{n} subscribers, 4 workers, one SIGKILLed ({len(held)} rows held, "
        f"{len(caught)} caught in sending): set-up {setup:.1f} s, all {seconds:.1f} s"
    )
