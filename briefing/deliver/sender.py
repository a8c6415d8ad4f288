"""The send loop: durable, resumable, parallel.

    briefing send  ->  prepare (approved -> sending, queue every recipient, recover leases)
                   ->  N workers: claim a batch with a lease; for each row: mark it
                       `sending`, hand the spliced message to the server, record what the
                       server said (sent | deferred | failed | skipped)
                   ->  finish (sent when no row is left to do)

Progress is recorded per recipient after the server answered, so a crash or SIGKILL at
any point loses nothing and sends nothing twice: rows marked sent are never sent again,
rows never tried are claimed again once their lease runs out, and the at most one row
per connection caught in `sending` is reported by address (and resent by default).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from sqlalchemy import Engine

from briefing.config import Settings
from briefing.deliver.compose import IssueMessage, compose
from briefing.deliver.dkim import Signer, load_signer
from briefing.deliver.message import Recipient
from briefing.deliver.transport import (
    ConnectionLost,
    DeliveryError,
    RecipientRefused,
    open_transport,
)
from briefing.errors import BriefingError
from briefing.models import Issue
from briefing.pipeline import utcnow
from briefing.store import outbox as store
from briefing.store import subscribers as subscriber_store
from briefing.tokens import sign


@dataclass(frozen=True)
class SendOptions:
    transport_url: str
    workers: int = 1
    rate_per_second: float | None = None
    rate_per_hour: int | None = None
    batch: int = 50
    lease: timedelta = timedelta(minutes=5)
    resend_ambiguous: bool = True
    max_error_rate: float = 0.5
    error_window: int = 50
    retry_delays: tuple[int, ...] = (5, 30, 120, 600, 1800)
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
    """Shared between the workers of one run: a stop request (SIGTERM, error rate)."""

    def __init__(self, ctx: Any = None) -> None:
        self._event = ctx.Event() if ctx is not None else threading.Event()
        self._reason = ctx.Array("c", 400) if ctx is not None else None
        self._local_reason: str | None = None

    def set(self, reason: str) -> None:
        if self._reason is not None:
            self._reason.value = reason.encode()[:399]
        else:
            self._local_reason = reason
        self._event.set()

    def is_set(self) -> bool:
        return bool(self._event.is_set())

    @property
    def reason(self) -> str | None:
        if not self.is_set():
            return None
        if self._reason is not None:
            return bytes(self._reason.value).decode(errors="replace") or None
        return self._local_reason


def subscriber_links(settings: Settings, secrets: list[str], token_id: str) -> tuple[str, str, str]:
    token = sign(token_id, secrets)
    base = settings.newsletter.base_url
    return f"{base}/u/{token}", f"{base}/p/{token}", token


def _is_hard_bounce(exc: RecipientRefused) -> bool:
    """5.1.x (bad mailbox or address) is a hard bounce; other 5xx may be about the message."""
    text = exc.reason.lower()
    return exc.code in (550, 551, 553) and (
        "5.1." in text
        or "user unknown" in text
        or "no such user" in text
        or "does not exist" in text
        or "mailbox unavailable" in text
    )


class Worker:
    """One connection's worth of sending. Runs in a thread or in a forked process."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        issue_id: int,
        message: IssueMessage,
        options: SendOptions,
        stop: Stop,
        name: str,
        signer: Signer | None,
    ) -> None:
        self.settings, self.engine, self.issue_id, self.message = (
            settings,
            engine,
            issue_id,
            message,
        )
        self.options, self.stop, self.signer = options, stop, signer
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{name}"
        self.secrets = settings.secrets()
        self.sender = parseaddr(settings.newsletter.sender)[1]
        self.outcomes: deque[bool] = deque(maxlen=options.error_window)
        per_worker = (
            (options.rate_per_second / options.workers) if options.rate_per_second else None
        )
        self.interval = 1.0 / per_worker if per_worker else 0.0
        self.next_slot = time.monotonic()

    def run(self) -> int:
        transport = open_transport(self.options.transport_url, self.settings)
        sent = 0
        try:
            while not self.stop.is_set():
                self._respect_hourly_limit()
                now = utcnow()
                with self.engine.begin() as conn:
                    rows = store.claim(
                        conn,
                        self.issue_id,
                        self.owner,
                        now,
                        lease=self.options.lease,
                        limit=self.options.batch,
                    )
                if not rows:
                    if not self._wait_for_retries():
                        break
                    continue
                for i, row in enumerate(rows):
                    if self.stop.is_set():
                        with self.engine.begin() as conn:
                            store.release(conn, self.owner, [r.id for r in rows[i:]], utcnow())
                        break
                    sent += self._deliver(transport, row)
        finally:
            transport.close()
        return sent

    def _pace(self) -> None:
        if self.interval:
            now = time.monotonic()
            if self.next_slot > now:
                time.sleep(self.next_slot - now)
            self.next_slot = max(self.next_slot, now) + self.interval

    def _respect_hourly_limit(self) -> None:
        limit = self.options.rate_per_hour
        if not limit:
            return
        while not self.stop.is_set():
            with self.engine.connect() as conn:
                recent = store.sent_since(conn, utcnow() - timedelta(hours=1))
            if recent < limit:
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
            time.sleep(min(0.2, end - time.monotonic()))
        return not self.stop.is_set()

    def _deliver(self, transport: Any, row: store.Claimed) -> int:
        self._pace()
        with self.engine.begin() as conn:
            if not store.start_sending(conn, row.id, self.owner, utcnow()):
                store.finish(
                    conn, row.id, "skipped", utcnow(), error="left the list before their turn"
                )
                return 0
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
            return 0
        except ConnectionLost as exc:
            # not accepted (the server did not answer 250): try it again on a new connection
            with self.engine.begin() as conn:
                store.finish(conn, row.id, "queued", utcnow(), error=str(exc))
            self._record(False)
            return 0
        except DeliveryError as exc:
            with self.engine.begin() as conn:
                store.finish(conn, row.id, "queued", utcnow(), error=str(exc))
            self.stop.set(f"paused: {exc.message}")
            return 0
        with self.engine.begin() as conn:
            store.finish(conn, row.id, "sent", utcnow(), code=250)
        self._record(True)
        return 1

    def _refused(self, row: store.Claimed, exc: RecipientRefused) -> None:
        now = utcnow()
        with self.engine.begin() as conn:
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
                        {"issue": self.issue_id, "code": exc.code, "reason": exc.reason[:200]},
                    )
            else:
                delays = self.options.retry_delays
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


