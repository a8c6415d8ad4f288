"""The scheduler as real processes: `briefing schedule tick` and `briefing schedule run`
against a real SMTP server (aiosmtpd on 127.0.0.1) and one SQLite file. Two schedulers at
once, a scheduler SIGKILLed or SIGTERMed in the middle of a send and started again, and a
restart after the send window closed.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine, select, update

from briefing.config import Settings, load_settings
from briefing.models import Issue
from briefing.services import ingest as pipeline
from briefing.services import issues as editorial
from briefing.services import subscriptions
from briefing.store import issues as issue_store
from briefing.store import outbox as outbox_store
from briefing.store.db import open_engine
from briefing.store.locks_schema import locks
from briefing.store.outbox_schema import outbox
from briefing.store.subscribers_schema import subscribers

if TYPE_CHECKING:
    from conftest import Databases

REPO = Path(__file__).parent.parent.parent
BRIEFING = REPO / ".venv" / "bin" / "briefing"
SECRET = "schedule-process-secret-" + "p" * 24
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EDITOR = "desk@example.org"

# the configured send for the `tick --at` tests: Monday 07:00 UTC; 2026-11-23 is a Monday
SEND_AT = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
WEEKLY = {
    "send": "mon 07:00",
    "timezone": "UTC",
    "ingest_every": "6h",
    "draft_before": "24h",
    "retry_every": "10m",
    "expire_after": "6h",
    "editors": [],
}

Sink = Any  # conftest.SMTPSink


def address(i: int) -> str:
    return f"reader{i:03d}@example.org"


def real_clock_send(minutes_ago: int = 3, **schedule: Any) -> tuple[dict[str, Any], datetime]:
    """A [schedule] whose send was ``minutes_ago`` minutes ago by the real clock (UTC),
    and that planned send time."""
    planned = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).replace(second=0, microsecond=0)
    return {**WEEKLY, "send": f"{DAYS[planned.weekday()]} {planned:%H:%M}", **schedule}, planned


def toml_value(value: Any) -> str:
    return json.dumps(value)  # strings, lists of strings, booleans, numbers: valid TOML too


# --- processes ----------------------------------------------------------------------------------


class Proc:
    """A `briefing` process in its own process group; stdout and stderr read as they come."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.argv = argv
        self.popen = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self.signalled = False  # the test stopped it: its exit is not a failure to report
        self._lock = threading.Lock()
        self._readers = [
            threading.Thread(target=self._read, args=(self.popen.stdout, self.out), daemon=True),
            threading.Thread(target=self._read, args=(self.popen.stderr, self.err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: Any, into: list[str]) -> None:
        for raw in iter(stream.readline, b""):
            with self._lock:
                into.append(raw.decode("utf-8", "replace"))
        stream.close()

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stderr_lines(self) -> list[str]:
        with self._lock:
            return [line for line in "".join(self.err).splitlines() if line.strip()]

    def job_lines(self, job: str) -> list[dict[str, Any]]:
        """The JSON log lines of one job's runs (stderr of `schedule run`)."""
        found = []
        for line in self.stderr_lines():
            with contextlib.suppress(ValueError):
                doc = json.loads(line)
                if isinstance(doc, dict) and doc.get("job") == job:
                    found.append(doc)
        return found

    def signal(self, sig: int) -> None:
        self.signalled = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

    def wait(self, timeout: float) -> int:
        try:
            code = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            self.signal(signal.SIGKILL)
            self.popen.wait(timeout=10)
            raise AssertionError(
                f"`{' '.join(self.argv[3:])}` did not end in {timeout} s; stderr: {self.err_text}"
            ) from exc
        for reader in self._readers:
            reader.join(timeout=10)
        return code

    @property
    def out_text(self) -> str:
        with self._lock:
            return "".join(self.out)

    @property
    def err_text(self) -> str:
        with self._lock:
            return "".join(self.err)

    def doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.out_text)
        return doc

    def kill(self) -> None:
        """Teardown: make sure nothing is left running."""
        if self.alive():
            self.signal(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=10)


# --- a newsletter with a schedule, on disk --------------------------------------------------------


@dataclass
class World:
    root: Path
    config: Path
    settings: Settings
    engine: Engine
    issue_id: int
    emails: list[str]
    env: dict[str, str]
    procs: list[Proc] = field(default_factory=list)

    def start(self, *args: str) -> Proc:
        proc = Proc([str(BRIEFING), "--config", str(self.config), *args], self.root, self.env)
        self.procs.append(proc)
        return proc

    def tick(self, at: datetime, sink: Sink, *more: str) -> Proc:
        return self.start(
            "schedule", "tick", "--job", "send", "--at", at.isoformat(),
            "--transport", sink.url, "--json", *more,
        )  # fmt: skip

    def scheduler(self, sink: Sink) -> Proc:
        return self.start("schedule", "run", "--transport", sink.url)

    # --- the database ---

    def issue(self) -> Issue:
        with self.engine.connect() as conn:
            return issue_store.get_issue(conn, self.issue_id)

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return outbox_store.counts(conn, self.issue_id)

    def rows(self) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(outbox, subscribers.c.email)
                .join(subscribers, subscribers.c.id == outbox.c.subscriber_id)
                .where(outbox.c.issue_id == self.issue_id)
            ).mappings()
            return {r["email"]: dict(r) for r in found}

    def leased_rows(self) -> int:
        with self.engine.connect() as conn:
            return len(
                conn.execute(
                    select(outbox.c.id).where(
                        outbox.c.issue_id == self.issue_id, outbox.c.lease_owner.is_not(None)
                    )
                ).all()
            )

    def wait_until(self, what: Callable[[], bool], timeout: float, why: str) -> None:
        deadline = time.monotonic() + timeout
        while not what():
            for proc in self.procs:
                if not proc.signalled and proc.popen.poll() not in (0, None):
                    raise AssertionError(f"a process died while waiting for {why}: {proc.err_text}")
            assert time.monotonic() < deadline, f"timed out waiting for {why}"
            time.sleep(0.02)


