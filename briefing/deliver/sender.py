"""The send loop: durable, resumable, parallel.

    briefing send  ->  prepare (approved -> sending, queue every recipient, recover leases)
                   ->  N sender threads, one SMTP connection each: claim a batch with a
                       lease; for each row mark it `sending`, hand the spliced message to
                       the server, and record what the server said
                   ->  finish (`sent` when no row is left to do)

Progress is recorded per recipient after the server answered, so a crash or SIGKILL at
any point loses nothing and sends nothing twice: rows marked sent are never sent again,
rows never tried are claimed again once their lease runs out, and the at most one row
per connection caught in `sending` is reported by address (and resent by default).

No single row stops a send: a row that cannot be composed or sent (a stored name the
composer refuses, an address the server cannot take without SMTPUTF8, any unexpected
error on that one message) fails with its reason and the senders go on; a row whose
subscriber was forgotten after it was queued is skipped. A fault of the transport itself
(an outbox folder that cannot be written, a server that refuses the sender) pauses the
send with its reason and leaves the rows queued for the next run.

The senders of a process record progress one at a time through a Ledger (a lock and
one connection): a sender waits for its row to be recorded before it sends the next
message, which keeps the "at most one unknown per connection" promise. Waiting on the SMTP server releases the GIL, so threads give
the parallelism; several `briefing send` processes (or machines, on PostgreSQL) can
share one outbox through the leases.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parseaddr
from typing import Any

from sqlalchemy import Connection, Engine

from briefing.clock import utcnow
from briefing.config import Settings
from briefing.deliver.compose import IssueMessage
from briefing.deliver.dkim import Signer, load_signer
from briefing.deliver.message import Recipient
from briefing.deliver.transport import (
    ConnectionLost,
    DeliveryError,
    RecipientRefused,
    Transport,
    Undeliverable,
    open_transport,
)
from briefing.errors import BriefingError
from briefing.models import Issue
from briefing.store import outbox as store
from briefing.store import subscribers as subscriber_store
from briefing.tokens import manage_links


@dataclass(frozen=True)
class SendOptions:
    transport_url: str
    workers: int = 2
    rate_per_second: float | None = None
    rate_per_hour: int | None = None
    batch: int = 200  # rows per claim: each claim briefly holds up every worker's record
    lease: timedelta = timedelta(minutes=5)
    resend_ambiguous: bool = True
    max_error_rate: float = 0.5
    error_window: int = 50
    retry_delays: tuple[float, ...] = (5, 30, 120, 600, 1800)
    wait_for_retries: float = 60.0  # seconds a run waits for deferred rows before leaving them


@dataclass
class SendSummary:
    issue_id: int
    counts: dict[str, int] = field(default_factory=dict)
    ambiguous: list[str] = field(default_factory=list)
    paused: str | None = None
    finished: bool = False
    seconds: float = 0.0
    sent_this_run: int = 0

    @property
    def rate(self) -> float:
        return self.sent_this_run / self.seconds if self.seconds else 0.0


class Stop:
    """Shared by the senders of one run: a stop request (SIGTERM, Ctrl-C, error rate)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason: str | None = None

    def set(self, reason: str) -> None:
        if self.reason is None:  # the first reason wins, whoever raised the flag first
            self.reason = reason
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


