"""One leader among schedulers on PostgreSQL: a session advisory lock
(``pg_try_advisory_lock``) on a connection of its own, held for the leader's life.

When the leader dies its connection closes and PostgreSQL frees the lock at once; a
standby that tries again every few seconds takes over within that time. (A machine that
vanishes without closing its connections is noticed by TCP keepalives: see the
connection's ``keepalives_idle``.) SQLite has no such lock: there, one machine only.
"""

from __future__ import annotations

import zlib

from sqlalchemy import Connection, Engine, text

# one fixed key for "the scheduler" of a database (any int64; crc32 keeps it readable)
SCHEDULER_KEY = zlib.crc32(b"briefing:scheduler-leader")


def supported(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


class AdvisoryLock:
    """A PostgreSQL session advisory lock on a dedicated connection."""

    def __init__(self, engine: Engine, key: int = SCHEDULER_KEY) -> None:
        self.engine, self.key = engine, key
        self._conn: Connection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True if we hold it now."""
        if self._conn is not None:
            return True
        conn = self.engine.connect()
        try:
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
            )
            conn.commit()  # the lock is the session's: it outlives the transaction
        except Exception:
            conn.close()
            raise
        if got:
            self._conn = conn
        else:
            conn.close()
        return got

    def alive(self) -> bool:
        """Whether we still hold it (our connection still answers)."""
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1")).scalar()
            self._conn.commit()
            return True
        except Exception:
            self._drop()
            return False

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            self._conn.commit()
        except Exception:
            pass  # the connection is gone: so is the lock
        finally:
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()  # never back to the pool with a session lock on it
            finally:
                conn.close()