@pytest.fixture
def make_world(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    databases: Databases,
) -> Iterator[Callable[..., World]]:
    """make_world(n, schedule={...}, approve=True): a briefing.toml in its own folder (the
    repo's, with this storage (a new database on the run's backend), seeds folder and
    [schedule]); seeds ingested; an issue drafted (and approved by "Ed"); ``n`` active
    subscribers imported from a CSV."""
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)
    worlds: list[World] = []

    def make(n: int, *, schedule: dict[str, Any], approve: bool = True) -> World:
        root = tmp_path_factory.mktemp("sched")
        shutil.copytree(REPO / "seeds", root / "seeds")
        db = databases.new(root)
        text = (REPO / "briefing.toml").read_text(encoding="utf-8")
        text, found = re.subn(r'(?m)^url = "sqlite:///var/briefing\.db"$', f'url = "{db}"', text)
        assert found == 1, "the repo's briefing.toml changed its [storage] url"
        text, found = re.subn(r'(?m)^folder = "seeds"$', f'folder = "{root / "seeds"}"', text)
        assert found == 1, "the repo's briefing.toml changed its [seeds] folder"
        # a real send refuses links that would not work (http://, loopback)
        text, found = re.subn(
            r'(?m)^base_url = ".*"$', 'base_url = "https://news.example.org"', text
        )
        assert found == 1, "the repo's briefing.toml changed its base_url"
        # the repo's [schedule] is its last table: replace it with this test's
        head, found_schedule, tail = text.partition("\n[schedule]\n")
        assert found_schedule and not re.search(r"(?m)^\[", tail), "[schedule] is not last"
        text = head + "\n[schedule]\n"
        text += "".join(f"{k} = {toml_value(v)}\n" for k, v in schedule.items())
        config = root / "briefing.toml"
        config.write_text(text, encoding="utf-8")
        settings = load_settings(config, env={"BRIEFING_SECRET": SECRET})
        assert settings.database_url == db
        engine = open_engine(settings.database_url)
        pipeline.ingest(settings, engine, seeds_dir=root / "seeds", only_given=True)
        issue = editorial.draft(settings, engine)
        assert issue.included, "the seeds gave the issue no story"
        if approve:
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
        world = World(
            root=root,
            config=config,
            settings=settings,
            engine=engine,
            issue_id=issue.id,
            emails=[address(i) for i in range(n)],
            env=env,
        )
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        for proc in world.procs:
            proc.kill()
        world.engine.dispose()


def each_once(sink: Sink, emails: list[str]) -> None:
    got = sink.received()
    assert got == Counter({e: 1 for e in emails}), {
        e: got.get(e, 0) for e in set(emails) | set(got) if got.get(e, 0) != 1
    }


def json_lines(proc: Proc) -> list[dict[str, Any]]:
    """Every non-empty stderr line of `schedule run`, each a JSON object."""
    docs = []
    for line in proc.stderr_lines():
        try:
            doc = json.loads(line)
        except ValueError as exc:
            raise AssertionError(f"a stderr line is not JSON: {line!r}") from exc
        assert isinstance(doc, dict), line
        docs.append(doc)
    return docs


