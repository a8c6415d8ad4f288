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

The senders of a process record progress one at a time through a Ledger (a lock and
one connection): a sender waits for its row to be recorded before it sends the next
message, which keeps the "at most one unknown per connection" promise. Waiting on the SMTP server releases the GIL, so threads give
the parallelism; several `briefing send` processes (or machines, on PostgreSQL) can
share one outbox through the leases.
"""

from __future__ import annotations

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
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from briefing.config import Settings
from briefing.deliver.compose import IssueMessage
from briefing.deliver.dkim import Signer, load_signer
from briefing.deliver.message import Recipient
from briefing.deliver.transport import (
    ConnectionLost,
    DeliveryError,
    RecipientRefused,
    Transport,
    open_transport,
)
from briefing.models import Issue
from briefing.pipeline import utcnow
from briefing.store import outbox as store
from briefing.store import subscribers as subscriber_store
from briefing.tokens import sign

T = TypeVar("T")


@dataclass(frozen=True)
class SendOptions:
    transport_url: str
    workers: int = 2
    rate_per_second: float | None = None
    rate_per_hour: int | None = None
    batch: int = 50
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
        if not self._event.is_set():
            self.reason = reason
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


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

    def call(self, work: Callable[[Connection], T]) -> T:
        with self.lock, self.engine.begin() as conn:
            return work(conn)

    def sent_and_start(self, sent: int | None, start: int | None, owner: str) -> bool:
        with self.lock:
            if self._raw is None:
                self._raw = self.engine.raw_connection()
            try:
                ok = self._hot.sent_and_start(
                    self._raw.driver_connection, sent, start, owner, utcnow()
                )
                self._raw.commit()
            except BaseException:
                self._raw.rollback()
                raise
            return ok

    def close(self) -> None:
        with self.lock:
            if self._raw is not None:
                self._raw.close()
                self._raw = None


def subscriber_links(settings: Settings, secrets: list[str], token_id: str) -> tuple[str, str, str]:
    token = sign(token_id, secrets)
    base = settings.newsletter.base_url
    return f"{base}/u/{token}", f"{base}/p/{token}", token


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
        recorder: Ledger,
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
        transport = open_transport(self.options.transport_url, self.settings)
        try:
            while not self.stop.is_set():
                self._respect_hourly_limit()
                rows = self.db.call(self._claim)
                if not rows:
                    if not self._wait_for_retries():
                        break
                    continue
                claimed_at = time.monotonic()
                for i, row in enumerate(rows):
                    if time.monotonic() - claimed_at > self.options.lease.total_seconds() / 3:
                        self.db.call(self._renew)  # a slow batch keeps its rows
                        claimed_at = time.monotonic()
                    if self.stop.is_set():
                        self._flush()
                        self._release([r.id for r in rows[i:]])
                        break
                    self._deliver(transport, row)
                self._flush()
        except Exception as exc:  # a bug or a database failure: stop the run, say why
            self.stop.set(f"stopped: {type(exc).__name__}: {exc}")
            raise
        finally:
            try:
                self._flush()
            finally:
                transport.close()

    def _claim(self, conn: Connection) -> list[store.Claimed]:
        return store.claim(
            conn,
            self.issue_id,
            self.owner,
            utcnow(),
            lease=self.options.lease,
            limit=self.options.batch,
        )

    def _renew(self, conn: Connection) -> None:
        store.renew(conn, self.issue_id, self.owner, utcnow(), self.options.lease)

    def _release(self, row_ids: list[int]) -> None:
        self.db.call(lambda c: store.release(c, self.owner, row_ids, utcnow()))

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
            self.db.sent_and_start(row_id, None, self.owner)

    def _deliver(self, transport: Transport, row: store.Claimed) -> None:
        self._pace()
        previous, self.pending_sent = self.pending_sent, None
        owner = self.owner

        # the previous message's fate and this one's start, in one commit; a row that is
        # not ours any more, or whose subscriber left, is not sent (the ledger records which)
        if not self.db.sent_and_start(previous, row.id, owner):
            return
        unsubscribe, preferences, token = subscriber_links(
            self.settings, self.secrets, row.token_id
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
        try:
            transport.send(self.sender, row.email, data)
        except RecipientRefused as exc:
            self._refused(row, exc)
            return
        except ConnectionLost as exc:
            # the server never said 250: not accepted; try again on a new connection
            self._requeue(row.id, str(exc))
            self._record(False)
            return
        except DeliveryError as exc:
            self._requeue(row.id, str(exc))
            self.stop.set(f"paused: {exc.message}")
            return
        self.pending_sent = row.id  # accepted: recorded with the next row's start, or by _flush
        self.sent += 1
        self._record(True)

    def _requeue(self, row_id: int, error: str) -> None:
        self.db.call(lambda c: store.finish(c, row_id, "queued", utcnow(), error=error))

    def _refused(self, row: store.Claimed, exc: RecipientRefused) -> None:
        issue, delays = self.issue_id, self.options.retry_delays

        def record(conn: Connection) -> None:
            now = utcnow()
            if exc.permanent:
                store.finish(conn, row.id, "failed", now, code=exc.code, error=exc.reason)
                if _is_hard_bounce(exc):
                    subscriber_store.update_subscriber(
                        conn, row.subscriber_id, now, status="bounced"
                    )
                    subscriber_store.suppress(conn, row.email, "bounced", now)
                    subscriber_store.add_event(
                        conn,
                        row.subscriber_id,
                        now,
                        "bounced",
                        "send",
                        {"issue": issue, "code": exc.code, "reason": exc.reason[:200]},
                    )
            else:
                delay = delays[min(row.attempts, len(delays) - 1)]
                store.finish(
                    conn,
                    row.id,
                    "deferred",
                    now,
                    code=exc.code,
                    error=exc.reason,
                    retry_at=now + timedelta(seconds=delay),
                )

        self.db.call(record)
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


def deliver(
    settings: Settings,
    engine: Engine,
    issue: Issue,
    message: IssueMessage,
    options: SendOptions,
    *,
    progress: Callable[[dict[str, int]], None] | None = None,
) -> SendSummary:
    """Run the senders over the issue's outbox until it is done, paused or stopped.
    SIGTERM (and Ctrl-C) stop it cleanly: messages in flight finish and are recorded."""
    summary = SendSummary(issue.id)
    with engine.begin() as conn:
        summary.ambiguous = store.recover(conn, issue.id, utcnow(), resend=options.resend_ambiguous)
        before = store.counts(conn, issue.id)["sent"]
    signer = load_signer(settings)
    stop = Stop()
    recorder = Ledger(engine)
    workers = [
        Worker(settings, engine, recorder, issue.id, message, options, stop, f"w{i}", signer)
        for i in range(options.workers)
    ]
    threads = [
        threading.Thread(target=w.run, name=f"briefing-sender-{i}", daemon=True)
        for i, w in enumerate(workers)
    ]
    on_main = threading.current_thread() is threading.main_thread()
    previous = (
        signal.signal(signal.SIGTERM, lambda *_: stop.set("stopped by SIGTERM"))
        if on_main
        else None
    )
    started = time.monotonic()
    for t in threads:
        t.start()
    try:
        while any(t.is_alive() for t in threads):
            try:
                for t in threads:
                    t.join(1.0 / len(threads))  # progress about once a second: counting rows costs
            except KeyboardInterrupt:
                stop.set("stopped by Ctrl-C")
            if progress:
                with engine.connect() as conn:
                    progress(store.counts(conn, issue.id))
    finally:
        if on_main:
            signal.signal(signal.SIGTERM, previous)
        recorder.close()
    summary.seconds = time.monotonic() - started
    summary.paused = stop.reason
    with engine.connect() as conn:
        summary.counts = store.counts(conn, issue.id)
    summary.sent_this_run = summary.counts["sent"] - before
    summary.finished = (
        summary.counts["queued"] == summary.counts["sending"] == summary.counts["deferred"] == 0
    )
    return summary
