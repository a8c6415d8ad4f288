#!/usr/bin/env python3
"""Run one `briefing` command with every database statement it executes timed where it
is executed (the DB-API cursor, so the raw per-message statements of the send's hot path
count as well as SQLAlchemy's), and write the figures as JSON to a file when it exits.

    .venv/bin/python scripts/_statement_timing.py OUT.json --config c.toml send 1 ...

A statement's time is the wall time of its cursor.execute / executemany (on PostgreSQL:
the round trip, the server's work and the driver's; on SQLite: SQLite's own work, in
process); commits and rollbacks are counted apart. Forked processes (a send's workers,
which on PostgreSQL record on connections of their own) are timed too and added in.
Also written: this process's peak RSS, and that of its largest child (the workers).
For scripts/bench_send.py.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import resource
import sqlite3
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

# (calls, seconds) per normalized statement
_stats: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
_PARAM = r"(?:\?|%s|%\(\w+\)s|:\w+|__\[POSTCOMPILE_\w+\])"
_LIST = re.compile(rf"\(\s*{_PARAM}(?:\s*,\s*{_PARAM})+\s*\)")


def normalize(sql: str) -> str:
    """One key per statement shape: whitespace folded, parameter lists as (...)."""
    return _LIST.sub("(...)", " ".join(sql.split()))


def _count(key: str, started: float) -> None:
    entry = _stats[key]
    entry[0] += 1
    entry[1] += time.perf_counter() - started


class TimedSQLiteCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> TimedSQLiteCursor:
        t = time.perf_counter()
        try:
            return super().execute(sql, parameters)
        finally:
            _count(normalize(sql), t)

    def executemany(self, sql: str, parameters: Any, /) -> TimedSQLiteCursor:
        t = time.perf_counter()
        try:
            return super().executemany(sql, parameters)
        finally:
            _count(normalize(sql), t)


class TimedSQLiteConnection(sqlite3.Connection):
    def cursor(self, factory: Any = None) -> Any:
        return super().cursor(factory or TimedSQLiteCursor)

    def commit(self) -> None:
        t = time.perf_counter()
        try:
            super().commit()
        finally:
            _count("COMMIT", t)

    def rollback(self) -> None:
        t = time.perf_counter()
        try:
            super().rollback()
        finally:
            _count("ROLLBACK", t)


def _time_psycopg() -> None:
    try:
        import psycopg
    except ImportError:
        return

    def timed(method: Any, key: Any) -> Any:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return method(self, *args, **kwargs)
            finally:
                _count(key(args), t)

        return wrapper

    def query(args: Any) -> str:
        sql = args[0]
        return normalize(sql if isinstance(sql, str) else sql.as_string(None))

    psycopg.Cursor.execute = timed(psycopg.Cursor.execute, query)  # type: ignore[method-assign]
    psycopg.Cursor.executemany = timed(psycopg.Cursor.executemany, query)  # type: ignore[method-assign]
    psycopg.Connection.commit = timed(psycopg.Connection.commit, lambda _: "COMMIT")  # type: ignore[method-assign]
    psycopg.Connection.rollback = timed(psycopg.Connection.rollback, lambda _: "ROLLBACK")  # type: ignore[method-assign]


def _time_sqlite() -> None:
    """SQLite's connections are made with the timed subclass (sqlite3's types are C types:
    their methods cannot be replaced, a subclass can be asked for)."""
    from briefing.store import db

    original = db.create_engine  # type: ignore[attr-defined]

    def create_engine(url: Any, *args: Any, **kwargs: Any) -> Any:
        if str(url).startswith("sqlite"):
            kwargs["connect_args"] = {
                **kwargs.get("connect_args", {}),
                "factory": TimedSQLiteConnection,
            }
        return original(url, *args, **kwargs)

    db.create_engine = create_engine  # type: ignore[attr-defined]


def _time_children(out: Path) -> None:
    """A forked process (multiprocessing's, which leaves through os._exit: no atexit)
    starts from no figures and writes its own beside ``out`` when its target returns."""
    from multiprocessing import process

    original = process.BaseProcess._bootstrap  # type: ignore[attr-defined]

    def bootstrap(self: Any, *args: Any, **kwargs: Any) -> Any:
        _stats.clear()
        try:
            return original(self, *args, **kwargs)
        finally:
            path = out.with_name(f"{out.name}.{os.getpid()}")
            path.write_text(json.dumps({k: v for k, v in _stats.items()}))

    process.BaseProcess._bootstrap = bootstrap  # type: ignore[attr-defined]


def main() -> None:
    out = Path(sys.argv[1])
    sys.argv = ["briefing", *sys.argv[2:]]
    sys.path.insert(0, str(REPO))
    me = os.getpid()
    _time_psycopg()
    _time_sqlite()
    _time_children(out)

    @atexit.register
    def _write() -> None:
        if os.getpid() != me:
            return
        for child in out.parent.glob(f"{out.name}.*"):
            for sql, (calls, seconds) in json.loads(child.read_text()).items():
                _stats[sql][0] += calls
                _stats[sql][1] += seconds
            child.unlink()
        statements = [
            {"sql": sql, "calls": int(calls), "seconds": seconds}
            for sql, (calls, seconds) in sorted(_stats.items(), key=lambda kv: -kv[1][1])
        ]
        out.write_text(
            json.dumps(
                {
                    "statements": statements,
                    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                    "children_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                    / 1024,
                }
            )
        )

    from briefing.cli import main as briefing

    briefing()
    sys.exit(0)


if __name__ == "__main__":
    main()
