"""Workers on any number of machines: `briefing send N --queue` fills the outbox and
returns; any number of `briefing worker` processes, on any machines sharing the
database, take the send runs up; `briefing send N --wait` watches them finish.

    queue()     the checks and the recipient snapshot of `send` (the issue moves to
                `sending`), then nothing more: delivery is the workers'
    work()      the worker's loop: for each run with work to do, the send engine over the
                issue's outbox (rows claimed in batches under a lease, each result
                recorded as the server gave it); when there is none, poll. A stop (SIGTERM)
                lets the messages in flight finish and gives back the rows not reached;
                so does a pause (`send N --pause`, another worker's error rate), seen
                within about a second by every worker on every machine.
    watch()     what `send --wait` shows: the counts, until the run is sent or paused
    pause()     `send N --pause`: every sender of the run stops; `send N --queue` resumes

Whoever records the last row marks the issue sent (sendrun.mark_sent_if_done, race-safe);
a worker that dies leaves its rows leased until the lease runs out (on its own machine, at
once: its process is gone), then another worker takes them up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from briefing.clock import utcnow
from briefing.config import Settings
from briefing.deliver.compose import IssueMessage
from briefing.deliver.engine import deliver
from briefing.deliver.options import SendOptions, SendSummary, Stop
from briefing.deliver.transports import Transport
from briefing.models import Issue
from briefing.services import sendrun
from briefing.services.send import options_from, prepare
from briefing.services.sendrun import all_refused, issue_message, mark_sent_if_done, resume
from briefing.store import issues as issue_store
from briefing.store import locks
from briefing.store import outbox as store
from briefing.store.outbox_queue import DatabaseOutbox

POLL_SECONDS = 2.0


def queue(
    settings: Settings,
    engine: Engine,
    issue: Issue,
    *,
    actor: str = "cli",
    force: bool = False,
    now: datetime | None = None,
) -> dict[str, int]:
    """Move the issue to `sending` and queue its recipients (once: again is harmless), and
    lift a pause so workers take it up again. The caller ran send.preflight. Returns the
    outbox's counts."""
    now = now or utcnow()
    issue = prepare(settings, engine, issue, force=force, actor=actor, now=now)
    resume(engine, issue.id, now)
    with engine.connect() as conn:
        return store.counts(conn, issue.id)


def pause(
    engine: Engine, issue_id: int, *, actor: str = "cli", now: datetime | None = None
) -> tuple[str, dict[str, int]]:
    """`send N --pause`: the run's pause reason (sendrun.pause) and the outbox's counts."""
    reason = sendrun.pause(engine, issue_id, actor=actor, now=now)
    with engine.connect() as conn:
        return reason, store.counts(conn, issue_id)


def worker_options(
    settings: Settings,
    *,
    transport: str | None,
    concurrency: int | None,
    lease: timedelta | None = None,
    batch: int | None = None,
) -> SendOptions:
    """A worker's send options: delivery.* with its overrides. A run never waits for a
    deferred row: the worker's loop comes back for it when it is due."""
    options = options_from(settings, transport=transport, workers=concurrency, rate=None)
    return replace(
        options,
        wait_for_retries=0.0,
        lease=lease or options.lease,
        batch=batch or options.batch,
    )


@dataclass
class WorkerReport:
    """What one worker did, from its start to its stop."""

    owner: str
    runs: int = 0
    sent: int = 0
    issues_sent: list[int] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    paused: dict[int, str] = field(default_factory=dict)
    seconds: float = 0.0


class _Linked(Stop):
    """One run's stop flag, also raised by the worker's own (SIGTERM)."""

    def __init__(self, outer: threading.Event) -> None:
        super().__init__()
        self._outer = outer

    def is_set(self) -> bool:
        return self._event.is_set() or self._outer.is_set()