# --- 1. two `schedule tick` at the same moment: one send -----------------------------------------


def test_two_ticks_at_once_send_once(make_world: Callable[..., World], smtp_server: Sink) -> None:
    world = make_world(150, schedule=WEEKLY)
    smtp_server.delay = 0.01  # the send takes a while: the second tick finds it under way
    at = SEND_AT + timedelta(minutes=5)

    first, second = world.tick(at, smtp_server), world.tick(at, smtp_server)
    codes = [first.wait(30), second.wait(30)]

    assert codes == [0, 0], (first.err_text, second.err_text)
    docs = [first.doc(), second.doc()]
    assert all(set(d) == {"send"} for d in docs), docs
    outcomes = sorted(d["send"]["outcome"] for d in docs)
    assert outcomes in (["sent", "skipped"], ["already sent", "sent"]), docs
    (sent,) = [d["send"] for d in docs if d["send"]["outcome"] == "sent"]
    assert (sent["issue"], sent["sent"], sent["sent_this_run"]) == (world.issue_id, 150, 150)
    (other,) = [d["send"] for d in docs if d["send"]["outcome"] != "sent"]
    if other["outcome"] == "skipped":
        assert "another scheduler" in other["why"], other
    each_once(smtp_server, world.emails)
    issue = world.issue()
    assert issue.state == "sent" and issue.planned_for == SEND_AT
    assert world.counts()["sent"] == 150


# --- 2. two `schedule run` at once (real APScheduler, real clock): one send -----------------------


def test_two_schedulers_at_once_send_once(
    make_world: Callable[..., World], smtp_server: Sink
) -> None:
    """On SQLite both run their jobs and the database lets one send; on PostgreSQL one
    leads (an advisory lock) and the other stands by, never starting its jobs."""
    world = make_world(150, schedule=real_clock_send()[0])
    elected = world.engine.dialect.name == "postgresql"
    up = ('"scheduler started"', '"standing by"') if elected else ('"scheduler started"',)
    smtp_server.delay = 0.01

    procs = [world.scheduler(smtp_server), world.scheduler(smtp_server)]
    world.wait_until(
        lambda: len(smtp_server.messages) >= 150 and world.issue().state == "sent",
        timeout=20,
        why="the send to finish",
    )
    # both schedulers are up (each logged its start, or on PostgreSQL that it stands by)
    # before they are stopped
    world.wait_until(
        lambda: all(any(word in line for line in p.stderr_lines() for word in up) for p in procs),
        timeout=10,
        why="both schedulers to start",
    )
    time.sleep(0.5)  # a second send, if there were one, would have begun by now
    for proc in procs:
        proc.signal(signal.SIGTERM)
    codes = [proc.wait(15) for proc in procs]

    assert codes == [0, 0], [p.err_text for p in procs]
    each_once(smtp_server, world.emails)
    assert world.issue().state == "sent"
    logs = [json_lines(p) for p in procs]
    runs = [d for log in logs for d in log if d.get("job") in ("send", "send-retry")]
    sent = [d for d in runs if d["outcome"] == "sent"]
    assert len(sent) == 1, runs
    assert sent[0]["job"] == "send-retry" and sent[0]["sent_this_run"] == 150, sent
    assert not [d for d in runs if d["outcome"] not in ("sent", "skipped", "already sent")], runs
    events = sorted([d.get("event") for d in log if "event" in d] for log in logs)
    if elected:
        assert events == [
            ["leading", "scheduler started", "scheduler stopped"],
            ["standing by", "scheduler stopped"],
        ], logs
    else:
        assert events == [["scheduler started", "scheduler stopped"]] * 2, logs
    for log in logs:
        assert "SIGTERM" in log[-1]["why"], log[-1]


# --- 3. a scheduler SIGKILLed in the middle of a send, then started again -------------------------


def _kill_tick_midway(world: World, sink: Sink, at: datetime, *, at_least: int) -> set[str]:
    """`schedule tick --job send --at AT`, SIGKILLed (the whole group) once ``at_least``
    messages arrived; the addresses whose rows were caught in `sending`."""
    proc = world.tick(at, sink)
    world.wait_until(lambda: len(sink.messages) >= at_least, timeout=20, why="the send to start")
    proc.signal(signal.SIGKILL)
    assert proc.wait(10) == -signal.SIGKILL
    time.sleep(sink.delay * 3)  # a message in the server's hands lands (or not) now
    assert at_least <= len(sink.messages) < len(world.emails), "killed too late to test anything"
    assert world.issue().state == "sending"
    return {e for e, r in world.rows().items() if r["state"] == "sending"}


