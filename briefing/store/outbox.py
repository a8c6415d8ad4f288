"""The outbox in the database: populate, claim with a lease, record each message's fate.

Progress is recorded per recipient, after the server answered: never when a batch is
fetched. A row is ``sending`` only while its message is being handed to the server; a
crash leaves at most one such row per connection, and that row's fate is unknown.

Claiming is portable: on PostgreSQL the candidate rows are locked with
``FOR UPDATE SKIP LOCKED`` so workers on several machines never take the same row; on
SQLite the claiming UPDATE runs in a write transaction, which SQLite serializes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, exists, func, insert, or_, select, update

from briefing.store.outbox_schema import outbox, send_runs
from briefing.store.subscribers_schema import subscribers


@dataclass(frozen=True)
class Claimed:
    id: int
    subscriber_id: int
    email: str
    name: str | None
    token_id: str
    attempts: int


def run(conn: Connection, issue_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(send_runs).where(send_runs.c.issue_id == issue_id)).mappings().first()
    return dict(row) if row else None


def start_run(conn: Connection, issue_id: int, now: datetime) -> None:
    if run(conn, issue_id) is None:
        conn.execute(insert(send_runs).values(issue_id=issue_id, started_at=now))


def mark_ready(conn: Connection, issue_id: int, now: datetime) -> None:
    conn.execute(
        update(send_runs).where(send_runs.c.issue_id == issue_id).values(recipients_ready_at=now)
    )


def finish_run(conn: Connection, issue_id: int, now: datetime) -> None:
    conn.execute(update(send_runs).where(send_runs.c.issue_id == issue_id).values(finished_at=now))


def populate(conn: Connection, issue_id: int, subscriber_ids: Sequence[int], now: datetime) -> int:
    """Queue the recipients not queued yet (the UNIQUE key makes this safe to repeat)."""
    if not subscriber_ids:
        return 0
    have = {
        r[0]
        for r in conn.execute(
            select(outbox.c.subscriber_id).where(
                outbox.c.issue_id == issue_id, outbox.c.subscriber_id.in_(subscriber_ids)
            )
        )
    }
    rows = [
        {
            "issue_id": issue_id,
            "subscriber_id": s,
            "state": "queued",
            "attempts": 0,
            "updated_at": now,
        }
        for s in subscriber_ids
        if s not in have
    ]
    if rows:
        conn.execute(insert(outbox), rows)
    return len(rows)


def recover(conn: Connection, issue_id: int, now: datetime, *, resend: bool) -> list[str]:
    """After a crash: rows whose lease ran out. Those caught in ``sending`` may or may not
    have reached the server; they are returned by address and requeued (``resend``) or
    failed. Others just lose the dead worker's lease."""
    stale = and_(outbox.c.issue_id == issue_id, outbox.c.lease_until < now)
    ambiguous = conn.execute(
        select(outbox.c.id, subscribers.c.email)
        .join(subscribers, subscribers.c.id == outbox.c.subscriber_id)
        .where(stale, outbox.c.state == "sending")
    ).all()
    if ambiguous:
        ids = [r.id for r in ambiguous]
        values: dict[str, Any] = {
            "lease_owner": None,
            "lease_until": None,
            "updated_at": now,
            "last_error": "fate unknown: the sender stopped while handing it over",
        }
        values["state"] = "queued" if resend else "failed"
        conn.execute(update(outbox).where(outbox.c.id.in_(ids)).values(**values))
    conn.execute(
        update(outbox)
        .where(stale, outbox.c.state != "sending")
        .values(lease_owner=None, lease_until=None, updated_at=now)
    )
    return [r.email or f"(forgotten subscriber {r.id})" for r in ambiguous]


