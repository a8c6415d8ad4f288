"""The send engine: durable, resumable, parallel.

    services.send  ->  prepare (approved -> sending, queue every recipient), then deliver():
    deliver()      ->  recover the rows a dead sender left leased
                   ->  one worker: a thread of this process, recording through a LocalLedger
                       several workers: forked processes, one transport connection each,
                       whose requests this process records in group commits (ledger.serve);
                       on PostgreSQL each records on database connections of its own
                       (Outbox.parallel_writes)
                       (threads instead when this is not the main thread, or the caller
                       brings its own Stop, as the scheduler does)
                   ->  about once a second, whether someone paused the run (an operator's
                       `send N --pause`, another sender's error rate, on any machine): the
                       run then stops as it does on SIGTERM
                   ->  the summary: counts, what paused or stopped it, whether it finished

Each worker claims a batch with a lease; for each row it marks it `sending`, hands the
spliced message to the transport, and records what the server said (worker.py).

Progress is recorded per recipient after the server answered, so a crash or SIGKILL at
any point loses nothing and sends nothing twice: rows marked sent are never sent again,
rows never tried are claimed again once their lease runs out, and the at most one row
per connection caught in `sending` is reported by address (and resent by default).

A worker waits for its row to be recorded before it sends the next message's final dot,
which keeps the "at most one unknown per connection" promise. Forked processes are what
let several workers use more than one core; several `briefing send` processes (or
machines, on PostgreSQL) can share one outbox through the leases.

The engine never touches the database: the caller (services.send) hands it an Outbox.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from briefing.clock import utcnow
from briefing.config import Settings
from briefing.deliver.compose import IssueMessage
from briefing.deliver.dkim import Signer, load_signer
from briefing.deliver.ledger import (
    BackgroundLedger,
    LedgerFailed,
    LocalLedger,
    Outbox,
    RemoteLedger,
    StopRun,
    serve,
)
from briefing.deliver.options import RunStop, SendOptions, SendSummary, Stop
from briefing.deliver.transports import open_transport
from briefing.deliver.worker import Connect, Worker

PAUSE_LOOK_SECONDS = 1.0  # how often a run looks whether someone paused it


class _ProcessStop(Stop):
    """A worker process's view of the run's stop flag: shared event; a reason set here
    (an error-rate pause) is reported to the parent through the ledger pipe. Set too once
    the parent is gone (a SIGKILL, the OOM killer): a worker that records on its own
    connections would otherwise send on, unwatched; it stops after the message in hand,
    recorded."""

    def __init__(self, event: Any, ledger: RemoteLedger) -> None:
        super().__init__()
        self._shared, self._ledger = event, ledger
        self._parent = os.getppid()

    def set(self, reason: str) -> None:
        if not self._shared.is_set():
            with contextlib.suppress(LedgerFailed):
                self._ledger.do(StopRun(reason))
        self._shared.set()

    def is_set(self) -> bool:
        return bool(self._shared.is_set()) or os.getppid() != self._parent


def _process_main(
    settings: Settings,
    issue_id: int,
    message: IssueMessage,
    options: SendOptions,
    event: Any,
    name: str,
    signer: Signer | None,
    connect: Connect,
    pipe: Any,
    outbox: Outbox | None,
    inherited: list[Any],
) -> None:
    """A worker process: one transport connection. With ``outbox`` (a database whose
    writers need not wait for one another, PostgreSQL) it records on its own connections
    to it; without, every read and write goes to the parent, so the child never opens a
    database connection. A reason to stop the run goes to the parent either way.
    ``inherited``: the other pipes' ends the fork handed down, closed here so that the
    parent's death closes this worker's pipe (else its read would wait forever)."""
    for end in inherited:
        end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, lambda *_: event.set())
    parent = RemoteLedger(pipe)
    ledger: BackgroundLedger | RemoteLedger = parent if outbox is None else BackgroundLedger(outbox)
    stop = _ProcessStop(event, parent)
    try:
        Worker(settings, ledger, issue_id, message, options, stop, name, signer, connect).run()
    except LedgerFailed:
        pass  # the parent is gone or failed: stop sending, nothing more can be recorded
    finally:
        try:
            ledger.close()
            if outbox is not None:
                outbox.detach()
        finally:
            parent.close()


def deliver(
    settings: Settings,
    outbox: Outbox,
    issue_id: int,
    message: IssueMessage,
    options: SendOptions,
    *,
    progress: Callable[[dict[str, int]], None] | None = None,
    stop: Stop | None = None,
    connect: Connect | None = None,
) -> SendSummary:
    """Run the workers over the issue's outbox until it is done, paused or stopped.
    SIGTERM (and Ctrl-C) stop it cleanly: messages in flight finish and are recorded.
    ``stop``: a caller's own stop flag (the scheduler's, a worker's), which then handles
    SIGTERM itself (as it must off the main thread). ``connect``: opens one
    worker's transport (default: open_transport(options.transport_url)); a test hands
    a MemoryTransport's ``connect``."""
    connect = connect or (lambda: open_transport(options.transport_url, settings))
    summary = SendSummary(issue_id)
    with outbox.transaction():
        summary.ambiguous = outbox.recover(issue_id, utcnow(), resend=options.resend_ambiguous)
    before = outbox.counts(issue_id)["sent"]
    signer = load_signer(settings)
    on_main = threading.current_thread() is threading.main_thread()
    threaded = options.workers <= 1 or not on_main or stop is not None
    # the run's own flag (linked to the caller's): a pause of this run, whether its own
    # or recorded in the outbox by anyone else, never raises a caller's Stop
    run_stop = RunStop(stop) if threaded else RunStop()
    looked = time.monotonic()

    def honour_a_recorded_pause() -> None:
        """A pause recorded for the run (an operator's, another sender's on any machine)
        stops this one too: looked up about once a second."""
        reason = outbox.paused(issue_id)
        if reason is not None and not run_stop.is_set():
            run_stop.set(reason)
            summary.paused_elsewhere = True

    def tick() -> None:
        nonlocal looked
        if time.monotonic() - looked >= PAUSE_LOOK_SECONDS:
            looked = time.monotonic()
            honour_a_recorded_pause()
        if progress:
            progress(outbox.counts(issue_id))

    honour_a_recorded_pause()  # paused before it began: no row is claimed
    started = time.monotonic()
    if threaded:
        # a caller that brings its own Stop (the scheduler, `briefing worker`) handles
        # SIGTERM itself: its handler stays
        takes_sigterm = on_main and stop is None
        previous = (
            signal.signal(signal.SIGTERM, lambda *_: run_stop.set("stopped by SIGTERM"))
            if takes_sigterm
            else None
        )
        recorder = LocalLedger(outbox)
        senders = [
            Worker(
                settings, recorder, issue_id, message, options, run_stop, f"w{i}", signer, connect
            )
            for i in range(max(options.workers, 1))
        ]
        threads = [
            threading.Thread(
                target=sender.run,
                name=f"briefing-sender-{i}",
                daemon=True,
            )
            for i, sender in enumerate(senders)
        ]
        for t in threads:
            t.start()
        try:
            while any(t.is_alive() for t in threads):
                try:
                    for t in threads:
                        t.join(1.0 / len(threads))  # progress about once a second
                except KeyboardInterrupt:
                    run_stop.set("stopped by Ctrl-C")
                tick()
        finally:
            if takes_sigterm:
                signal.signal(signal.SIGTERM, previous)
            recorder.close()
        summary.sent_here = sum(sender.sent for sender in senders)
    else:
        ctx = multiprocessing.get_context("fork")
        event = ctx.Event()
        if run_stop.is_set():
            event.set()
        run_stop._event = event  # type: ignore[assignment]  # the workers watch the parent's flag
        outbox.detach()  # no database connection crosses the fork
        # on PostgreSQL each worker records on its own connection (a round trip to the
        # server, rather than through this process and its one connection); on SQLite,
        # one writer at a time, this process records for all of them in group commits
        direct = outbox if outbox.parallel_writes else None
        ends = [ctx.Pipe() for _ in range(options.workers)]
        procs = [
            ctx.Process(
                target=_process_main,
                name=f"briefing-sender-{i}",
                daemon=True,
                args=(
                    settings,
                    issue_id,
                    message,
                    options,
                    event,
                    f"w{i}",
                    signer,
                    connect,
                    child,
                    direct,
                    [p for p, _ in ends] + [c for j, (_, c) in enumerate(ends) if j != i],
                ),
            )
            for i, (_, child) in enumerate(ends)
        ]
        previous = signal.signal(signal.SIGTERM, lambda *_: run_stop.set("stopped by SIGTERM"))
        try:
            for p in procs:
                p.start()
            for _, child in ends:
                child.close()  # the parent keeps only its own ends
            serve(outbox, [parent for parent, _ in ends], run_stop, tick)
            for p in procs:
                p.join()
        finally:
            signal.signal(signal.SIGTERM, previous)
            for p in procs:
                if p.is_alive():
                    p.terminate()
            outbox.close()
    summary.seconds = time.monotonic() - started
    summary.paused = run_stop.why
    summary.counts = outbox.counts(issue_id)
    summary.sent_this_run = summary.counts["sent"] - before
    summary.finished = (
        summary.counts["queued"] == summary.counts["sending"] == summary.counts["deferred"] == 0
    )
    return summary