def _check_resumed_once(world: World, sink: Sink, doc: dict[str, Any], caught: set[str]) -> None:
    assert doc["outcome"] == "sent", doc
    assert doc["issue"] == world.issue_id and doc["sent"] == len(world.emails), doc
    assert (doc["queued"], doc["deferred"], doc["failed"], doc["skipped"]) == (0, 0, 0, 0), doc
    assert len(caught) <= 2  # at most one per connection (delivery.workers = 2)
    got = sink.received()
    assert set(got) == set(world.emails), set(world.emails) - set(got)
    twice = {e for e, n in got.items() if n > 1}
    assert twice <= caught, twice - caught
    assert max(got.values()) <= 2
    assert {r["state"] for r in world.rows().values()} == {"sent"}
    assert world.issue().state == "sent"


def test_sigkilled_tick_then_tick_again_resumes_at_once(
    make_world: Callable[..., World], smtp_server: Sink
) -> None:
    world = make_world(200, schedule=WEEKLY)
    smtp_server.delay = 0.02
    at = SEND_AT + timedelta(minutes=5)
    caught = _kill_tick_midway(world, smtp_server, at, at_least=30)
    smtp_server.delay = 0

    again = world.tick(at + timedelta(minutes=10), smtp_server)

    assert again.wait(30) == 0, again.err_text
    _check_resumed_once(world, smtp_server, again.doc()["send"], caught)


def test_sigkilled_tick_then_tick_again_once_the_lease_ran_out(
    make_world: Callable[..., World], smtp_server: Sink
) -> None:
    """The same, once the dead scheduler's job lease has run out (moved into the past here,
    as if its 2 minutes had passed): the send resumes, and nobody gets the issue twice
    except the rows caught in `sending`."""
    world = make_world(200, schedule=WEEKLY)
    smtp_server.delay = 0.02
    at = SEND_AT + timedelta(minutes=5)
    caught = _kill_tick_midway(world, smtp_server, at, at_least=30)
    smtp_server.delay = 0
    recorded = world.counts()["sent"]
    with world.engine.begin() as conn:
        held = conn.execute(select(locks.c.name, locks.c.owner)).all()
        assert [h.name for h in held] == ["job:send"], held  # the dead process's lease
        conn.execute(
            update(locks)
            .where(locks.c.name == "job:send")
            .values(until=datetime.now(UTC) - timedelta(seconds=1))
        )

    again = world.tick(at + timedelta(minutes=10), smtp_server)

    assert again.wait(30) == 0, again.err_text
    doc = again.doc()["send"]
    _check_resumed_once(world, smtp_server, doc, caught)
    assert doc["sent_this_run"] == len(world.emails) - recorded, (doc, recorded)
    with world.engine.connect() as conn:
        assert conn.execute(select(locks.c.name)).all() == [], "the lease is released at the end"


# --- 4. SIGTERM of `schedule run` in the middle of a send, then started again ---------------------


def _sigterm_run_midway(world: World, sink: Sink, *, at_least: int) -> Proc:
    proc = world.scheduler(sink)
    world.wait_until(lambda: len(sink.messages) >= at_least, timeout=20, why="the send to start")
    proc.signal(signal.SIGTERM)
    code = proc.wait(20)
    assert code == 0, proc.err_text
    assert len(sink.messages) < len(world.emails), "stopped too late to test anything"
    return proc


def test_sigterm_of_schedule_run_mid_send_stops_cleanly(
    make_world: Callable[..., World], smtp_server: Sink
) -> None:
    world = make_world(200, schedule=real_clock_send()[0])
    smtp_server.delay = 0.02

    proc = _sigterm_run_midway(world, smtp_server, at_least=30)

    counts = world.counts()
    assert counts["sending"] == 0 and counts["queued"] > 0, counts
    assert world.leased_rows() == 0, "a clean stop gives its claimed rows back"
    assert counts["sent"] == len(smtp_server.messages), (counts, len(smtp_server.messages))
    each_once(smtp_server, [e for e, r in world.rows().items() if r["state"] == "sent"])
    assert world.issue().state == "sending"
    with world.engine.connect() as conn:
        assert conn.execute(select(locks.c.name)).all() == [], "the job lease is released"
    log = json_lines(proc)
    (stopped,) = [d for d in log if d.get("job") == "send-retry"]
    assert stopped["outcome"] == "stopped" and stopped["sent"] == counts["sent"], stopped
    assert log[-1]["event"] == "scheduler stopped" and "SIGTERM" in log[-1]["why"], log[-1]


