"""Workers on any number of machines, over a real PostgreSQL, with a real SMTP server
(aiosmtpd on 127.0.0.1) and real `briefing` processes: four workers and 20,000
subscribers with one worker SIGKILLed mid-run; two schedulers whose leader is SIGKILLed
just before the send time; a send paused and resumed while workers deliver; a subscriber
who unsubscribes (the one-click link) after the send started.

The helpers (World, the worker processes) are test_workers.py's.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from test_workers import Lines, World, build_world, each_once, running, stop, wait_for

from briefing.store import issues as issue_store
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


# --- b. two schedulers, the leader SIGKILLed just before the send time --------------------------

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def job_docs(lines: Lines) -> list[dict[str, Any]]:
    """The JSON lines a `schedule run` logged (jobs and events)."""
    docs = []
    for line in list(lines.lines):
        with contextlib.suppress(ValueError):
            doc = json.loads(line)
            if isinstance(doc, dict):
                docs.append(doc)
    return docs


def wait_for_line(lines: Lines, word: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not lines.has(word):
        assert lines.proc.poll() is None, lines.lines
        assert time.monotonic() < deadline, f"no {word} in {lines.lines}"
        time.sleep(0.05)


def test_leader_sigkilled_just_before_the_send_time_the_standby_sends_once(
    pg_world: Callable[[int], World], smtp_server: Any
) -> None:
    """Two `schedule run` on one database: one leads, the other stands by. The leader is
    SIGKILLed two seconds before the send time, having sent nothing; the standby takes the
    leader lock and sends the issue, at the send time or just after it, to each subscriber
    once; the dead leader sent nothing."""
    n = 300
    world = pg_world(n)
    sink = smtp_server
    # the schedule's send time has a minute's resolution: the next whole minute with
    # time enough for both schedulers to start before it
    soon = datetime.now(UTC) + timedelta(seconds=12)
    planned = soon.replace(second=0, microsecond=0)
    if planned < soon:
        planned += timedelta(minutes=1)
    env = {
        "BRIEFING_SCHEDULE_SEND": f"{DAYS[planned.weekday()]} {planned:%H:%M}",
        "BRIEFING_SCHEDULE_TIMEZONE": "UTC",
        "BRIEFING_SCHEDULE_EDITORS": "[]",
    }
    leader = world.popen("schedule", "run", "--transport", sink.url, env=env)
    with running([leader]):
        first = Lines(leader)
        wait_for_line(first, '"scheduler started"')
        assert first.has('"leading"'), first.lines
        standby = world.popen("schedule", "run", "--transport", sink.url, env=env)
        with running([standby]):
            second = Lines(standby)
            wait_for_line(second, '"standing by"')
            kill_at = planned - timedelta(seconds=2)
            while datetime.now(UTC) < kill_at:
                assert leader.poll() is None and standby.poll() is None
                time.sleep(0.02)
            assert datetime.now(UTC) < planned - timedelta(seconds=1), "too late to test anything"
            assert len(sink.messages) == 0 and world.state() == "approved"
            assert not second.has('"leading"'), second.lines
            os.killpg(leader.pid, signal.SIGKILL)
            leader.wait(timeout=10)
            killed = time.monotonic()
            deadline = time.monotonic() + 60
            while world.state() != "sent" or len(sink.messages) < n:
                assert standby.poll() is None, second.lines
                assert time.monotonic() < deadline, (world.counts(), second.lines)
                time.sleep(0.05)
            took_over = time.monotonic() - killed
            assert took_over < 15, took_over  # the standby leads, and has sent, within bounds
            time.sleep(1)  # a second send, if there were one, would have begun by now
            os.killpg(standby.pid, signal.SIGTERM)
            assert standby.wait(timeout=30) == 0, second.lines
    each_once(sink, world.emails)
    with world.engine.connect() as conn:
        issue = issue_store.get_issue(conn, world.issue_id)
    assert issue.state == "sent" and issue.sent_at is not None
    assert issue.sent_at >= planned, (issue.sent_at, planned)  # not before its time
    assert issue.planned_for == planned
    led = job_docs(first)
    assert [d["event"] for d in led if "event" in d] == ["leading", "scheduler started"], led
    assert all(d.get("outcome") == "nothing due" for d in led if "job" in d), led
    took = job_docs(second)
    events = [d["event"] for d in took if "event" in d]
    assert events[:3] == ["standing by", "leading", "scheduler started"], events
    sends = [d for d in took if d.get("job") in ("send", "send-retry")]
    sent = [d for d in sends if d["outcome"] == "sent"]
    assert len(sent) == 1, sends
    assert sent[0]["issue"] == world.issue_id and sent[0]["sent_this_run"] == n, sent
    assert datetime.fromisoformat(sent[0]["at"]) >= planned, sent
    assert world.counts()["sent"] == n and world.leased() == 0
    (leading,) = [d for d in took if d.get("event") == "leading"]
    print(
        f"\nsend time {planned:%H:%M:%S}; the standby led from {leading['ts']}, "
        f"sent by its {sent[0]['job']} job at {sent[0]['at']}"
    )


# --- c. a send paused and resumed while workers deliver ------------------------------------------


def settle(world: World, procs: list[Any], timeout: float = 30) -> dict[str, int]:
    """Wait until no row is claimed or in `sending` (the workers let go); the counts."""
    deadline = time.monotonic() + timeout
    while True:
        counts = world.counts()
        if counts["sending"] == 0 and world.leased() == 0:
            return counts
        for proc in procs:
            assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, (counts, world.leased())
        time.sleep(0.05)


def test_a_send_paused_while_workers_deliver_stops_then_resumes_once_each(
    pg_world: Callable[[int], World], smtp_server: Any
) -> None:
    """`send N --pause` (recorded in the outbox, as another sender's error-rate pause is:
    tests/test_deliver_engine.py checks that one against the engine) while three
    workers deliver: they finish the messages in flight, give back the rows they hold and
    send nothing more, while they keep running; `send --wait` stops saying the send is
    paused. `send N --queue` lifts the pause and the same workers deliver the rest: each
    subscriber gets the issue once."""
    n = 3000
    world = pg_world(n)
    sink = smtp_server
    assert world.run("send", str(world.issue_id), "--transport", sink.url, "--queue").code == 0
    workers = [world.worker(sink, "--concurrency", "2") for _ in range(3)]
    with running(workers):
        watcher = world.popen("send", str(world.issue_id), "--wait", "--json")
        with running([watcher]):
            wait_for(sink, 300, workers, timeout=60)
            reason = "paused by Ann"
            paused = world.run("send", str(world.issue_id), "--pause", "--by", "Ann", "--json")
            assert paused.code == 0, paused.err
            assert paused.doc["state"] == "sending", paused.doc
            assert reason in paused.doc["paused"], paused.doc
            out, err = watcher.communicate(timeout=30)
        assert watcher.returncode == 1, err.decode()
        assert reason[:40] in " ".join(err.decode().split())
        assert reason in json.loads(out)["paused"]
        counts = settle(world, workers)
        arrived = len(sink.messages)
        assert 300 <= arrived < n, "paused too late to test anything"
        # every message that went is recorded sent; the rest wait, queued, none lost
        assert counts["sent"] == arrived and counts["queued"] == n - arrived, counts
        assert counts["failed"] == counts["skipped"] == counts["deferred"] == 0, counts
        time.sleep(3)  # many polls of every worker: none takes the paused send up
        assert len(sink.messages) == arrived
        assert world.counts() == counts and world.leased() == 0
        assert all(w.poll() is None for w in workers), "the workers keep running"
        assert world.state() == "sending"

        resumed = world.run("send", str(world.issue_id), "--transport", sink.url, "--queue")
        assert resumed.code == 0, resumed.err
        waited = world.run("send", str(world.issue_id), "--wait", "--json", timeout=120)
        assert waited.code == 0, waited.err
        assert waited.doc["state"] == "sent" and waited.doc["sent"] == n, waited.doc
        stopped = [stop(w) for w in workers]
    assert [s.code for s in stopped] == [0, 0, 0], [s.err for s in stopped]
    assert all(s.doc["ambiguous"] == [] for s in stopped)
    assert sum(s.doc["sent"] for s in stopped) == n
    assert all(s.doc["paused"].get(str(world.issue_id), reason) == reason for s in stopped)
    each_once(sink, world.emails)
    assert world.state() == "sent" and world.leased() == 0


# --- d. an unsubscribe in the middle of a send ---------------------------------------------------


def one_click(url: str) -> Any:
    """The RFC 8058 POST a mailbox provider sends for the List-Unsubscribe header."""
    import httpx

    return httpx.post(
        url,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )


def test_an_unsubscribe_during_a_send_with_workers_stops_only_that_message(
    pg_world: Callable[[int], World], smtp_server: Any, asgi_server: Any
) -> None:
    """Three workers deliver; once the send is under way some subscribers whose messages
    are still to come press the one-click unsubscribe (the web app over HTTP, on the same
    database): the rows already claimed by a worker and those nobody claimed yet alike.
    They get nothing; a subscriber who unsubscribes after their message went has it once;
    everyone else gets the issue once."""
    from test_workers import BASE_URL, REPO

    from briefing.config import load_settings
    from briefing.store.subscribers_schema import subscribers
    from briefing.tokens import manage_links
    from briefing.web.app import create_app

    n = 1500
    world = pg_world(n)
    sink = smtp_server
    settings = load_settings(REPO / "briefing.toml", overrides={"storage": {"url": world.db}})
    site = asgi_server.start(create_app(settings, world.engine))
    assert world.run("send", str(world.issue_id), "--transport", sink.url, "--queue").code == 0
    sink.delay = 0.01
    workers = [world.worker(sink, "--concurrency", "2") for _ in range(3)]
    with running(workers):
        wait_for(sink, 100, workers, timeout=60)
        # the rows furthest from each sender's turn: the end of every claimed batch, and
        # the last of those nobody claimed yet
        with world.engine.connect() as conn:
            rows = conn.execute(
                select(
                    outbox.c.id, outbox.c.lease_owner, subscribers.c.email, subscribers.c.token_id
                )
                .join(subscribers, subscribers.c.id == outbox.c.subscriber_id)
                .where(outbox.c.issue_id == world.issue_id, outbox.c.state == "queued")
                .order_by(outbox.c.id)
            ).all()
        by_owner: dict[str | None, list[Any]] = {}
        for row in rows:
            by_owner.setdefault(row.lease_owner, []).append(row)
        claimed = [r for owner, held in by_owner.items() if owner for r in held[-2:]]
        unclaimed = by_owner.get(None, [])[-3:]
        assert len(claimed) >= 4 and len(unclaimed) == 3, {k: len(v) for k, v in by_owner.items()}
        leaving = claimed + unclaimed
        for row in leaving:
            url = manage_links(BASE_URL, row.token_id, settings.secrets())[0]
            answer = one_click(url.replace(BASE_URL, site))
            assert answer.status_code == 200, answer.text
        # someone whose message already went leaves too, through the link in it
        (first,) = sink.to(world.emails[0])
        header = str(first.message()["List-Unsubscribe"])
        (link,) = [u.strip(" <>") for u in header.split(",") if "/u/" in u]
        assert one_click(link.replace(BASE_URL, site)).status_code == 200
        sink.delay = 0
        waited = world.run("send", str(world.issue_id), "--wait", "--json", timeout=120)
        assert waited.code == 0, waited.err
        stopped = [stop(w) for w in workers]
    assert [s.code for s in stopped] == [0, 0, 0], [s.err for s in stopped]
    gone = {r.email for r in leaving}
    got = sink.received()
    assert not gone & set(got), gone & set(got)
    each_once(sink, [e for e in world.emails if e not in gone])
    assert world.rows_in("skipped") == gone
    assert world.rows_in("sent") == set(world.emails) - gone
    with world.engine.connect() as conn:
        left = dict(
            conn.execute(
                select(subscribers.c.email, subscribers.c.status).where(
                    subscribers.c.status != "active"
                )
            ).all()
        )
    assert left == dict.fromkeys(gone | {world.emails[0]}, "unsubscribed"), left
    assert world.state() == "sent" and world.leased() == 0
    assert waited.doc["skipped"] == len(gone) and waited.doc["sent"] == n - len(gone)
