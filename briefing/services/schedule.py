"""What the scheduler reads and writes in the database: the issue planned for a send,
whether the editors were already told, the scheduler's events, its leases, and the
outbox rows a send by local time leaves behind. briefing/schedule/ calls these and never
touches the store itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from briefing.models import Issue
from briefing.store import db, leader, locks
from briefing.store import issues as issue_store
from briefing.store import outbox as outbox_store
from briefing.store.issues_schema import issue_events, issues

ACTOR = "scheduler"


# --- issues -------------------------------------------------------------------------------------


def issue_for(engine: Engine, planned: datetime) -> Issue | None:
    """The issue planned for this send, whatever its state."""
    with engine.connect() as conn:
        row = conn.execute(
            select(issues.c.id)
            .where(issues.c.planned_for == planned)
            .order_by(issues.c.id.desc())
            .limit(1)
        ).first()
        return issue_store.get_issue(conn, row.id) if row else None


def in_flight(engine: Engine) -> list[Issue]:
    """Issues whose send started and did not finish."""
    with engine.connect() as conn:
        return [i for i in issue_store.list_issues(conn) if i.state == "sending"]


def open_issue(engine: Engine) -> Issue | None:
    with engine.connect() as conn:
        return issue_store.open_issue(conn)


def plan(engine: Engine, issue_id: int, planned: datetime, now: datetime) -> None:
    """Mark the issue as the one for the send planned at ``planned``."""
    with engine.begin() as conn:
        issue_store.update_issue(conn, issue_id, now, planned_for=planned)


def expire(engine: Engine, issue_id: int, planned: datetime, now: datetime) -> None:
    with engine.begin() as conn:
        issue_store.set_state(
            conn,
            issue_id,
            "expired",
            now=now,
            actor=ACTOR,
            detail={"planned": planned.isoformat(), "why": "not sent before expire_after"},
        )


# --- what the editors were told -----------------------------------------------------------------


def told(engine: Engine, issue_id: int | None, action: str, key: str) -> bool:
    """Whether the editors were already told ``action`` about ``key`` (a planned send)."""
    if issue_id is None:
        return False
    with engine.connect() as conn:
        rows = conn.execute(
            select(issue_events.c.detail).where(
                issue_events.c.issue_id == issue_id, issue_events.c.action == action
            )
        ).scalars()
        return any((d or {}).get("planned") == key for d in rows)


def record(
    engine: Engine, issue_id: int, now: datetime, action: str, detail: dict[str, Any]
) -> None:
    """An event on the issue, by the scheduler."""
    with engine.begin() as conn:
        issue_store.add_event(conn, issue_id, now, ACTOR, action, detail)


def first_to_tell(engine: Engine, key: str, ttl: timedelta) -> bool:
    """True once per ``key`` for ``ttl``: for a notice with no issue to hang an event on (a
    lease that outlives the week says "told")."""
    return locks.acquire(engine, key, locks.new_owner(), ttl)


# --- leases -------------------------------------------------------------------------------------


def new_owner(role: str) -> str:
    return locks.new_owner(role)


@contextmanager
def job_lease(engine: Engine, name: str, owner: str) -> Iterator[bool]:
    """The named lease for a job run, renewed while held; yields whether it was taken."""
    with locks.held(engine, name, owner) as ok:
        yield ok


def acquire(engine: Engine, name: str, owner: str, ttl: timedelta) -> bool:
    return locks.acquire(engine, name, owner, ttl)


def release(engine: Engine, name: str, owner: str) -> None:
    locks.release(engine, name, owner)


# --- the outbox ---------------------------------------------------------------------------------


def expire_unreleased(engine: Engine, issue_id: int, before: datetime, now: datetime) -> int:
    """Drop the queued rows whose local send time is before ``before``; how many."""
    with engine.begin() as conn:
        return outbox_store.expire_unreleased(conn, issue_id, before, now)


def next_batch(engine: Engine, issue_id: int) -> datetime | None:
    """When the next queued rows of the issue come due (a later local time, a retry)."""
    with engine.connect() as conn:
        return outbox_store.next_retry(conn, issue_id)


# --- the database -------------------------------------------------------------------------------


def check_writable(engine: Engine) -> None:
    """Refuse a read-only database now, rather than fail in every job."""
    db.check_writable(engine)


# --- leader election (several schedulers on PostgreSQL) ----------------------------------------


def leadership(engine: Engine) -> leader.AdvisoryLock | None:
    """The schedulers' leader lock on PostgreSQL (try_acquire, alive, release); None on
    SQLite, where one scheduler runs on one machine and the job leases are enough."""
    return leader.AdvisoryLock(engine) if leader.supported(engine) else None
