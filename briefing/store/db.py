"""Opening the database: engine, SQLite pragmas, and Alembic migrations applied on open."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from briefing.errors import StorageError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def newest_revision() -> str:
    """The head revision, read from the migration files' names (NNNN_what.py, revision
    "NNNN", one linear chain): what an up-to-date database records, known without
    importing Alembic (a fifth of a second on every command)."""
    return max(p.name[:4] for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite file gets its folder, WAL and a busy timeout."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(
            f"{url!r} is not a database URL",
            "use e.g. sqlite:///var/briefing.db or postgresql+psycopg://user@host/db",
        ) from exc
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if not db:  # SQLite's in-memory database: gone when the command ends, with its data
            raise StorageError(
                f"{url!r} names no database file",
                "name one, e.g. sqlite:///var/briefing.db (relative to the config's folder)",
            )
        if db != ":memory:" and not db.startswith("file:"):
            if Path(db).is_dir():
                raise StorageError(
                    f"the database {db} is a folder, not a database file",
                    f"name a file in it, e.g. sqlite:///{Path(db) / 'briefing.db'}",
                )
            _private_sqlite_file(Path(db))
        kwargs["connect_args"] = {"timeout": 30}
    try:
        engine = create_engine(parsed, future=True, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        if parsed.get_backend_name() != "postgresql":
            hint = "install the database driver (e.g. pip install psycopg[binary])"
        elif parsed.drivername == "postgresql+psycopg":
            hint = "install PostgreSQL's driver: pip install 'briefing[postgres]' (psycopg 3)"
        else:  # postgresql:// alone means psycopg2 to SQLAlchemy, which Briefing does not ship
            hint = (
                "name the psycopg 3 driver in the URL, postgresql+psycopg://user@host/db, "
                "and install it: pip install 'briefing[postgres]'"
            )
        raise StorageError(f"no driver for {parsed.drivername}: {exc}", hint) from exc
    if parsed.get_backend_name() == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # freed space is zeroed: an erased address leaves no copy in free pages or
            # cells (`subscribers forget`), at the cost of a memset when rows shrink
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        @event.listens_for(engine, "handle_error")
        def _translate(context: ExceptionContext) -> None:
            # every statement of every command and request meets this one translation
            orig = context.original_exception
            if not isinstance(orig, sqlite3.Error):
                return
            if orig.sqlite_errorcode & 0xFF in _READ_ONLY:
                raise read_only(parsed, orig) from orig
            if orig.sqlite_errorcode == sqlite3.SQLITE_NOTADB:
                raise StorageError(
                    f"{db} is not a SQLite database ({orig})",
                    "point storage.url or --db at a SQLite database file; one that does not "
                    "exist yet is created (e.g. sqlite:///var/briefing.db)",
                ) from orig

    elif parsed.get_backend_name() == "postgresql":

        @event.listens_for(engine, "handle_error")
        def _translate_pg(context: ExceptionContext) -> None:
            # PostgreSQL's SQLSTATEs for a write the server or the user's grants refuse
            orig = context.original_exception
            state = getattr(orig, "sqlstate", None)
            if state in _PG_REFUSED:
                where = parsed.render_as_string(hide_password=True)
                raise StorageError(
                    f"the database {where} refused the statement ({_PG_REFUSED[state]}: "
                    f"{str(orig).strip().splitlines()[0]})",
                    "connect as a user that may write to Briefing's tables (storage.url or "
                    "--db), to the primary rather than a read-only standby",
                ) from orig

    return engine


# read_only_sql_transaction (a standby, default_transaction_read_only), insufficient_privilege
_PG_REFUSED = {"25006": "read-only transaction", "42501": "insufficient privilege"}


def _private_sqlite_file(db: Path) -> None:
    """The database file (and so its WAL and SHM, which SQLite creates with the main file's
    mode) readable by its owner only; its folder too when we create it."""
    from briefing.private import create_private_file, private_dir, tighten

    try:
        private_dir(db.parent)
        create_private_file(db)
    except OSError as exc:
        raise StorageError(f"cannot create {db}: {exc.strerror}") from exc
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        tighten(path)


def checkpoint(engine: Engine) -> bool | None:
    """On SQLite, copy the WAL into the database file and truncate it to zero bytes, so
    rows just erased leave no copy in the WAL. True when done, False when a reader kept
    it from finishing (busy), None on other databases."""
    if engine.dialect.name != "sqlite":
        return None
    raw = engine.raw_connection()
    try:
        row = raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        raw.close()
    return bool(row is not None and row[0] == 0)


# SQLITE_READONLY (and its extended codes), and SQLITE_PERM: the file, its folder or
# the URL (mode=ro) does not let SQLite write
_READ_ONLY = {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM}


def read_only(url: URL, exc: BaseException) -> StorageError:
    """The error for a database SQLite may read but not write."""
    db = url.database or ""
    uri = db.startswith("file:")
    path = Path(db.removeprefix("file:").split("?", 1)[0])
    if uri and "mode=ro" in str(url):
        hint = "remove mode=ro from the database URL (storage.url or --db) to let Briefing write"
    else:
        hint = (
            f"Briefing writes to the file and to its folder (SQLite keeps {path.name}-wal and "
            f"{path.name}-shm beside it): run as the user that owns them or make both writable "
            "(chmod u+w), or point storage.url / --db at a writable copy"
        )
    return StorageError(f"the database {path} is read-only ({exc})", hint)


def check_writable(engine: Engine) -> None:
    """Refuse a database Briefing cannot write to, before a server takes requests: a
    write that is rolled back (it waits, like any write, while another one commits)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
            conn.rollback()
    except SQLAlchemyError as exc:
        raise StorageError(
            f"cannot write to the database {engine.url!r}: {getattr(exc, 'orig', None) or exc}",
            "check that the database user may write (storage.url or --db)",
        ) from exc


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; cheap when it already is."""
    try:
        with engine.connect() as conn:
            if conn.dialect.has_table(conn, "alembic_version"):
                current = conn.execute(text("SELECT version_num FROM alembic_version")).all()
                if [r[0] for r in current] == [newest_revision()]:
                    return
        from alembic import command

        cfg = alembic_config(engine)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except OperationalError as exc:
        if engine.dialect.name == "sqlite":
            hint = "check storage.url (or --db) and that its folder is writable"
        else:
            hint = (
                "check storage.url (or --db): the host, port, user and database name, and "
                "that the database server is running and lets that user in"
            )
        raise StorageError(f"cannot open the database {engine.url!r}: {exc.orig}", hint) from exc
    except SQLAlchemyError as exc:
        raise StorageError(f"database migration failed on {engine.url!r}: {exc}") from exc


def open_engine(url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine
