"""`briefing send N --queue`, `briefing worker` processes and `briefing send N --wait`,
against a real SMTP server (aiosmtpd on 127.0.0.1) and a real database (a SQLite file,
or PostgreSQL under --backend postgresql): two workers deliver every subscriber exactly once and stop cleanly on SIGTERM; a worker
SIGKILLed mid-run leaves its rows to the others once its lease ran out; delivery.rate
holds for the whole send, not per worker.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine, select, update

from briefing.config import load_settings
from briefing.services import ingest as pipeline
from briefing.services import issues as editorial
from briefing.services import subscriptions
from briefing.store import issues as issue_store
from briefing.store import outbox as outbox_store
from briefing.store.db import open_engine
from briefing.store.outbox_schema import outbox
from briefing.store.subscribers_schema import subscribers

if TYPE_CHECKING:
    from conftest import Databases

REPO = Path(__file__).parent.parent.parent
BRIEFING = REPO / ".venv" / "bin" / "briefing"
SECRET = "worker-e2e-secret-" + "k" * 24
BASE_URL = "https://news.example.org"

Sink = Any  # conftest.SMTPSink


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.out)
        return doc


@dataclass
class World:
    root: Path
    db: str
    engine: Engine
    issue_id: int
    emails: list[str]
    env: dict[str, str]

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [str(BRIEFING), "--config", str(REPO / "briefing.toml"), "--db", self.db, *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )

    def run(self, *args: str, timeout: float = 60, env: dict[str, str] | None = None) -> Run:
        proc = self.popen(*args, env=env)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            raise AssertionError(
                f"`briefing {' '.join(args)}` did not end in {timeout} s: {err.decode()[-2000:]}"
            ) from exc
        return Run(proc.returncode, out.decode(), " ".join(err.decode().split()))

    def worker(self, sink: Sink, *extra: str, env: dict[str, str] | None = None) -> Any:
        return self.popen(
            "worker", "--transport", sink.url, "--poll", "0.2", "--json", *extra, env=env
        )

    def state(self) -> str:
        with self.engine.connect() as conn:
            return issue_store.get_issue(conn, self.issue_id).state

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return outbox_store.counts(conn, self.issue_id)

    def leased(self) -> int:
        with self.engine.connect() as conn:
            return len(
                conn.execute(
                    select(outbox.c.id).where(
                        outbox.c.issue_id == self.issue_id, outbox.c.lease_owner.is_not(None)
                    )
                ).all()
            )

    def rows_in(self, state: str) -> set[str]:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(subscribers.c.email)
                .join(outbox, outbox.c.subscriber_id == subscribers.c.id)
                .where(outbox.c.issue_id == self.issue_id, outbox.c.state == state)
            ).scalars()
            return set(found)


def address(i: int) -> str:
    return f"reader{i:05d}@example.org"


def build_world(root: Path, db: str, n: int) -> World:
    shutil.copytree(REPO / "seeds", root / "seeds")
    settings = load_settings(
        REPO / "briefing.toml",
        overrides={"storage": {"url": db}, "seeds": {"folder": str(root / "seeds")}},
    )
    engine = open_engine(settings.database_url)
    pipeline.ingest(settings, engine, seeds_dir=root / "seeds", only_given=True)
    issue = editorial.draft(settings, engine)
    assert issue.included, "the seeds gave the issue no story"
    issue = editorial.approve(engine, issue.id, by="Ed")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["email", "name"])
    for i in range(n):
        writer.writerow([address(i), f"Reader {i}"])
    (root / "subscribers.csv").write_text(buffer.getvalue(), encoding="utf-8")
    report = subscriptions.import_file(settings, engine, root / "subscribers.csv")
    assert report.added == n, report
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")}
    env["BRIEFING_SECRET"] = SECRET
    env["BRIEFING_NEWSLETTER_BASE_URL"] = BASE_URL
    return World(root, db, engine, issue.id, [address(i) for i in range(n)], env)


@pytest.fixture
def make_world(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    databases: Databases,
) -> Iterator[Callable[..., World]]:
    """make_world(n, db=None): seeds ingested, an issue drafted and approved, ``n`` active
    subscribers; ``db``: a database URL at the newest revision (default a new database on
    the run's backend)."""
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)
    monkeypatch.setenv("BRIEFING_NEWSLETTER_BASE_URL", BASE_URL)
    worlds: list[World] = []

    def make(n: int, db: str | None = None) -> World:
        root = tmp_path_factory.mktemp("workers")
        world = build_world(root, db or databases.new(root), n)
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        world.engine.dispose()


@contextlib.contextmanager
def running(procs: list[Any]) -> Iterator[list[Any]]:
    """Kill whatever is still running at the end (a failed test)."""
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate(timeout=10)


def stop(proc: Any, timeout: float = 30) -> Run:
    """SIGTERM a worker; its exit code and output."""
    os.killpg(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=timeout)
    return Run(proc.returncode, out.decode(), " ".join(err.decode().split()))


