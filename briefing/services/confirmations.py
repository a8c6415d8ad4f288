"""The queue behind the subscribe form.

The form's handler only checks the form and records the request in ``subscribe_queue``:
the same work whatever the address, so neither the answer nor its timing tells whether
an address is on the list, and no mail server is ever waited for. A worker in the serve
process then applies the request (``subscriptions.request_subscription``) and sends the
confirmation email, retrying with backoff while the mail server is down, for up to
``GIVE_UP_AFTER``. One address gets at most one confirmation per ``RESEND_AFTER``.

Rows are claimed under a lease, so several serve processes can share the queue. Once a
request is applied its personal fields are cleared (the subscriber's row and its
``requested`` event hold them); finished rows are deleted after ``KEEP_DONE``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, delete, func, insert, or_, select, update

from briefing.clock import utcnow
from briefing.config import Settings
from briefing.deliver.transports import RecipientRefused
from briefing.email_address import InvalidAddress
from briefing.headertext import name_text
from briefing.services import subscriptions
from briefing.store import subscribers as subscriber_store
from briefing.store.web_schema import subscribe_queue as queue

log = logging.getLogger("briefing.web")

RESEND_AFTER = timedelta(minutes=10)
GIVE_UP_AFTER = timedelta(days=1)
KEEP_DONE = timedelta(days=1)
LEASE = timedelta(minutes=5)
MAX_BACKOFF = 3600.0
PENDING = ("received", "mail")
PERSONAL = {"email": None, "name": None, "topics": None, "ip": None, "user_agent": None}


def enqueue(
    engine: Engine,
    *,
    email: str,
    name: str | None,
    topics: Sequence[str] | None,
    ip: str | None,
    user_agent: str | None,
    now: datetime | None = None,
) -> None:
    """Record a subscribe request, to be applied by the worker (one INSERT)."""
    now = now or utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(queue).values(
                created_at=now,
                state="received",
                email=email,
                name=name_text(name),  # header-bound: cleaned before it is stored at all
                topics=list(topics) if topics else None,
                ip=ip[:64] if ip else None,
                user_agent=user_agent[:512] if user_agent else None,
                attempts=0,
                due_at=now,
            )
        )


class ConfirmationWorker:
    """Drains the queue in a background thread: ``wake()`` after each enqueue (it starts
    the thread if needed); the thread sleeps until the next retry is due and ends when
    the queue is empty. ``process_due(now)`` is one pass, for tests and tools."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        signing_secrets: Sequence[str],
        *,
        delivery_url: str | None = None,
        retry_seconds: float = 60.0,
    ) -> None:
        self.settings, self.engine, self.secrets = settings, engine, list(signing_secrets)
        self.delivery_url = delivery_url
        self.retry_seconds = retry_seconds
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the thread ---------------------------------------------------------------------------

    def wake(self) -> None:
        with self._lock:
            self._wake.set()
            if self._stop.is_set():
                return
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="briefing-confirmations", daemon=True
                )
                self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._lock:
            self._stop.set()
            self._wake.set()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.process_due()
                wait = self._seconds_to_next()
            except Exception:  # a database hiccup must not end the worker for good
                log.exception("the confirmation queue failed; trying again shortly")
                wait = self.retry_seconds
            if wait is None:
                with self._lock:
                    if not self._wake.is_set():  # nothing queued and nobody knocked: rest
                        self._thread = None
                        return
                continue
            self._wake.wait(min(max(wait, 0.01), 60.0))

    def _seconds_to_next(self, now: datetime | None = None) -> float | None:
        """Seconds until a pending row can next be taken (due, and its lease over); None
        when nothing is pending."""
        now = now or utcnow()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(queue.c.due_at, queue.c.lease_until)
                .where(queue.c.state.in_(PENDING))
                .order_by(queue.c.due_at)
                .limit(200)
            ).all()
        if not rows:
            return None
        soonest: datetime = min(
            max(due, lease) if lease is not None else due for due, lease in rows
        )
        return (soonest - now).total_seconds()

    # --- one pass -----------------------------------------------------------------------------

    def process_due(self, now: datetime | None = None) -> int:
        """Apply and send every request that is due; how many were handled."""
        now = now or utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                delete(queue).where(
                    queue.c.state.notin_(PENDING),
                    func.coalesce(queue.c.sent_at, queue.c.due_at) < now - KEEP_DONE,
                )
            )
        handled = 0
        while True:
            with self.engine.connect() as conn:
                ids = list(
                    conn.execute(
                        select(queue.c.id)
                        .where(self._claimable(now), queue.c.due_at <= now)
                        .order_by(queue.c.id)
                        .limit(50)
                    ).scalars()
                )
            if not ids:
                return handled
            for row_id in ids:
                if self._claim(row_id, now):
                    self._handle(row_id, now)
                    handled += 1

    @staticmethod
    def _claimable(now: datetime) -> Any:
        return and_(
            queue.c.state.in_(PENDING),
            or_(queue.c.lease_until.is_(None), queue.c.lease_until < now),
        )

    def _claim(self, row_id: int, now: datetime) -> bool:
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    update(queue)
                    .where(queue.c.id == row_id, self._claimable(now))
                    .values(lease_until=now + LEASE)
                ).rowcount
            )

    def _set(self, row_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(queue).where(queue.c.id == row_id).values(lease_until=None, **values)
            )

    def _handle(self, row_id: int, now: datetime) -> None:
        with self.engine.connect() as conn:
            row = conn.execute(select(queue).where(queue.c.id == row_id)).mappings().one()
        subscriber_id = row["subscriber_id"]
        if row["state"] == "received":
            try:
                sub = subscriptions.request_subscription(
                    self.settings,
                    self.engine,
                    row["email"] or "",
                    name=row["name"],
                    topics=row["topics"],
                    ip=row["ip"],
                    user_agent=row["user_agent"],
                    now=row["created_at"],
                )
            except InvalidAddress:
                self._finish(row_id)
                return
            except Exception as exc:
                self._retry(row, now, exc)
                return
            if sub is None:  # already active: nothing to send, nothing to keep
                self._finish(row_id)
                return
            subscriber_id = sub.id
            self._set(row_id, state="mail", subscriber_id=sub.id, **PERSONAL)
        self._send(row_id, subscriber_id, row, now)

    def _send(self, row_id: int, subscriber_id: int, row: Any, now: datetime) -> None:
        with self.engine.connect() as conn:
            sub = subscriber_store.by_id(conn, subscriber_id)
            earlier = conn.execute(
                select(queue.c.id)
                .where(
                    queue.c.subscriber_id == subscriber_id,
                    queue.c.id < row_id,
                    or_(
                        queue.c.state == "mail",
                        and_(queue.c.state == "sent", queue.c.sent_at > now - RESEND_AFTER),
                    ),
                )
                .limit(1)
            ).first()
        if sub is None or not sub.email or sub.status in ("active", "forgotten"):
            self._finish(row_id)
            return
        if earlier is not None:  # a confirmation went (or is going) out in the last 10 minutes
            self._finish(row_id)
            return
        link = subscriptions.confirmation_link(self.settings, sub, self.secrets, now)
        try:
            subscriptions.send_confirmation(self.settings, sub, link, url=self.delivery_url)
        except Exception as exc:
            permanent = isinstance(exc, RecipientRefused) and exc.permanent
            self._retry(row, now, exc, address=sub.email, permanent=permanent)
            return
        self._set(row_id, state="sent", sent_at=now, last_error=None)

    def _finish(self, row_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(queue).where(queue.c.id == row_id))

    def _retry(
        self,
        row: Any,
        now: datetime,
        exc: Exception,
        *,
        address: str | None = None,
        permanent: bool = False,
    ) -> None:
        attempts = int(row["attempts"]) + 1
        reason = f"{type(exc).__name__}: {exc}"
        for secret in filter(None, (address, row["email"])):
            reason = reason.replace(secret, "<address>")  # the error log keeps no address
        reason = reason[:500]
        if permanent or now - row["created_at"] > GIVE_UP_AFTER:
            log.warning(
                "confirmation email for subscribe request #%s given up: %s", row["id"], reason
            )
            self._set(row["id"], state="failed", attempts=attempts, last_error=reason, **PERSONAL)
            return
        delay = min(self.retry_seconds * 2 ** (attempts - 1), MAX_BACKOFF)
        log.warning(
            "confirmation email for subscribe request #%s failed (attempt %s): %s; "
            "retrying in %.0f s",
            row["id"],
            attempts,
            reason,
            delay,
        )
        self._set(
            row["id"], attempts=attempts, last_error=reason, due_at=now + timedelta(seconds=delay)
        )
