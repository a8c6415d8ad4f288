"""DatabaseOutbox: the send engine's Outbox (briefing.deliver.ledger.Outbox) on the
outbox table, built by services.send and handed to the engine.

Writes go over one connection held for the run (no pool round trips): the per-message
step straight on its DB-API connection (store.outbox.HotPath), everything else through
SQLAlchemy. Reads (counts, the next retry, the hourly count) take a pooled connection of
their own, so a progress report never waits on, or joins, a write transaction.
Not thread-safe for writes: the engine's ledger serializes them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine

from briefing.store import outbox as store
from briefing.store import subscribers as subscriber_store


class DatabaseOutbox:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._hot = store.HotPath(engine.dialect)
        self._conn: Connection | None = None
        self._in_transaction = False

    @property
    def parallel_writes(self) -> bool:
        return self.engine.dialect.name != "sqlite"

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self.engine.connect()
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_transaction:  # nested: part of the enclosing one
            yield
            return
        conn = self._connection()
        with conn.begin():
            self._in_transaction = True
            try:
                yield
            finally:
                self._in_transaction = False

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.transaction():
            yield self._connection()

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def detach(self) -> None:
        self.close()
        self.engine.dispose()  # the pool's connections too: none may cross a fork

    def recover(self, issue_id: int, now: datetime, *, resend: bool) -> list[str]:
        with self._write() as conn:
            return store.recover(conn, issue_id, now, resend=resend)

    def counts(self, issue_id: int) -> dict[str, int]:
        with self.engine.connect() as conn:
            return store.counts(conn, issue_id)

    def claim(
        self,
        issue_id: int,
        owner: str,
        now: datetime,
        *,
        lease: timedelta,
        limit: int,
        after: int | None = None,
    ) -> list[store.Claimed]:
        with self._write() as conn:
            return store.claim(conn, issue_id, owner, now, lease=lease, limit=limit, after=after)

    def renew(self, issue_id: int, owner: str, now: datetime, lease: timedelta) -> None:
        with self._write() as conn:
            store.renew(conn, issue_id, owner, now, lease)

    def release(self, owner: str, row_ids: Sequence[int], now: datetime) -> None:
        with self._write() as conn:
            store.release(conn, owner, row_ids, now)

    def steps(
        self, steps: Sequence[tuple[int | None, int | None, str]], now: datetime
    ) -> list[bool]:
        conn = self._connection()
        dbapi = conn.connection.driver_connection
        # inside transaction(): committed with the enclosing transaction
        return self._hot.record(dbapi, steps, now, commit=not self._in_transaction)

    def requeue(self, row_id: int, now: datetime, *, error: str) -> None:
        with self._write() as conn:
            store.finish(conn, row_id, "queued", now, error=error)

    def fail(self, row_id: int, now: datetime, *, error: str, code: int | None = None) -> None:
        with self._write() as conn:
            store.finish(conn, row_id, "failed", now, code=code, error=error)

    def defer(
        self, row_id: int, now: datetime, *, code: int, error: str, retry_at: datetime
    ) -> None:
        with self._write() as conn:
            store.finish(conn, row_id, "deferred", now, code=code, error=error, retry_at=retry_at)

    def mark_bounced(
        self, subscriber_id: int, now: datetime, *, issue_id: int, code: int, reason: str
    ) -> None:
        with self._write() as conn:
            subscriber_store.update_subscriber(conn, subscriber_id, now, status="bounced")
            subscriber_store.add_event(
                conn,
                subscriber_id,
                now,
                "bounced",
                "send",
                {"issue": issue_id, "code": code, "reason": reason},
            )

    def sent_since(self, since: datetime) -> int:
        with self.engine.connect() as conn:
            return store.sent_since(conn, since)

    def senders(self, now: datetime) -> int:
        with self.engine.connect() as conn:
            return store.active_senders(conn, now)

    def next_retry(self, issue_id: int) -> datetime | None:
        with self.engine.connect() as conn:
            return store.next_retry(conn, issue_id)

    def paused(self, issue_id: int) -> str | None:
        with self.engine.connect() as conn:
            return store.paused_reason(conn, issue_id)