def each_once(sink: Sink, emails: list[str]) -> None:
    got = sink.received()
    assert got == Counter({e: 1 for e in emails}), {
        e: got.get(e, 0) for e in set(emails) | set(got) if got.get(e, 0) != 1
    }


def wait_for(sink: Sink, count: int, procs: list[Any], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(sink.messages) < count:
        for proc in procs:
            assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"only {len(sink.messages)} messages arrived"
        time.sleep(0.01)


# --- 1. queue, two workers, wait, SIGTERM -------------------------------------------------------


def two_workers_deliver_once(
    world: World, sink: Sink, *, concurrency: int = 2, count: int = 2
) -> float:
    """`send --queue`, two workers, `send --wait`: each subscriber once, the issue sent;
    SIGTERM stops both with exit 0 and nothing claimed. Returns the wait's seconds."""
    queued = world.run("send", str(world.issue_id), "--transport", sink.url, "--queue", "--json")
    assert queued.code == 0, queued.err
    assert queued.doc["counts"]["queued"] == len(world.emails)
    assert world.state() == "sending"
    assert len(sink.messages) == 0  # queued, not delivered
    workers = [world.worker(sink, "--concurrency", str(concurrency)) for _ in range(count)]
    with running(workers):
        started = time.monotonic()
        waited = world.run(
            "send", str(world.issue_id), "--wait", "--json", timeout=60 + len(world.emails) / 50
        )
        seconds = time.monotonic() - started
        assert waited.code == 0, waited.err
        assert waited.doc["state"] == "sent" and waited.doc["finished"] is True
        assert waited.doc["sent"] == len(world.emails)
        stopped = [stop(w) for w in workers]
    assert [s.code for s in stopped] == [0] * count, [s.err for s in stopped]
    docs = [s.doc for s in stopped]
    assert sum(d["sent"] for d in docs) == len(world.emails)
    assert all(d["ambiguous"] == [] for d in docs)
    each_once(sink, world.emails)
    assert world.state() == "sent"
    assert world.leased() == 0
    assert world.counts()["sent"] == len(world.emails)
    return seconds


def test_queue_then_two_workers_deliver_each_subscriber_once(
    make_world: Callable[..., World], smtp_server: Sink
) -> None:
    world = make_world(120)
    two_workers_deliver_once(world, smtp_server)


def test_sigterm_mid_send_exits_0_with_nothing_claimed_and_another_worker_finishes(
    make_world: Callable[..., World], smtp_server: Sink
) -> None:
    world = make_world(150)
    smtp_server.delay = 0.01
    assert (
        world.run("send", str(world.issue_id), "--transport", smtp_server.url, "--queue").code == 0
    )
    first = world.worker(smtp_server, "--concurrency", "2")
    with running([first]):
        wait_for(smtp_server, 20, [first])
        stopped = stop(first)
    assert stopped.code == 0, stopped.err
    assert world.leased() == 0 and world.counts()["sending"] == 0
    assert world.state() == "sending"
    assert 0 < stopped.doc["sent"] < len(world.emails)
    smtp_server.delay = 0
    second = world.worker(smtp_server)
    with running([second]):
        waited = world.run("send", str(world.issue_id), "--wait", "--json")
        assert waited.code == 0, waited.err
        assert stop(second).code == 0
    each_once(smtp_server, world.emails)
    assert world.state() == "sent" and world.leased() == 0


# --- 2. a worker SIGKILLed: its rows come back when its lease runs out ---------------------------


def killed_worker_rows_come_back(world: World, sink: Sink, *, lease: float, others: int) -> None:
    """One worker (2 connections) SIGKILLed mid-run, as if on another machine: its rows stay
    leased until the lease runs out, then ``others`` workers take them up. Every
    subscriber gets the issue once, except the rows caught in `sending` (at most one per
    connection), which the taker reports as ambiguous and resends."""
    assert world.run("send", str(world.issue_id), "--transport", sink.url, "--queue").code == 0
    sink.delay = 0.02
    doomed = world.worker(sink, "--concurrency", "2", "--lease", str(lease))
    with running([doomed]):
        wait_for(sink, 30, [doomed])
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.communicate(timeout=10)
    assert doomed.returncode == -signal.SIGKILL
    time.sleep(sink.delay * 3)  # a message in the server's hands lands (or not) now
    caught = world.rows_in("sending")
    assert len(caught) <= 2
    # the dead worker was on another machine: its process cannot be seen to be gone
    until = datetime.now(UTC) + timedelta(seconds=lease)
    with world.engine.begin() as conn:
        held = conn.execute(
            update(outbox)
            .where(outbox.c.issue_id == world.issue_id, outbox.c.lease_owner.is_not(None))
            .values(lease_owner="elsewhere.example:4242:w0", lease_until=until)
        ).rowcount
    assert held > 0, "the killed worker held no rows"
    sink.delay = 0
    received_before = len(sink.messages)
    taken_at = time.monotonic()
    workers = [world.worker(sink, "--concurrency", "2") for _ in range(others)]
    with running(workers):
        waited = world.run("send", str(world.issue_id), "--wait", "--json", timeout=120)
        elapsed = time.monotonic() - taken_at
        assert waited.code == 0, waited.err
        # the held rows were left alone until the lease ran out
        assert elapsed >= lease * 0.8, elapsed
        assert len(sink.messages) > received_before
        stopped = [stop(w) for w in workers]
    assert all(s.code == 0 for s in stopped), [s.err for s in stopped]
    ambiguous = {a for s in stopped for a in s.doc["ambiguous"]}
    assert ambiguous == caught
    got = sink.received()
    assert set(got) == set(world.emails), set(world.emails) - set(got)
    twice = {e for e, n in got.items() if n > 1}
    assert twice <= ambiguous, twice - ambiguous
    assert max(got.values()) <= 2
    assert world.state() == "sent"
    assert world.leased() == 0
    assert world.counts()["sent"] == len(world.emails)


def test_a_sigkilled_workers_rows_come_back_after_its_lease(
    make_world: Callable[..., World], smtp_server: Sink
) -> None:
    world = make_world(200)
    killed_worker_rows_come_back(world, smtp_server, lease=3.0, others=2)


def test_a_sigkilled_worker_on_this_machine_is_taken_over_at_once(
    make_world: Callable[..., World], smtp_server: Sink
) -> None:
    """Same machine: the dead process is seen to be gone, its rows need not wait."""
    world = make_world(200)
    assert (
        world.run("send", str(world.issue_id), "--transport", smtp_server.url, "--queue").code == 0
    )
    smtp_server.delay = 0.02
    doomed = world.worker(smtp_server, "--concurrency", "2")
    with running([doomed]):
        wait_for(smtp_server, 30, [doomed])
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.communicate(timeout=10)
    time.sleep(smtp_server.delay * 3)
    caught = world.rows_in("sending")
    smtp_server.delay = 0
    other = world.worker(smtp_server)
    with running([other]):
        waited = world.run("send", str(world.issue_id), "--wait", "--json", timeout=30)
        assert waited.code == 0, waited.err
        assert waited.doc["seconds"] < 20
        done = stop(other)
    assert done.code == 0
    assert set(done.doc["ambiguous"]) == caught
    got = sink_twice = smtp_server.received()
    assert set(got) == set(world.emails)
    assert {e for e, n in sink_twice.items() if n > 1} <= caught
    assert world.state() == "sent" and world.leased() == 0


# --- 3. delivery.rate is for the whole send -----------------------------------------------------


def test_the_rate_holds_across_workers(make_world: Callable[..., World], smtp_server: Sink) -> None:
    """Two workers of one connection each, delivery.rate 20/s: 60 messages take about 3 s
    (each worker alone at 20/s would take 1.5 s)."""
    world = make_world(60)
    assert (
        world.run("send", str(world.issue_id), "--transport", smtp_server.url, "--queue").code == 0
    )
    rate = {"BRIEFING_DELIVERY_RATE_PER_SECOND": "20"}
    workers = [
        world.worker(smtp_server, "--concurrency", "1", "--batch", "5", env=rate) for _ in range(2)
    ]
    arrived: list[float] = []
    smtp_server.on_message = lambda _mail: arrived.append(time.monotonic())
    with running(workers):
        waited = world.run("send", str(world.issue_id), "--wait", "--json")
        assert waited.code == 0, waited.err
        stopped = [stop(w) for w in workers]
    assert all(s.code == 0 for s in stopped)
    assert all(s.doc["sent"] > 0 for s in stopped), "both workers should have sent"
    each_once(smtp_server, world.emails)
    span = arrived[-1] - arrived[0]
    assert span >= 2.3, f"60 messages in {span:.2f} s: faster than 20/s"
    assert span < 8, f"60 messages in {span:.2f} s: far slower than 20/s"


# --- 4. --wait and --queue on their own ----------------------------------------------------------


def test_wait_on_an_issue_not_queued_says_so(
    make_world: Callable[..., World], smtp_server: Sink
) -> None:
    world = make_world(3)
    waited = world.run("send", str(world.issue_id), "--wait")
    assert waited.code == 1
    assert "not being sent" in waited.err and "--queue" in waited.err
    assert world.state() == "approved"


# --- over PostgreSQL: the tests above run there too in scripts/test's second pass (--backend
# postgresql); tests/e2e/test_workers_pg.py kills workers and a scheduler's leader there


class Lines:
    """A process's stderr lines, read on a thread."""

    def __init__(self, proc: Any) -> None:
        import threading

        self.proc, self.lines = proc, []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for raw in self.proc.stderr:
            self.lines.append(raw.decode(errors="replace"))

    def has(self, word: str) -> bool:
        return any(word in line for line in list(self.lines))