def _worker_process(
    settings: Settings,
    db_url: str,
    issue_id: int,
    message: IssueMessage,
    options: SendOptions,
    stop: Stop,
    name: str,
    signer: Signer | None,
) -> None:
    from briefing.store.db import make_engine

    signal.signal(signal.SIGTERM, lambda *_: stop.set("stopped by SIGTERM"))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    engine = make_engine(db_url)
    try:
        Worker(settings, engine, issue_id, message, options, stop, name, signer).run()
    finally:
        engine.dispose()


def deliver(
    settings: Settings,
    engine: Engine,
    issue: Issue,
    rendered_message: IssueMessage,
    options: SendOptions,
    *,
    progress: Callable[[dict[str, int]], None] | None = None,
) -> SendSummary:
    """Run the workers over the issue's outbox until it is done, paused or stopped."""
    summary = SendSummary(issue.id)
    with engine.begin() as conn:
        summary.ambiguous = store.recover(conn, issue.id, utcnow(), resend=options.resend_ambiguous)
        before = store.counts(conn, issue.id)["sent"]
    signer = load_signer(settings)
    started = time.monotonic()
    if options.workers <= 1:
        stop = Stop()
        previous = (
            signal.getsignal(signal.SIGTERM)
            if threading.current_thread() is threading.main_thread()
            else None
        )
        if previous is not None:
            signal.signal(signal.SIGTERM, lambda *_: stop.set("stopped by SIGTERM"))
        thread = threading.Thread(
            target=lambda: Worker(
                settings, engine, issue.id, rendered_message, options, stop, "w0", signer
            ).run(),
            daemon=True,
        )
        thread.start()
        try:
            while thread.is_alive():
                thread.join(0.3)
                if progress:
                    with engine.connect() as conn:
                        progress(store.counts(conn, issue.id))
        except KeyboardInterrupt:
            stop.set("stopped by Ctrl-C")
            thread.join()
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
    else:
        ctx = multiprocessing.get_context("fork")
        stop = Stop(ctx)
        engine.dispose()  # no connection crosses the fork
        procs = [
            ctx.Process(
                target=_worker_process,
                args=(
                    settings,
                    engine.url.render_as_string(hide_password=False),
                    issue.id,
                    rendered_message,
                    options,
                    stop,
                    f"w{i}",
                    signer,
                ),
                daemon=True,
            )
            for i in range(options.workers)
        ]
        for p in procs:
            p.start()
        previous_term = signal.signal(signal.SIGTERM, lambda *_: stop.set("stopped by SIGTERM"))
        try:
            while any(p.is_alive() for p in procs):
                for p in procs:
                    p.join(0.3)
                if progress:
                    with engine.connect() as conn:
                        progress(store.counts(conn, issue.id))
        except KeyboardInterrupt:
            stop.set("stopped by Ctrl-C")
            for p in procs:
                p.join()
        finally:
            signal.signal(signal.SIGTERM, previous_term)
    summary.seconds = time.monotonic() - started
    summary.paused = stop.reason
    with engine.connect() as conn:
        summary.counts = store.counts(conn, issue.id)
    summary.sent_this_run = summary.counts["sent"] - before
    summary.finished = (
        summary.counts["queued"] == summary.counts["sending"] == summary.counts["deferred"] == 0
    )
    return summary


def build_issue_message(
    rendered: Any, settings: Settings, issue_id: int, date: datetime
) -> IssueMessage:
    return compose(rendered, settings, issue_id=issue_id, date=date)


__all__ = ["BriefingError", "SendOptions", "SendSummary", "Stop", "deliver"]
