"""The send engine end to end, without SMTP: a MemoryTransport, a database (a SQLite
file, or PostgreSQL under --backend postgresql), the database outbox that services.send
hands the engine."""

from __future__ import annotations

import email
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from briefing.config import Settings, load_settings
from briefing.deliver.engine import deliver
from briefing.deliver.options import SendOptions, SendSummary, Stop
from briefing.deliver.transports import MemoryTransport
from briefing.models import Issue
from briefing.services import ingest as pipeline
from briefing.services import issues as editorial
from briefing.services import send as sending
from briefing.services import sendrun, subscriptions
from briefing.store import issues as issue_store
from briefing.store.db import open_engine
from briefing.store.outbox_queue import DatabaseOutbox

REPO = Path(__file__).parent.parent
SECRET = "deliver-engine-" + "e" * 25
PEOPLE = 9


@dataclass
class Place:
    settings: Settings
    engine: Engine
    issue_id: int

    def state(self) -> str:
        with self.engine.connect() as conn:
            return issue_store.get_issue(conn, self.issue_id).state

    def subscriber(self, address: str) -> str:
        return subscriptions.get(self.engine, address).status


@pytest.fixture
def place(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Place]:
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)
    db = database_url
    settings = load_settings(REPO / "briefing.toml", overrides={"storage": {"url": db}})
    engine = open_engine(settings.database_url)
    pipeline.ingest(settings, engine, seeds_dir=REPO / "seeds", only_given=True)
    issue = editorial.approve(engine, editorial.draft(settings, engine).id, by="Ed")
    for i in range(PEOPLE):
        subscriptions.add(settings, engine, f"reader{i}@example.org", name=f"Reader {i}")
    yield Place(settings, engine, issue.id)
    engine.dispose()


def _issue(place: Place) -> Issue:
    with place.engine.connect() as conn:
        return issue_store.get_issue(conn, place.issue_id)


def test_everyone_gets_the_issue_once_and_it_is_sent(place: Place) -> None:
    memory = MemoryTransport()
    issue = _issue(place)
    summary = sending.send(
        place.settings,
        place.engine,
        issue,
        SendOptions(transport_url="memory:", workers=1),
        connect=memory.connect,
    )
    assert summary.finished and summary.paused is None, summary
    assert summary.counts["sent"] == PEOPLE == summary.sent_this_run
    assert sorted(d.recipient for d in memory.delivered) == sorted(
        f"reader{i}@example.org" for i in range(PEOPLE)
    )
    assert place.state() == "sent"
    assert sending.counts(place.engine, place.issue_id)["sent"] == PEOPLE
    # each message is spliced for its recipient: their own unsubscribe link
    first = email.message_from_bytes(memory.delivered[0].message)
    assert first["To"] and memory.delivered[0].recipient in first["To"]
    assert "@@=" not in memory.delivered[0].message.decode("utf-8", "replace")


def test_refusals_follow_the_bounce_policy(place: Place) -> None:
    memory = MemoryTransport(
        refuse={
            "reader0@example.org": (550, "5.1.1 user unknown"),
            "reader1@example.org": (451, "4.3.0 try again later"),
            "reader2@example.org": (554, "5.7.1 message content rejected"),
        }
    )
    issue = _issue(place)
    summary = sending.send(
        place.settings,
        place.engine,
        issue,
        SendOptions(transport_url="memory:", workers=1, wait_for_retries=0),
        connect=memory.connect,
    )
    assert summary.counts["sent"] == PEOPLE - 3
    assert summary.counts["deferred"] == 1 and summary.counts["failed"] == 2
    assert not summary.finished and place.state() == "sending"
    assert place.subscriber("reader0@example.org") == "bounced"  # a hard bounce
    assert place.subscriber("reader2@example.org") == "active"  # about the message
    problems = {p["email"]: p for p in sending.failures(place.engine, place.issue_id)}
    assert problems["reader1@example.org"]["state"] == "deferred"
    assert problems["reader1@example.org"]["last_code"] == 451


def _deliver(
    place: Place, issue: Issue, options: SendOptions, *, stop: Stop, connect: Any
) -> SendSummary:
    """The engine on the place's database, with the issue's one compiled message."""
    message = sendrun.issue_message(place.settings, place.engine, issue, issue.updated_at)
    return deliver(
        place.settings, DatabaseOutbox(place.engine), issue.id, message, options,
        stop=stop, connect=connect,
    )  # fmt: skip


def test_threads_share_the_outbox_and_nobody_gets_two(place: Place) -> None:
    """Several workers as threads (a caller's own Stop, as the scheduler runs it)."""
    memory = MemoryTransport()
    issue = _issue(place)
    issue = sending.prepare(place.settings, place.engine, issue, force=False, actor="test")
    summary = _deliver(
        place,
        issue,
        SendOptions(transport_url="memory:", workers=3, batch=2),
        stop=Stop(),
        connect=memory.connect,
    )
    assert summary.finished, summary
    recipients = [d.recipient for d in memory.delivered]
    assert len(recipients) == len(set(recipients)) == PEOPLE
    assert len(memory.connections) == 3  # one connection per worker, each closed at the end
    assert all(c.closed for c in memory.connections)


