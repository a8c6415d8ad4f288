"""One sender: one transport connection, rows claimed in batches under a lease, each
message's fate recorded through a Ledger; and the bounce policy (what a refusal means).

No single row stops a send: a row that cannot be composed or sent (a stored name the
composer refuses, an address the server cannot take without SMTPUTF8, any unexpected
error on that one message) fails with its reason and the sender goes on; a row whose
subscriber was forgotten after it was queued is skipped. A fault of the transport itself
(an outbox folder that cannot be written, a server that refuses the sender) pauses the
send with its reason and leaves the rows queued for the next run.
"""

from __future__ import annotations

import os
import socket
import time
from collections import deque
from collections.abc import Callable
from email.utils import parseaddr

from briefing.clock import utcnow
from briefing.config import Settings
from briefing.deliver.compose import IssueMessage
from briefing.deliver.dkim import Signer
from briefing.deliver.ledger import (
    Claim,
    Claimed,
    Fail,
    Ledger,
    NextRetry,
    Refuse,
    Release,
    Renew,
    Requeue,
    Senders,
    SentSince,
    Step,
)
from briefing.deliver.message import Recipient
from briefing.deliver.options import SendOptions, Stop
from briefing.deliver.transports import (
    ConnectionLost,
    DeliveryError,
    RecipientRefused,
    Transport,
    Undeliverable,
)
from briefing.errors import BriefingError
from briefing.tokens import manage_links

Connect = Callable[[], Transport]


def _reason(exc: Exception) -> str:
    """What a row's last_error says about an error no handler expected."""
    if isinstance(exc, BriefingError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def is_hard_bounce(exc: RecipientRefused) -> bool:
    """5.1.x (bad mailbox or address) is a hard bounce; other 5xx may be about the message."""
    text = exc.reason.lower()
    return exc.code in (550, 551, 553) and any(
        s in text
        for s in ("5.1.", "user unknown", "no such user", "does not exist", "mailbox unavailable")
    )


def refusal(
    issue_id: int, row: Claimed, exc: RecipientRefused, retry_delays: tuple[float, ...]
) -> Refuse:
    """What a refusal means for the row: failed (and a bounce when hard) if permanent,
    else deferred by the retry delay for its attempt."""
    delay = retry_delays[min(row.attempts, len(retry_delays) - 1)]
    return Refuse(
        issue_id,
        row.id,
        row.subscriber_id,
        exc.code,
        exc.reason,
        hard=exc.permanent and is_hard_bounce(exc),
        delay=None if exc.permanent else delay,
    )


class Worker:
    """One sender: one connection, rows claimed in batches under a lease."""

    def __init__(
        self,
        settings: Settings,
        recorder: Ledger,
        issue_id: int,
        message: IssueMessage,
        options: SendOptions,
        stop: Stop,
        name: str,
        signer: Signer | None,
        connect: Connect,
    ) -> None:
        self.settings, self.db, self.connect = settings, recorder, connect
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
        # delivery.rate is for the whole send: each sender takes its share, the rate split
        # by the senders holding rows now (counted in the database at every claim, so
        # workers on other processes and machines count too), and waits while the rate
        # sent over the last second, counted in the database, is already used up
        self.interval = (
            options.workers / options.rate_per_second if options.rate_per_second else 0.0
        )
        self.next_slot = time.monotonic()
        self.checked_at = 0.0
        self.pending_sent: int | None = None
        self.sent = 0

    def run(self) -> None:
        transport: Transport | None = None
        lease = self.options.lease.total_seconds()
        after: int | None = None  # the last row claimed: the next claim looks past it first
        try:
            transport = self.connect()
            while not self.stop.is_set():
                self._respect_hourly_limit()
                rows = self.db.do(
                    Claim(self.issue_id, self.owner, lease, self.options.batch, after)
                )
                if not rows:
                    if not self._wait_for_retries():
                        break
                    continue
                after = max(after or 0, max(row.id for row in rows))
                claimed_at = time.monotonic()
                self._share_rate()
                for i, row in enumerate(rows):
                    if time.monotonic() - claimed_at > lease / 3:  # a slow batch keeps its rows
                        self.db.do(Renew(self.issue_id, self.owner, lease))
                        claimed_at = time.monotonic()
                    if self.stop.is_set():
                        self._flush()
                        self.db.do(Release(self.owner, tuple(r.id for r in rows[i:])))
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

    def _share_rate(self) -> None:
        rate = self.options.rate_per_second
        if rate:
            self.interval = max(self.db.do(Senders()), 1) / rate

    def _pace(self) -> None:
        if not self.interval:
            return
        rate = self.options.rate_per_second or 0.0
        now = time.monotonic()
        if now - self.checked_at >= 1.0:  # the shared count, about once a second
            self.checked_at = now
            while rate and not self.stop.is_set() and self.db.do(SentSince(1.0)) >= rate:
                time.sleep(min(self.interval, 0.25))
            now = time.monotonic()
        if self.next_slot > now:
            time.sleep(self.next_slot - now)
        self.next_slot = max(self.next_slot, now) + self.interval

    def _respect_hourly_limit(self) -> None:
        limit = self.options.rate_per_hour
        while limit and not self.stop.is_set():
            if self.db.do(SentSince(3600.0)) < limit:
                return
            time.sleep(5)

    def _wait_for_retries(self) -> bool:
        """No row is due now: wait for the next deferred one if it is due soon."""
        nxt = self.db.do(NextRetry(self.issue_id))
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
            self.db.do(Step(row_id, None, self.owner))

    def _deliver(self, transport: Transport, row: Claimed, following: Claimed | None) -> None:
        """One message. The ledger step (the previous message sent, this one starting) is
        recorded while this message travels; the final dot, which is when the server
        accepts it, waits for that record. So at most one accepted message per connection
        is ever unrecorded, and the commit costs no time on the connection."""
        previous, self.pending_sent = self.pending_sent, None
        if row.email is None:
            # forgotten after the row was queued: the step finds no address and records
            # the row as skipped; nothing goes to the server
            self.db.do(Step(previous, row.id, self.owner))
            return
        self._pace()
        started = self.db.start(Step(previous, row.id, self.owner))  # recorded while we splice
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
            if started.answer():  # this row alone; it says nothing about the server
                self._fail(row.id, exc.reason)
            return
        except RecipientRefused as exc:
            if started.answer():  # the row is ours and wanted: record what the server said
                self._refused(row, exc)
            return
        except ConnectionLost as exc:
            if started.answer():
                self.db.do(Requeue(row.id, str(exc)))  # not accepted: again, on a new connection
            self._record(False)
            return
        except DeliveryError as exc:
            if started.answer():
                self.db.do(Requeue(row.id, str(exc)))
            self.stop.set(f"paused: {exc.message}")
            return
        except Exception as exc:  # anything else about this one message: it fails alone
            transport.abandon()  # the connection's state is unknown: start a fresh one
            if started.answer():
                self._fail(row.id, _reason(exc))
            self._record(False)
            return
        if not started.answer():
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
            self.db.do(Requeue(row.id, str(exc)))
            self._record(False)
            return
        except DeliveryError as exc:  # the transport failed (an outbox that cannot be written)
            self.db.do(Requeue(row.id, str(exc)))
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

    def _fail(self, row_id: int, reason: str) -> None:
        self.db.do(Fail(row_id, reason[:500]))

    def _refused(self, row: Claimed, exc: RecipientRefused) -> None:
        self.db.do(refusal(self.issue_id, row, exc, self.options.retry_delays))
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