def apply(conn: Connection, hot: store.HotPath, op: str, args: tuple[Any, ...]) -> Any:
    """Every write of a send, as a named operation (so it can cross a pipe)."""
    now = utcnow()
    if op == "step":  # the previous message sent and the next one starting, in one go
        prev, cur, owner = args
        return hot.sent_and_start(conn.connection.driver_connection, prev, cur, owner, now)
    if op == "claim":
        issue, owner, lease, limit = args
        return store.claim(conn, issue, owner, now, lease=timedelta(seconds=lease), limit=limit)
    if op == "renew":
        issue, owner, lease = args
        return store.renew(conn, issue, owner, now, timedelta(seconds=lease))
    if op == "release":
        owner, ids = args
        return store.release(conn, owner, ids, now)
    if op == "requeue":
        row_id, error = args
        return store.finish(conn, row_id, "queued", now, error=error)
    if op == "failed":  # this one message cannot be sent: not a refusal, not a bounce
        row_id, error = args
        return store.finish(conn, row_id, "failed", now, error=error)
    if op == "refused":
        issue, row_id, subscriber_id, _email, code, reason, permanent, hard, delay = args
        if permanent:
            store.finish(conn, row_id, "failed", now, code=code, error=reason)
            if hard:  # the status suppresses the address; its hash is kept when forgotten
                subscriber_store.update_subscriber(conn, subscriber_id, now, status="bounced")
                subscriber_store.add_event(
                    conn,
                    subscriber_id,
                    now,
                    "bounced",
                    "send",
                    {"issue": issue, "code": code, "reason": reason[:200]},
                )
        else:
            store.finish(
                conn,
                row_id,
                "deferred",
                now,
                code=code,
                error=reason,
                retry_at=now + timedelta(seconds=delay),
            )
        return None
    raise ValueError(f"unknown ledger operation {op!r}")