def test_a_transport_fault_pauses_and_the_next_run_sends_the_rest(place: Place) -> None:
    memory = MemoryTransport(fail_after=4)
    issue = _issue(place)
    options = SendOptions(transport_url="memory:", workers=1)
    summary = sending.send(place.settings, place.engine, issue, options, connect=memory.connect)
    assert summary.paused is not None and "memory transport is full" in summary.paused
    assert summary.counts["sent"] == 4 and summary.counts["queued"] == PEOPLE - 4
    assert summary.counts["sending"] == 0
    memory.fail_after = None
    summary = sending.send(
        place.settings, place.engine, _issue(place), options, connect=memory.connect
    )
    assert summary.finished and place.state() == "sent"
    recipients = [d.recipient for d in memory.delivered]
    assert len(recipients) == len(set(recipients)) == PEOPLE


def test_the_engine_imports_no_store_and_no_service() -> None:
    code = (
        "import sys, briefing.deliver.engine, briefing.deliver.transports\n"
        "bad = [m for m in sys.modules if m.startswith(('briefing.store', 'briefing.services'))]\n"
        "print(bad)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert done.stdout.strip() == "[]"


# --- pauses: recorded by anyone, honoured by the run; the caller's Stop stays its own ----------


class _PausedAfter(MemoryTransport):
    """Records an operator's pause of the run once ``after`` messages were accepted, then
    takes its time with each message (the run looks for a pause about once a second)."""

    def __init__(self, place: Place, after: int) -> None:
        super().__init__()
        self.place, self.after, self.paused = place, after, False

    def connect(self) -> MemoryTransport:
        outer = self

        class _Connection(MemoryTransport):
            def complete(self, recipient: str, then: tuple[str, str] | None = None) -> None:
                super().complete(recipient, then)
                with self._lock:
                    now = not outer.paused and len(self.delivered) >= outer.after
                    outer.paused = outer.paused or now
                if now:
                    sendrun.pause(outer.place.engine, outer.place.issue_id, actor="Ann")
                elif outer.paused:
                    time.sleep(1.0)

        other = _Connection(self.url, self.delivered, self.refuse, None, self.connections)
        other._lock = self._lock
        self.connections.append(other)
        return other


@pytest.mark.parametrize("workers", [1, 3])
def test_a_pause_recorded_mid_run_stops_it_and_leaves_the_callers_stop_alone(
    place: Place, workers: int
) -> None:
    issue = sending.prepare(place.settings, place.engine, _issue(place), force=False, actor="t")
    memory = _PausedAfter(place, after=3)
    caller = Stop()
    summary = _deliver(
        place,
        issue,
        SendOptions(transport_url="memory:", workers=workers, batch=2),
        stop=caller,
        connect=memory.connect,
    )
    assert summary.paused == "paused by Ann" and summary.paused_elsewhere, summary
    assert not caller.is_set(), "a run's pause is not the caller's stop"
    delivered = len(memory.delivered)
    assert 3 <= delivered < PEOPLE, delivered
    counts = sending.counts(place.engine, place.issue_id)
    assert counts["sent"] == delivered and counts["queued"] == PEOPLE - delivered, counts
    assert not summary.finished and place.state() == "sending"
    # the scheduler leaves an operator's pause alone; the operator's own send lifts it
    held = sending.send(
        place.settings,
        place.engine,
        _issue(place),
        SendOptions(transport_url="memory:", workers=1),
        connect=memory.connect,
        lift_operator_pause=False,
    )
    assert held.paused == "paused by Ann" and len(memory.delivered) == delivered, held
    again = sending.send(
        place.settings,
        place.engine,
        _issue(place),
        SendOptions(transport_url="memory:", workers=1),
        connect=MemoryTransport(delivered=memory.delivered).connect,
    )
    assert again.finished and place.state() == "sent", again
    recipients = [d.recipient for d in memory.delivered]
    assert len(recipients) == len(set(recipients)) == PEOPLE


def test_a_run_paused_before_it_began_claims_nothing(place: Place) -> None:
    issue = sending.prepare(place.settings, place.engine, _issue(place), force=False, actor="t")
    assert sendrun.pause(place.engine, issue.id, actor="Ann") == "paused by Ann"
    assert sendrun.pause(place.engine, issue.id, actor="Bob") == "paused by Ann"  # already
    memory = MemoryTransport()
    summary = _deliver(
        place,
        issue,
        SendOptions(transport_url="memory:", workers=2),
        stop=Stop(),
        connect=memory.connect,
    )
    assert summary.paused == "paused by Ann" and memory.delivered == []
    assert sending.counts(place.engine, issue.id)["queued"] == PEOPLE


def test_pausing_a_send_not_under_way_is_refused(place: Place) -> None:
    with pytest.raises(sendrun.NotSending, match="approved, not being sent"):
        sendrun.pause(place.engine, place.issue_id, actor="Ann")


def test_a_transport_fault_pauses_the_run_not_the_callers_stop(place: Place) -> None:
    """The scheduler hands the engine its own Stop: a run's pause must not raise it (its
    next send would stop before it began)."""
    issue = sending.prepare(place.settings, place.engine, _issue(place), force=False, actor="t")
    caller = Stop()
    summary = _deliver(
        place,
        issue,
        SendOptions(transport_url="memory:", workers=2),
        stop=caller,
        connect=MemoryTransport(fail_after=4).connect,
    )
    assert summary.paused is not None and "memory transport is full" in summary.paused
    assert not summary.paused_elsewhere
    assert not caller.is_set() and caller.reason is None
