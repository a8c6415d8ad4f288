"""Named leases in the database: one holder at a time across processes and machines.

A lease runs out by itself (``until``), so a holder that died frees it; a live holder
renews it. Taking one is a single guarded statement, race-safe on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import Engine, and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from briefing.clock import utcnow
from briefing.store.locks_schema import locks
from briefing.store.outbox import dead_here


def new_owner(role: str = "briefing") -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{role}:{uuid.uuid4().hex[:8]}"


def acquire(engine: Engine, name: str, owner: str, ttl: timedelta) -> bool:
    """Take (or extend) the lease ``name`` for ``owner``; False if someone else holds it."""
    now = utcnow()
    with engine.begin() as conn:
        taken = conn.execute(
            update(locks)
            .where(locks.c.name == name, or_(locks.c.until < now, locks.c.owner == owner))
            .values(owner=owner, until=now + ttl, acquired_at=now)
        ).rowcount
    if taken == 1:
        return True
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(locks).values(name=name, owner=owner, until=now + ttl, acquired_at=now)
            )
        return True
    except IntegrityError:
        pass  # another holder got there first
    # a holder on this machine that no longer exists (killed) need not be waited out
    with engine.begin() as conn:
        current = conn.execute(select(locks.c.owner).where(locks.c.name == name)).scalar()
        if current is None or not dead_here(current):
            return False
        return (
            conn.execute(
                update(locks)
                .where(locks.c.name == name, locks.c.owner == current)
                .values(owner=owner, until=now + ttl, acquired_at=now)
            ).rowcount
            == 1
        )


def renew(engine: Engine, name: str, owner: str, ttl: timedelta) -> bool:
    with engine.begin() as conn:
        return (
            conn.execute(
                update(locks)
                .where(locks.c.name == name, locks.c.owner == owner)
                .values(until=utcnow() + ttl)
            ).rowcount
            == 1
        )


def release(engine: Engine, name: str, owner: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(locks).where(and_(locks.c.name == name, locks.c.owner == owner)))


def holder(engine: Engine, name: str) -> str | None:
    with engine.connect() as conn:
        row = conn.execute(select(locks.c.owner, locks.c.until).where(locks.c.name == name)).first()
    return row.owner if row is not None and row.until >= utcnow() else None


@contextmanager
def held(
    engine: Engine, name: str, owner: str, ttl: timedelta = timedelta(minutes=2)
) -> Iterator[bool]:
    """``with held(engine, "send", owner) as ok:`` -- ``ok`` says whether we hold it; while
    we do, a thread renews it every third of ``ttl``, and it is released at the end."""
    if not acquire(engine, name, owner, ttl):
        yield False
        return
    done = threading.Event()

    def keep() -> None:
        while not done.wait(ttl.total_seconds() / 3):
            try:
                renew(engine, name, owner, ttl)
            except Exception:  # a database hiccup: try again at the next beat
                continue

    beat = threading.Thread(target=keep, name=f"lease-{name}", daemon=True)
    beat.start()
    try:
        yield True
    finally:
        done.set()
        beat.join()
        release(engine, name, owner)