class Ledger:
    """Where the senders of one process record progress: one at a time, under a lock.

    The per-message step (the previous message sent, this one starting) runs on a raw
    DB-API connection: SQLAlchemy's per-call machinery costs three times the UPDATEs
    themselves, and on the send path that is most of a message's cost. Everything else
    goes through SQLAlchemy, under the same lock, so the process never competes with
    itself for SQLite's write lock.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lock = threading.Lock()
        self._raw: Any = None
        self._hot = store.HotPath(engine.dialect)
        self._answer: Any = None

    def do(self, op: str, *args: Any) -> Any:
        with self.lock:
            if op == "step":
                if self._raw is None:
                    self._raw = self.engine.raw_connection()
                prev, cur, owner = args
                return self._hot.record(
                    self._raw.driver_connection, [(prev, cur, owner)], utcnow()
                )[0]
            with self.engine.begin() as conn:
                return apply(conn, self._hot, op, args)

    def start(self, op: str, *args: Any) -> None:
        self._answer = self.do(op, *args)  # at once: a local ledger has nothing to overlap

    def answer(self) -> Any:
        return self._answer

    def close(self) -> None:
        with self.lock:
            if self._raw is not None:
                self._raw.close()
                self._raw = None


class LedgerFailed(Exception):
    """The parent process could not record an operation (or is gone)."""


class RemoteLedger:
    """A worker process's ledger: each operation goes to the parent, which records the
    requests of all workers in one transaction (group commit) and answers each."""

    def __init__(self, pipe: Any) -> None:
        self.pipe = pipe

    def do(self, op: str, *args: Any) -> Any:
        self.start(op, *args)
        return self.answer()

    def start(self, op: str, *args: Any) -> None:
        """Send a request without waiting: the parent records it while the message travels."""
        try:
            self.pipe.send((op, args))
        except (EOFError, OSError) as exc:
            raise LedgerFailed("the parent process is gone") from exc

    def answer(self) -> Any:
        try:
            ok, value = self.pipe.recv()
        except (EOFError, OSError) as exc:
            raise LedgerFailed("the parent process is gone") from exc
        if not ok:
            raise LedgerFailed(value)
        return value

    def close(self) -> None:
        self.pipe.close()


def _reason(exc: Exception) -> str:
    """What a row's last_error says about an error no handler expected."""
    if isinstance(exc, BriefingError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def _is_hard_bounce(exc: RecipientRefused) -> bool:
    """5.1.x (bad mailbox or address) is a hard bounce; other 5xx may be about the message."""
    text = exc.reason.lower()
    return exc.code in (550, 551, 553) and any(
        s in text
        for s in ("5.1.", "user unknown", "no such user", "does not exist", "mailbox unavailable")
    )


class Worker:
    """One sender: one SMTP connection, rows claimed in batches under a lease."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        recorder: Ledger | RemoteLedger,
        issue_id: int,
        message: IssueMessage,
        options: SendOptions,
        stop: Stop,
        name: str,
        signer: Signer | None,
    ) -> None:
        self.settings, self.engine, self.db = settings, engine, recorder
        self.issue_id, self.message, self.options, self.stop, self.signer = (
            issue_id,
            message,
            options,
            stop,
            signer,
        )
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{name}"
        self.secrets = settings.secrets()
        self.base_url = settings.newsletter.base_url
        self.sender = parseaddr(settings.newsletter.sender)[1]
        self.outcomes: deque[bool] = deque(maxlen=options.error_window)
        per_sender = (
            (options.rate_per_second / options.workers) if options.rate_per_second else None
        )
        self.interval = 1.0 / per_sender if per_sender else 0.0
        self.next_slot = time.monotonic()
        self.pending_sent: int | None = None
        self.sent = 0

    def run(self) -> None:
        transport: Transport | None = None
        try:
            transport = open_transport(self.options.transport_url, self.settings)
            while not self.stop.is_set():
                self._respect_hourly_limit()
                rows = self.db.do(
                    "claim",
                    self.issue_id,
                    self.owner,
                    self.options.lease.total_seconds(),
                    self.options.batch,
                )
                if not rows:
                    if not self._wait_for_retries():
                        break
                    continue
                claimed_at = time.monotonic()
                for i, row in enumerate(rows):
                    if time.monotonic() - claimed_at > self.options.lease.total_seconds() / 3:
                        # a slow batch keeps its rows
                        self.db.do(
                            "renew", self.issue_id, self.owner, self.options.lease.total_seconds()
                        )
                        claimed_at = time.monotonic()
                    if self.stop.is_set():
                        self._flush()
                        self._release([r.id for r in rows[i:]])
                        break
                    following = rows[i + 1] if i + 1 < len(rows) else None
                    self._deliver(transport, row, following)
                self._flush()
        except DeliveryError as exc:  # the transport cannot start (an outbox folder, ...)
            self.stop.set(f"paused: {exc.message}")
        except Exception as exc:  # a bug or a database failure: stop the run, say why
            self.stop.set(f"stopped: {type(exc).__name__}: {exc}")
            raise
        finally:
            try:
                self._flush()
            finally:
                if transport is not None:
                    transport.close()

    def _release(self, row_ids: list[int]) -> None:
        self.db.do("release", self.owner, row_ids)

    def _pace(self) -> None:
        if self.interval:
            now = time.monotonic()
            if self.next_slot > now:
                time.sleep(self.next_slot - now)
            self.next_slot = max(self.next_slot, now) + self.interval

    def _respect_hourly_limit(self) -> None:
        limit = self.options.rate_per_hour
        while limit and not self.stop.is_set():
            with self.engine.connect() as conn:
                if store.sent_since(conn, utcnow() - timedelta(hours=1)) < limit:
                    return
            time.sleep(5)

    def _wait_for_retries(self) -> bool:
        """No row is due now: wait for the next deferred one if it is due soon."""
        with self.engine.connect() as conn:
            nxt = store.next_retry(conn, self.issue_id)
        if nxt is None:
            return False
        delay = (nxt - utcnow()).total_seconds()
        if delay > self.options.wait_for_retries:
            return False
        end = time.monotonic() + max(delay, 0.05)
        while time.monotonic() < end and not self.stop.is_set():
            time.sleep(min(0.2, max(end - time.monotonic(), 0.0)))
        return not self.stop.is_set()

    def _flush(self) -> None:
        """Record the last accepted message (each is normally recorded with the next start)."""
        if self.pending_sent is not None:
            row_id, self.pending_sent = self.pending_sent, None
            self.db.do("step", row_id, None, self.owner)

    def _deliver(
        self, transport: Transport, row: store.Claimed, following: store.Claimed | None = None
    ) -> None:
        """One message. The ledger step (the previous message sent, this one starting) is
        recorded while this message travels; the final dot, which is when the server
        accepts it, waits for that record. So at most one accepted message per connection
        is ever unrecorded, and the commit costs no time on the connection."""
        previous, self.pending_sent = self.pending_sent, None
        if row.email is None:
            # forgotten after the row was queued: the step finds no address and records
            # the row as skipped; nothing goes to the server
            self.db.do("step", previous, row.id, self.owner)
            return
        self._pace()
        self.db.start("step", previous, row.id, self.owner)  # recorded while we splice
        try:
            unsubscribe, preferences, token = manage_links(
                self.base_url, row.token_id, self.secrets
            )
            data = self.message.for_recipient(
                Recipient(
                    email=row.email,
                    name=row.name,
                    unsubscribe_url=unsubscribe,
                    preferences_url=preferences,
                    token=token,
                ),
                str(row.subscriber_id),
            )
            if self.signer is not None:
                data = self.signer.sign(data)
            transport.prepare(self.sender, row.email, data)
        except Undeliverable as exc:
            if self.db.answer():  # this row alone; it says nothing about the server
                self._fail(row.id, exc.reason)
            return
        except RecipientRefused as exc:
            if self.db.answer():  # the row is ours and wanted: record what the server said
                self._refused(row, exc)
            return
        except ConnectionLost as exc:
            if self.db.answer():
                self._requeue(row.id, str(exc))  # not accepted: again, on a new connection
            self._record(False)
            return
        except DeliveryError as exc:
            if self.db.answer():
                self._requeue(row.id, str(exc))
            self.stop.set(f"paused: {exc.message}")
            return
        except Exception as exc:  # anything else about this one message: it fails alone
            transport.abandon()  # the connection's state is unknown: start a fresh one
            if self.db.answer():
                self._fail(row.id, _reason(exc))
            self._record(False)
            return
        if not self.db.answer():
            transport.abandon()  # the subscriber left, or the row is not ours: withdraw it
            return
        # the next row's envelope rides with this final dot (when the server pipelines)
        then = (
            None
            if following is None or following.email is None or self.stop.is_set()
            else (self.sender, following.email)
        )
        try:
            transport.complete(row.email, then)
        except RecipientRefused as exc:
            self._refused(row, exc)
            return
        except ConnectionLost as exc:
            # no 250 came back: not accepted as far as we can know; sent again on a new
            # connection (a server that accepted and then dropped us is the rare ambiguity)
            self._requeue(row.id, str(exc))
            self._record(False)
            return
        except DeliveryError as exc:  # the transport failed (an outbox that cannot be written)
            self._requeue(row.id, str(exc))
            self.stop.set(f"paused: {exc.message}")
            return
        except Exception as exc:  # unknown whether it went: failed, never sent twice
            transport.abandon()
            self._fail(row.id, _reason(exc))
            self._record(False)
            return
        self.pending_sent = row.id  # accepted: recorded with the next row's step, or by _flush
        self.sent += 1
        self._record(True)

    def _requeue(self, row_id: int, error: str) -> None:
        self.db.do("requeue", row_id, error)

    def _fail(self, row_id: int, reason: str) -> None:
        self.db.do("failed", row_id, reason[:500])

    def _refused(self, row: store.Claimed, exc: RecipientRefused) -> None:
        delays = self.options.retry_delays
        delay = delays[min(row.attempts, len(delays) - 1)]
        self.db.do(
            "refused",
            self.issue_id,
            row.id,
            row.subscriber_id,
            row.email,
            exc.code,
            exc.reason,
            exc.permanent,
            _is_hard_bounce(exc),
            delay,
        )
        self._record(False)

    def _record(self, ok: bool) -> None:
        self.outcomes.append(ok)
        if len(self.outcomes) >= max(10, self.options.error_window // 2):
            failed = self.outcomes.count(False) / len(self.outcomes)
            if failed > self.options.max_error_rate:
                self.stop.set(
                    f"paused: {failed:.0%} of the last {len(self.outcomes)} messages were refused or lost "
                    f"(limit {self.options.max_error_rate:.0%}); check the server and the list, then run "
                    "`briefing send` again to resume"
                )


class _ProcessStop(Stop):
    """A worker process's view of the run's stop flag: shared event; a reason set here
    (an error-rate pause) is reported to the parent through the ledger pipe."""

    def __init__(self, event: Any, ledger: RemoteLedger) -> None:
        super().__init__()
        self._shared, self._ledger = event, ledger

    def set(self, reason: str) -> None:
        if not self._shared.is_set():
            with contextlib.suppress(LedgerFailed):
                self._ledger.do("stop", reason)
        self._shared.set()

    def is_set(self) -> bool:
        return bool(self._shared.is_set())


def _process_main(
    settings: Settings,
    db_url: str,
    issue_id: int,
    message: IssueMessage,
    options: SendOptions,
    event: Any,
    name: str,
    signer: Signer | None,
    pipe: Any,
) -> None:
    """A worker process: one SMTP connection; its writes go to the parent."""
    from briefing.store.db import make_engine

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, lambda *_: event.set())
    engine = make_engine(db_url)  # reads only (retries, hourly limit)
    ledger = RemoteLedger(pipe)
    stop = _ProcessStop(event, ledger)
    try:
        Worker(settings, engine, ledger, issue_id, message, options, stop, name, signer).run()
    except LedgerFailed:
        pass  # the parent is gone or failed: stop sending, nothing more can be recorded
    finally:
        ledger.close()
        engine.dispose()


def _serve(engine: Engine, pipes: list[Any], stop: Stop, on_tick: Callable[[], None]) -> None:
    """The parent's side: answer the workers' ledger requests, recording all that arrived
    together in one transaction (group commit), until every worker has hung up."""
    from multiprocessing.connection import wait

    hot = store.HotPath(engine.dialect)
    open_pipes = list(pipes)
    last_tick = time.monotonic()
    with engine.connect() as conn:  # one connection for the whole run: no pool round trips
        while open_pipes:
            try:
                ready = wait(open_pipes, timeout=0.2)
            except KeyboardInterrupt:
                stop.set("stopped by Ctrl-C")
                continue
            batch: list[tuple[Any, str, tuple[Any, ...]]] = []
            for ready_pipe in ready:
                pipe: Any = ready_pipe
                try:
                    op, args = pipe.recv()
                except (EOFError, OSError):
                    open_pipes.remove(pipe)
                    continue
                if op == "stop":
                    stop.set(args[0])
                    pipe.send((True, None))
                else:
                    batch.append((pipe, op, args))
            if batch:
                for pipe, answer in _record_batch(conn, hot, batch):
                    pipe.send(answer)
            if time.monotonic() - last_tick >= 1.0:
                on_tick()
                last_tick = time.monotonic()


def _record_batch(
    conn: Connection, hot: store.HotPath, batch: list[tuple[Any, str, tuple[Any, ...]]]
) -> list[tuple[Any, tuple[bool, Any]]]:
    try:
        if all(op == "step" for _, op, _ in batch):
            # the per-message case: straight on the DB-API connection, one commit
            steps = [(prev, cur, owner) for _, _, (prev, cur, owner) in batch]
            results = hot.record(conn.connection.driver_connection, steps, utcnow())
        else:
            with conn.begin():
                results = [apply(conn, hot, op, args) for _, op, args in batch]
        return [(pipe, (True, result)) for (pipe, _, _), result in zip(batch, results, strict=True)]
    except Exception:
        answers: list[tuple[Any, tuple[bool, Any]]] = []
        for pipe, op, args in batch:  # one at a time, so one failure fails only itself
            try:
                with conn.begin():
                    answers.append((pipe, (True, apply(conn, hot, op, args))))
            except Exception as exc:
                answers.append((pipe, (False, f"{op}: {type(exc).__name__}: {exc}")))
        return answers


def deliver(
    settings: Settings,
    engine: Engine,
    issue: Issue,
    message: IssueMessage,
    options: SendOptions,
    *,
    progress: Callable[[dict[str, int]], None] | None = None,
    stop: Stop | None = None,
) -> SendSummary:
    """Run the senders over the issue's outbox until it is done, paused or stopped.
    SIGTERM (and Ctrl-C) stop it cleanly: messages in flight finish and are recorded.
    ``stop``: a caller's own stop flag (the scheduler's), for a send run off the main
    thread, where this function cannot take SIGTERM itself.

    One sender runs as a thread of this process; several run as forked processes (one
    interpreter, one SMTP connection each) whose writes this process records in group
    commits, which is what lets them use more than one core."""
    summary = SendSummary(issue.id)
    with engine.begin() as conn:
        summary.ambiguous = store.recover(conn, issue.id, utcnow(), resend=options.resend_ambiguous)
        before = store.counts(conn, issue.id)["sent"]
    signer = load_signer(settings)
    on_main = threading.current_thread() is threading.main_thread()

    def tick() -> None:
        if progress:
            with engine.connect() as conn:
                progress(store.counts(conn, issue.id))

    started = time.monotonic()
    if options.workers <= 1 or not on_main or stop is not None:
        stop = own = stop or Stop()
        previous = (
            signal.signal(signal.SIGTERM, lambda *_: own.set("stopped by SIGTERM"))
            if on_main
            else None
        )
        recorder = Ledger(engine)
        threads = [
            threading.Thread(
                target=Worker(
                    settings, engine, recorder, issue.id, message, options, stop, f"w{i}", signer
                ).run,
                name=f"briefing-sender-{i}",
                daemon=True,
            )
            for i in range(max(options.workers, 1))
        ]
        for t in threads:
            t.start()
        try:
            while any(t.is_alive() for t in threads):
                try:
                    for t in threads:
                        t.join(1.0 / len(threads))  # progress about once a second
                except KeyboardInterrupt:
                    stop.set("stopped by Ctrl-C")
                tick()
        finally:
            if on_main:
                signal.signal(signal.SIGTERM, previous)
            recorder.close()
    else:
        ctx = multiprocessing.get_context("fork")
        stop = Stop()
        event = ctx.Event()
        stop._event = event  # type: ignore[assignment]  # the workers watch the parent's flag
        url = engine.url.render_as_string(hide_password=False)
        engine.dispose()  # no pooled connection crosses the fork
        ends = [ctx.Pipe() for _ in range(options.workers)]
        procs = [
            ctx.Process(
                target=_process_main,
                name=f"briefing-sender-{i}",
                daemon=True,
                args=(settings, url, issue.id, message, options, event, f"w{i}", signer, child),
            )
            for i, (_, child) in enumerate(ends)
        ]
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set("stopped by SIGTERM"))
        try:
            for p in procs:
                p.start()
            for _, child in ends:
                child.close()  # the parent keeps only its own ends
            _serve(engine, [parent for parent, _ in ends], stop, tick)
            for p in procs:
                p.join()
        finally:
            signal.signal(signal.SIGTERM, previous)
            for p in procs:
                if p.is_alive():
                    p.terminate()
    summary.seconds = time.monotonic() - started
    summary.paused = stop.reason
    with engine.connect() as conn:
        summary.counts = store.counts(conn, issue.id)
    summary.sent_this_run = summary.counts["sent"] - before
    summary.finished = (
        summary.counts["queued"] == summary.counts["sending"] == summary.counts["deferred"] == 0
    )
    return summary