def test_schedule_run_again_after_sigterm_finishes_the_send(
    make_world: Callable[..., World], smtp_server: Sink
) -> None:
    world = make_world(200, schedule=real_clock_send()[0])
    smtp_server.delay = 0.02
    _sigterm_run_midway(world, smtp_server, at_least=30)
    smtp_server.delay = 0

    again = world.scheduler(smtp_server)
    try:
        world.wait_until(
            lambda: world.issue().state == "sent", timeout=8, why="the send to be finished"
        )
    finally:
        again.signal(signal.SIGTERM)
        code = again.wait(15)

    assert code == 0, again.err_text
    each_once(smtp_server, world.emails)
    (resumed,) = [d for d in json_lines(again) if d.get("outcome") == "sent"]
    assert resumed["job"] == "send-retry" and resumed["sent"] == 200, resumed


# --- 5. a restart after downtime past the expiry does not send -----------------------------------


def _planned_by_the_draft_job(world: World, sink: Sink, planned: datetime) -> None:
    """What the scheduler does the day before: the draft job (planned_for set), then the
    editor approves."""
    draft = world.start(
        "schedule", "tick", "--job", "draft", "--at", (planned - timedelta(hours=23)).isoformat(),
        "--transport", sink.url, "--json",
    )  # fmt: skip
    assert draft.wait(30) == 0, draft.err_text
    drafted = draft.doc()["draft"]
    assert drafted["outcome"] == "drafted" and drafted["issue"] == world.issue_id, drafted
    assert drafted["planned"] == planned.isoformat()
    editorial.approve(world.engine, world.issue_id, by="Ann Editor")
    issue = world.issue()
    assert (issue.state, issue.planned_for) == ("approved", planned)


def test_tick_after_downtime_past_the_expiry_does_not_send(
    make_world: Callable[..., World], smtp_server: Sink
) -> None:
    world = make_world(20, schedule={**WEEKLY, "editors": [EDITOR]}, approve=False)
    _planned_by_the_draft_job(world, smtp_server, SEND_AT)
    assert [m.rcpt_tos for m in smtp_server.messages] == [(EDITOR,)]  # the proof

    late = world.tick(SEND_AT + timedelta(hours=7), smtp_server)

    assert late.wait(30) == 0, late.err_text
    doc = late.doc()["send"]
    assert doc["outcome"] == "expired" and doc["issue"] == world.issue_id, doc
    assert doc["planned"] == SEND_AT.isoformat() and doc["told"] == [EDITOR], doc
    assert world.issue().state == "expired"
    assert all(smtp_server.to(e) == [] for e in world.emails)
    assert world.counts() == dict.fromkeys(world.counts(), 0)
    # and the next tick does nothing either
    again = world.tick(SEND_AT + timedelta(hours=7, minutes=10), smtp_server)
    assert again.wait(30) == 0, again.err_text
    assert again.doc()["send"]["outcome"] == "already expired", again.doc()
    assert all(smtp_server.to(e) == [] for e in world.emails)
    notices = [m.message()["Subject"] for m in smtp_server.to(EDITOR)]
    assert len(notices) == 2 and "expired unsent" in notices[1], notices


def test_schedule_run_after_downtime_past_the_expiry_does_not_send(
    make_world: Callable[..., World], smtp_server: Sink
) -> None:
    """By the real clock: the send was planned 7 hours ago, expire_after is 6h; the
    scheduler comes back now and its first look (send-retry) marks the issue expired."""
    schedule, planned = real_clock_send(minutes_ago=7 * 60)
    world = make_world(20, schedule=schedule, approve=False)
    _planned_by_the_draft_job(world, smtp_server, planned)

    proc = world.scheduler(smtp_server)
    try:
        world.wait_until(lambda: bool(proc.job_lines("send-retry")), 15, "the first look")
    finally:
        proc.signal(signal.SIGTERM)
        code = proc.wait(15)

    assert code == 0, proc.err_text
    (first, *_) = [d for d in json_lines(proc) if d.get("job") == "send-retry"]
    assert first["outcome"] == "expired" and first["issue"] == world.issue_id, first
    assert first["planned"] == planned.isoformat(), first
    assert world.issue().state == "expired"
    assert smtp_server.messages == []
    assert world.counts() == dict.fromkeys(world.counts(), 0)
