"""The database as the edges see it: opened (and migrated), and checked for writes."""

from __future__ import annotations

from sqlalchemy import Engine

from briefing.store import db


def open_engine(url: str) -> Engine:
    """An engine on ``url``, its schema migrated to the newest revision."""
    return db.open_engine(url)


def check_writable(engine: Engine) -> None:
    """Raise StorageError now if the database refuses writes (a read-only file or URL),
    rather than failing on each write later."""
    db.check_writable(engine)