def work(
    settings: Settings,
    engine: Engine,
    options: SendOptions,
    *,
    stop: threading.Event,
    poll: float = POLL_SECONDS,
    actor: str = "worker",
    connect: Callable[[], Transport] | None = None,
    on_run: Callable[[int, SendSummary], None] | None = None,
    idle_exit: bool = False,
) -> WorkerReport:
    """Run send runs until ``stop`` is set (``idle_exit``: or until there is no work left,
    for tests and one-shot use). Never raises for one run's failure: a run that pauses is
    recorded as paused (and left alone until `briefing send N --queue` lifts the pause)."""
    report = WorkerReport(owner=locks.new_owner(actor))
    started = time.monotonic()
    messages: dict[int, IssueMessage] = {}
    outbox = DatabaseOutbox(engine)
    try:
        while not stop.is_set():
            worked = False
            for issue_id, run_started in _runs(engine):
                if stop.is_set():
                    break
                if mark_sent_if_done(settings, engine, issue_id, actor):
                    _sent(report, issue_id)
                    messages.pop(issue_id, None)
                    continue
                if not _has_work(engine, issue_id):
                    continue
                worked = True
                message = messages.get(issue_id)
                if message is None:
                    with engine.connect() as conn:
                        issue = issue_store.get_issue(conn, issue_id)
                    message = messages[issue_id] = issue_message(
                        settings, engine, issue, run_started
                    )
                summary = deliver(
                    settings,
                    outbox,
                    issue_id,
                    message,
                    options,
                    stop=_Linked(stop),
                    connect=connect,
                )
                report.runs += 1
                report.sent += (
                    summary.sent_here if summary.sent_here is not None else summary.sent_this_run
                )
                report.ambiguous += summary.ambiguous
                if summary.finished and summary.counts["sent"] == 0 and summary.counts["failed"]:
                    summary.finished, summary.paused = False, all_refused(summary.counts)
                if summary.paused:
                    report.paused[issue_id] = summary.paused
                    if not summary.paused_elsewhere:  # else recorded already, maybe lifted
                        with engine.begin() as conn:
                            store.set_paused(conn, issue_id, summary.paused)
                elif summary.finished and mark_sent_if_done(settings, engine, issue_id, actor):
                    _sent(report, issue_id)
                if on_run is not None:
                    on_run(issue_id, summary)
            if not worked:
                if idle_exit:
                    break
                stop.wait(poll)
    finally:
        outbox.close()
        report.seconds = time.monotonic() - started
    return report


def _sent(report: WorkerReport, issue_id: int) -> None:
    if issue_id not in report.issues_sent:
        report.issues_sent.append(issue_id)


def _runs(engine: Engine) -> list[tuple[int, datetime]]:
    with engine.connect() as conn:
        return store.runs_to_work(conn)


def _has_work(engine: Engine, issue_id: int) -> bool:
    with engine.connect() as conn:
        return store.has_work(conn, issue_id, utcnow())


@dataclass(frozen=True)
class Progress:
    """A send run as `send --wait` shows it."""

    issue_id: int
    state: str
    counts: dict[str, int]
    paused: str | None
    senders: int  # senders holding rows now, on every machine

    @property
    def done(self) -> bool:
        return self.state != "sending" or self.paused is not None


def progress(settings: Settings, engine: Engine, issue_id: int, *, actor: str = "cli") -> Progress:
    """The run's counts now; an outbox with nothing left is marked sent here too (the
    workers may have stopped right after their last row)."""
    mark_sent_if_done(settings, engine, issue_id, actor)
    with engine.connect() as conn:
        issue = issue_store.get_issue(conn, issue_id)
        run: dict[str, Any] = store.run(conn, issue_id) or {}
        return Progress(
            issue_id,
            issue.state,
            store.counts(conn, issue_id),
            run.get("paused_reason"),
            store.active_senders(conn, utcnow()),
        )


def watch(
    settings: Settings,
    engine: Engine,
    issue_id: int,
    *,
    on_tick: Callable[[Progress], None] | None = None,
    every: float = 1.0,
    stop: threading.Event | None = None,
) -> Progress:
    """Poll the run until it is sent or paused (or ``stop``); the last Progress."""
    stop = stop or threading.Event()
    while True:
        now = progress(settings, engine, issue_id)
        if on_tick is not None:
            on_tick(now)
        if now.done or stop.is_set():
            return now
        stop.wait(every)