def claim(
    conn: Connection, issue_id: int, owner: str, now: datetime, *, lease: timedelta, limit: int
) -> list[Claimed]:
    """Take up to ``limit`` due rows for ``owner`` until ``now + lease``."""
    due = and_(
        outbox.c.issue_id == issue_id,
        or_(
            outbox.c.state == "queued",
            and_(outbox.c.state == "deferred", outbox.c.next_attempt_at <= now),
        ),
        or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now),
    )
    candidates = select(outbox.c.id).where(due).order_by(outbox.c.id).limit(limit)
    if conn.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = [r[0] for r in conn.execute(candidates)]
    if not ids:
        return []
    conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(ids), due)
        .values(lease_owner=owner, lease_until=now + lease, updated_at=now)
    )
    rows = conn.execute(
        select(
            outbox.c.id,
            outbox.c.subscriber_id,
            outbox.c.attempts,
            subscribers.c.email,
            subscribers.c.name,
            subscribers.c.token_id,
        )
        .join(subscribers, subscribers.c.id == outbox.c.subscriber_id)
        .where(outbox.c.id.in_(ids), outbox.c.lease_owner == owner)
        .order_by(outbox.c.id)
    ).all()
    return [Claimed(r.id, r.subscriber_id, r.email, r.name, r.token_id, r.attempts) for r in rows]


def start_sending(conn: Connection, row_id: int, owner: str, now: datetime) -> bool:
    """Mark the row ``sending`` right before its message goes out, if it is still ours and
    the subscriber still wants it (an unsubscribe in the middle of a send counts)."""
    wanted = exists().where(
        subscribers.c.id == outbox.c.subscriber_id,
        subscribers.c.status == "active",
        subscribers.c.paused.is_(False),
        subscribers.c.email.is_not(None),
    )
    result = conn.execute(
        update(outbox)
        .where(outbox.c.id == row_id, outbox.c.lease_owner == owner, wanted)
        .values(state="sending", attempts=outbox.c.attempts + 1, updated_at=now)
    )
    return result.rowcount == 1


def finish(
    conn: Connection,
    row_id: int,
    state: str,
    now: datetime,
    *,
    code: int | None = None,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    values: dict[str, Any] = {
        "state": state,
        "updated_at": now,
        "lease_owner": None,
        "lease_until": None,
        "last_code": code,
        "last_error": error,
        "next_attempt_at": retry_at,
    }
    if state == "sent":
        values["sent_at"] = now
    conn.execute(update(outbox).where(outbox.c.id == row_id).values(**values))


def release(conn: Connection, owner: str, row_ids: Iterable[int], now: datetime) -> None:
    """Give back claimed rows this worker will not get to (a clean stop)."""
    ids = list(row_ids)
    if ids:
        conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids), outbox.c.lease_owner == owner, outbox.c.state != "sending")
            .values(lease_owner=None, lease_until=None, updated_at=now)
        )


def counts(conn: Connection, issue_id: int) -> dict[str, int]:
    rows = conn.execute(
        select(outbox.c.state, func.count())
        .where(outbox.c.issue_id == issue_id)
        .group_by(outbox.c.state)
    )
    found = {r[0]: int(r[1]) for r in rows}
    return {
        s: found.get(s, 0) for s in ("queued", "sending", "sent", "deferred", "failed", "skipped")
    }


def next_retry(conn: Connection, issue_id: int) -> datetime | None:
    return conn.execute(
        select(func.min(outbox.c.next_attempt_at)).where(
            outbox.c.issue_id == issue_id, outbox.c.state == "deferred"
        )
    ).scalar()


def sent_since(conn: Connection, since: datetime) -> int:
    return int(conn.execute(select(func.count()).where(outbox.c.sent_at >= since)).scalar_one())


def failures(conn: Connection, issue_id: int, limit: int = 20) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(subscribers.c.email, outbox.c.state, outbox.c.last_code, outbox.c.last_error)
        .join(subscribers, subscribers.c.id == outbox.c.subscriber_id)
        .where(outbox.c.issue_id == issue_id, outbox.c.state.in_(["failed", "deferred"]))
        .order_by(outbox.c.id)
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]
