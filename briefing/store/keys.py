"""The keys' fingerprints in the database (see keys_schema): read and record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from briefing.store.keys_schema import key_fingerprints


def recorded(conn: Connection, purpose: str) -> str | None:
    return conn.execute(
        select(key_fingerprints.c.fingerprint).where(key_fingerprints.c.purpose == purpose)
    ).scalar_one_or_none()


def record(engine: Engine, purpose: str, fingerprint: str, at: datetime) -> None:
    """Set the fingerprint for ``purpose``, in a transaction of its own (another process
    may be recording it at the same moment: then the later write wins)."""
    change = (
        update(key_fingerprints)
        .where(key_fingerprints.c.purpose == purpose)
        .values(fingerprint=fingerprint, recorded_at=at)
    )
    with engine.begin() as conn:
        if conn.execute(change).rowcount:
            return
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(key_fingerprints).values(
                    purpose=purpose, fingerprint=fingerprint, recorded_at=at
                )
            )
    except IntegrityError:
        with engine.begin() as conn:
            conn.execute(change)
