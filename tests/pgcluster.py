"""A throwaway PostgreSQL cluster for the tests: initdb into a temp folder, a free port on
127.0.0.1 and the Unix socket in that folder, fsync off; removed whole by ``stop()``.

As root the server runs as the ``postgres`` OS user (PostgreSQL refuses to run as root),
through ``runuser``; as any other user it runs as that user. Nothing listens beyond
127.0.0.1, and authentication is ``trust`` for the one superuser ``postgres``.

``available()`` says why the PostgreSQL tests cannot run here (or None when they can):
``BRIEFING_SKIP_POSTGRES=1``, no server binaries, or no psycopg.

    cluster = PGCluster()
    cluster.start()
    url = cluster.create_database("t1")           # an empty database
    cluster.create_database("t2", template="t1")  # a copy of t1 (t1 must have no sessions)
    cluster.stop()

    PGCluster({"shared_preload_libraries": "pg_stat_statements"})  # settings of one's own
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SKIP_VARIABLE = "BRIEFING_SKIP_POSTGRES"
HOW_TO_GET = (
    "scripts/test installs them (apt-get install postgresql, pip install -e '.[postgres]'); "
    f"{SKIP_VARIABLE}=1 skips these tests"
)


def find_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/N/bin that has initdb (Debian's layout), or the
    folder of an initdb on PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def available() -> str | None:
    """Why the PostgreSQL tests skip here, or None when they can run."""
    if os.environ.get(SKIP_VARIABLE) == "1":
        return f"{SKIP_VARIABLE}=1: the PostgreSQL tests are skipped (unset it to run them)"
    if find_bindir() is None:
        return (
            "PostgreSQL's server binaries are not installed (no /usr/lib/postgresql/*/bin/initdb): "
            + HOW_TO_GET
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg (the PostgreSQL driver) is not installed: " + HOW_TO_GET
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PGCluster:
    """One PostgreSQL server in a temp folder, for one test session."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        """``settings``: server settings added to the defaults (``-c name=value``), e.g.
        ``{"shared_preload_libraries": "pg_stat_statements"}`` for a benchmark."""
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError("no PostgreSQL server binaries (initdb) found")
        self.bindir = bindir
        # under /tmp when there is one: the postgres user can reach it (a TMPDIR under
        # /root could not be), and the socket's path stays short (Unix sockets: 107 bytes)
        base = "/tmp" if os.path.isdir("/tmp") else None
        self.root = Path(tempfile.mkdtemp(prefix="briefing-pg-", dir=base))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self.user = "postgres"  # the database superuser initdb makes
        self._as_root = os.geteuid() == 0
        self.settings = dict(settings or {})
        self.started = False
        if self._as_root:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        os.chmod(self.root, 0o700)

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=self.root, check=False
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{log}"
            )
        return done

    def start(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            self.user,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = " ".join(
            [
                f"-p {self.port}",
                f"-k {self.root}",
                "-c listen_addresses=127.0.0.1",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
                *(f"-c {name}={value}" for name, value in self.settings.items()),
            ]
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        self.started = True

    def stop(self) -> None:
        """Stop the server (immediately: nothing in it is kept) and remove its folder."""
        try:
            if self.started:
                with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                    self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
                self.started = False
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # --- databases ---------------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL for ``database`` over TCP on 127.0.0.1."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        """Run one statement in the ``postgres`` database, outside a transaction."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql.encode())

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """A new database (a copy of ``template`` when given); its URL."""
        copy = f" TEMPLATE {template}" if template else ""
        for attempt in range(50):
            try:
                self.execute(f"CREATE DATABASE {name}{copy}")
                break
            except Exception as exc:  # the template's last session may still be closing
                if "is being accessed by other users" not in str(exc) or attempt == 49:
                    raise
                time.sleep(0.1)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
