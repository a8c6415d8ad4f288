"""Shared fixtures: a real HTTP server on 127.0.0.1 for tests that fetch over the network.

``http_server`` starts a stdlib ``ThreadingHTTPServer`` on a free port in a background
thread. Tests register routes on it and read back the requests it received::

    def test_something(http_server):
        http_server.add("/feed.xml", body=b"<rss/>", headers={"Content-Type": "text/xml"})
        url = http_server.url("/feed.xml")
        ...
        assert http_server.requests_for("/feed.xml")[0].headers["User-Agent"]

For behaviour a static response cannot express (slow bodies, redirects loops, conditional
GET), register a handler: ``http_server.route("/path", fn)`` where ``fn(request, server)``
writes the whole response through ``request`` (a ``BaseHTTPRequestHandler``), usually with
``server.send(request, status, body, headers)``. Long-running handlers should use
``server.trickle(...)`` or poll ``server.stopping`` (set at teardown) and stop when it is set.
Unknown paths answer 404. Nothing here touches the internet.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from sqlalchemy import Engine

Handler = Callable[[BaseHTTPRequestHandler, "LocalHTTPServer"], None]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # path and query as sent
    headers: Mapping[str, str]  # case-insensitive (an email.message.Message)


class LocalHTTPServer:
    """A small programmable HTTP server bound to 127.0.0.1 on a free port."""

    def __init__(self) -> None:
        self._routes: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self.stopping = threading.Event()
        owner = self

        class _RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 30  # an idle keep-alive connection does not hold a thread for ever

            def handle(self) -> None:
                # the client may hang up (often on purpose: size caps, deadlines)
                with contextlib.suppress(ConnectionError, TimeoutError):
                    super().handle()

            def do_GET(self) -> None:
                owner._dispatch(self)

            def do_HEAD(self) -> None:
                owner._dispatch(self)

            def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _RequestHandler)
        self._httpd.daemon_threads = True
        self.host, self.port = self._httpd.server_address[:2]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # --- set-up -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def route(self, path: str, handler: Handler) -> None:
        """Answer GET ``path`` (query string ignored when matching) with ``handler``."""
        with self._lock:
            self._routes[path] = handler

    def add(
        self,
        path: str,
        *,
        status: int = 200,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """A static response; Content-Length is added unless given."""

        def static(request: BaseHTTPRequestHandler, _server: LocalHTTPServer) -> None:
            send(request, status, body, headers)

        self.route(path, static)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if urlsplit(r.path).path == path]

    @staticmethod
    def send(
        request: BaseHTTPRequestHandler,
        status: int,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """For handlers: write a complete response (see the module-level ``send``)."""
        send(request, status, body, headers)

    def trickle(
        self,
        request: BaseHTTPRequestHandler,
        *,
        data: bytes = b" ",
        every: float = 0.1,
        limit: float = 30.0,
    ) -> None:
        """For handlers: write ``data`` every ``every`` s until the client leaves, teardown
        or ``limit`` seconds; the connection is then closed."""
        trickle(request, self, data=data, every=every, limit=limit)

    # --- running ------------------------------------------------------------------------------

    def _dispatch(self, request: BaseHTTPRequestHandler) -> None:
        path = urlsplit(request.path).path
        with self._lock:
            self.requests.append(RecordedRequest(request.command, request.path, request.headers))
            handler = self._routes.get(path)
        try:
            if handler is None:
                send(request, 404, b"not found", {"Content-Type": "text/plain"})
            else:
                handler(request, self)
        except ConnectionError:
            request.close_connection = True  # the client gave up; that is often the point

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def send(
    request: BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
) -> None:
    """Write a complete response with a body (none for 304 / HEAD)."""
    headers = dict(headers or {})
    request.send_response(status)
    names = {k.lower() for k in headers}
    no_body = status == 304 or 100 <= status < 200 or status == 204
    if "content-length" not in names and not no_body:
        headers["Content-Length"] = str(len(body))
    for name, value in headers.items():
        request.send_header(name, value)
    request.end_headers()
    if body and not no_body and request.command != "HEAD":
        request.wfile.write(body)
    request.wfile.flush()


def trickle(
    request: BaseHTTPRequestHandler,
    server: LocalHTTPServer,
    *,
    data: bytes = b" ",
    every: float = 0.1,
    limit: float = 30.0,
) -> None:
    """Write ``data`` every ``every`` seconds until the client leaves, teardown, or ``limit``."""
    end = time.monotonic() + limit
    while not server.stopping.is_set() and time.monotonic() < end:
        request.wfile.write(data)
        request.wfile.flush()
        server.stopping.wait(every)
    request.close_connection = True


@pytest.fixture
def http_server() -> Iterator[LocalHTTPServer]:
    """A running LocalHTTPServer on 127.0.0.1:<free port>, stopped after the test."""
    server = LocalHTTPServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- real servers for end-to-end tests: an ASGI app over HTTP, an SMTP sink ---------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(name="free_port")
def free_port_fixture() -> Callable[[], int]:
    """``free_port()`` -> a free port on 127.0.0.1 (to know a server's URL before it starts)."""
    return free_port


class ASGIServers:
    """Runs ASGI apps with uvicorn on 127.0.0.1, each in a background thread::

        url = asgi_server.start(app)                  # -> "http://127.0.0.1:<port>"
        url = asgi_server.start(app, port=known_port)  # when the app must know its own URL

    Every server started is stopped at teardown; ``stop(url)`` stops one earlier."""

    def __init__(self) -> None:
        self._running: dict[str, tuple[Any, threading.Thread]] = {}

    def start(self, app: Any, *, port: int | None = None, proxy_headers: bool = False) -> str:
        import uvicorn

        port = port or free_port()
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            proxy_headers=proxy_headers,
            lifespan="on",  # the app's background work (the confirmation queue) starts and stops
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port}")
            time.sleep(0.01)
        url = f"http://127.0.0.1:{port}"
        self._running[url] = (server, thread)
        return url

    def stop(self, url: str) -> None:
        server, thread = self._running.pop(url)
        server.should_exit = True
        thread.join(timeout=5)

    def stop_all(self) -> None:
        for url in list(self._running):
            self.stop(url)


@pytest.fixture
def asgi_server() -> Iterator[ASGIServers]:
    """Start ASGI apps over real HTTP (uvicorn); all are stopped after the test."""
    servers = ASGIServers()
    try:
        yield servers
    finally:
        servers.stop_all()


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes  # the message as received after DATA
    smtp_utf8: bool = False  # MAIL FROM carried SMTPUTF8 (RFC 6531)

    def message(self) -> Any:
        """The parsed message (an email.message.EmailMessage, modern policy)."""
        from email import message_from_bytes, policy

        return message_from_bytes(self.data, policy=policy.default)


class SMTPSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1:<free port> that keeps every message.

    By default it accepts everything. Tests that need a misbehaving server set hooks
    (each may be changed while the server runs; they run on the server's thread)::

        sink.refuse = lambda address, nth: "451 4.7.1 try later" if nth == 1 else None
        sink.refuse_data = lambda mail, nth: "451 4.3.0 later" if ... else None
        sink.drop = lambda recipient, nth: nth == 1   # hang up in the middle of DATA
        sink.delay = 0.03                             # seconds before answering DATA
        sink.on_message = lambda mail: ...            # after a message is accepted
        sink.pipelining = True                        # offer PIPELINING (RFC 2920) in EHLO

    ``SMTPSink(smtputf8=False)`` is a server that does not offer SMTPUTF8 (RFC 6531): it
    answers a non-ASCII command with 500. By default it offers it (aiosmtpd's default).

    ``nth`` counts RCPT commands (``refuse``) or DATA commands (``refuse_data``, ``drop``)
    for that address, from 1. ``messages`` holds only accepted messages; ``refused``,
    ``refused_data`` and ``dropped`` what was turned away (``dropped`` keeps the bytes
    read before hanging up: the headers at least).
    """

    def __init__(self, *, smtputf8: bool = True) -> None:
        import asyncio

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP

        self.messages: list[ReceivedMail] = []
        self.refused: list[tuple[str, str]] = []  # (address, reply) at RCPT
        self.refused_data: list[tuple[ReceivedMail, str]] = []  # at the end of DATA
        self.dropped: list[tuple[str, bytes]] = []  # (recipient, bytes read before hanging up)
        self.refuse: Callable[[str, int], str | None] | None = None
        self.refuse_data: Callable[[ReceivedMail, int], str | None] | None = None
        self.drop: Callable[[str, int], bool] | None = None
        self.delay = 0.0
        self.on_message: Callable[[ReceivedMail], None] | None = None
        self.pipelining = False
        self.rcpt_count: Counter[str] = Counter()
        self.data_count: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        owner = self

        class _Handler:
            async def handle_EHLO(
                self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
            ) -> list[str]:
                session.host_name = hostname
                if owner.pipelining:
                    return [*responses[:-1], "250-PIPELINING", responses[-1]]
                return responses

            async def handle_RCPT(
                self, server: Any, session: Any, envelope: Any, address: str, options: Any
            ) -> str:
                with owner._lock:
                    owner.rcpt_count[address.lower()] += 1
                    nth = owner.rcpt_count[address.lower()]
                    rule = owner.refuse
                reply = rule(address, nth) if rule else None
                if reply:
                    with owner._lock:
                        owner.refused.append((address, reply))
                    return reply
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                mail = ReceivedMail(
                    str(envelope.mail_from),
                    tuple(envelope.rcpt_tos),
                    bytes(envelope.content),
                    bool(envelope.smtp_utf8),
                )
                if owner.delay:
                    await asyncio.sleep(owner.delay)
                rule = owner.refuse_data
                if rule:
                    with owner._lock:
                        nth = owner.data_count[mail.rcpt_tos[0].lower()]
                    reply = rule(mail, nth)
                    if reply:
                        with owner._lock:
                            owner.refused_data.append((mail, reply))
                        return reply
                if owner.on_message:
                    owner.on_message(mail)
                with owner._arrived:
                    owner.messages.append(mail)
                    owner._arrived.notify_all()
                return "250 Message accepted for delivery"

        class _SMTP(SMTP):  # type: ignore[misc]
            async def smtp_DATA(self, arg: str) -> None:
                envelope = self.envelope
                rcpts = list(envelope.rcpt_tos) if envelope is not None else []
                if rcpts and not arg:
                    first = rcpts[0].lower()
                    with owner._lock:
                        owner.data_count[first] += 1
                        nth = owner.data_count[first]
                    if owner.drop is not None and owner.drop(rcpts[0], nth):
                        # take part of the message, then hang up without an answer
                        await self.push("354 End data with <CR><LF>.<CR><LF>")
                        part = await self._reader.read(400)
                        with owner._lock:
                            owner.dropped.append((rcpts[0], bytes(part)))
                        if self.transport is not None:
                            self.transport.abort()  # type: ignore[attr-defined]
                            await asyncio.sleep(0)  # let connection_lost end this session
                        return
                await super().smtp_DATA(arg)

        class _Controller(Controller):
            def factory(self) -> Any:
                return _SMTP(self.handler, **self.SMTP_kwargs)

        self.port = free_port()
        self.host = "127.0.0.1"
        self._controller = _Controller(
            _Handler(), hostname=self.host, port=self.port, enable_SMTPUTF8=smtputf8
        )

    @property
    def url(self) -> str:
        """A delivery URL for this server (plain SMTP, no STARTTLS)."""
        return f"smtp://{self.host}:{self.port}?starttls=never"

    def to(self, address: str) -> list[ReceivedMail]:
        with self._lock:
            return [m for m in self.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]

    def received(self) -> Counter[str]:
        """How many accepted messages each (lower-cased) recipient got."""
        with self._lock:
            return Counter(r.lower() for m in self.messages for r in m.rcpt_tos)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        """Wait until at least ``count`` messages arrived; all of them."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
            return list(self.messages)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SMTPSink]:
    """A running SMTPSink; ``smtp_server.url`` is a delivery URL, ``.messages`` what arrived."""
    sink = SMTPSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def ascii_smtp_server() -> Iterator[SMTPSink]:
    """A running SMTPSink that does not offer SMTPUTF8 (an older or stricter server)."""
    sink = SMTPSink(smtputf8=False)
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


# --- an in-memory database: the whole schema, no file ------------------------------------------


def _memory_engine() -> Engine:
    """An engine on a new in-memory SQLite database, held in its one connection."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import StaticPool

    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _foreign_keys(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return engine


@pytest.fixture(scope="session")
def _migrated_memory_template() -> Iterator[Engine]:
    """Migrated once per session; ``memory_db`` copies it (Alembic takes ~0.4 s a run)."""
    from briefing.store.db import migrate

    engine = _memory_engine()
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def memory_db(_migrated_memory_template: Engine) -> Iterator[Engine]:
    """An engine on a fresh in-memory SQLite database at the newest revision, built by the
    same Alembic migrations ``open_engine`` runs (``briefing.store.db.migrate``): migrated
    once per session, then copied into each test's own database with SQLite's backup API.

    ``StaticPool`` keeps the one connection an in-memory database lives in, so every
    ``engine.connect()`` / ``engine.begin()`` sees the same tables and rows (any thread).
    Foreign keys are on, as ``make_engine`` sets them; its other pragmas (WAL, busy
    timeout, secure_delete) and its SQLite error translation concern files and are not
    applied. Each test gets its own database, empty of rows, disposed of after it."""
    engine = _memory_engine()
    with _migrated_memory_template.connect() as source, engine.connect() as target:
        source.connection.dbapi_connection.backup(target.connection.dbapi_connection)  # type: ignore[union-attr]
    try:
        yield engine
    finally:
        engine.dispose()


# --- a real browser: Debian's chromium driven by pip's playwright (nothing downloaded) -------

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless chromium for the module; skips when Debian's chromium is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(
            "needs Debian's chromium at /usr/bin/chromium: run scripts/install_test_tools.sh"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # a missing test dependency is a failure, not a skip
        pytest.fail(f"playwright is not installed ({exc}); pip install playwright", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


# --- a real PostgreSQL: a throwaway cluster for the session (tests/pgcluster.py) ---------------


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Any]:
    """A PostgreSQL server of its own for the session (a ``pgcluster.PGCluster``), with a
    database ``briefing_template`` migrated to the newest revision. Skips, saying why and
    how to get it, when BRIEFING_SKIP_POSTGRES=1 or PostgreSQL or psycopg is missing."""
    from pgcluster import PGCluster, available

    reason = available()
    if reason is not None:
        pytest.skip(reason)
    cluster = PGCluster()
    try:
        try:
            cluster.start()
        except RuntimeError as exc:  # installed but does not start: a failure, not a skip
            pytest.fail(f"could not start a PostgreSQL cluster: {exc}", pytrace=False)
        from briefing.store.db import open_engine

        engine = open_engine(cluster.create_database("briefing_template"))
        engine.dispose()
        yield cluster
    finally:
        cluster.stop()


_pg_databases = iter(range(1, 1_000_000))


@pytest.fixture
def pg_url(pg_cluster: Any) -> Iterator[str]:
    """The URL (postgresql+psycopg://...) of a new PostgreSQL database at the newest
    revision, empty of rows, for this test only (a copy of the migrated template)."""
    name = f"briefing_t{next(_pg_databases)}"
    url: str = pg_cluster.create_database(name, template="briefing_template")
    try:
        yield url
    finally:
        pg_cluster.drop_database(name)


@pytest.fixture
def pg_empty_url(pg_cluster: Any) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database (no tables) for this test only."""
    name = f"briefing_e{next(_pg_databases)}"
    url: str = pg_cluster.create_database(name)
    try:
        yield url
    finally:
        pg_cluster.drop_database(name)


# --- the backend a run is for: --backend sqlite (the default) or --backend postgresql --------
#
# Tests that take ``database_url`` (or make databases with ``databases`` or, in module
# fixtures, ``session_databases``) run on the backend the run names, so the same test covers
# SQLite in one pass and PostgreSQL in another (scripts/test runs both). Under
# --backend postgresql:
# - a test marked ``sqlite_only`` (file locking, WAL, the file's path in a message...) is
#   skipped, saying so; ``sqlite_only(reason=...)`` says why, e.g. for a variant that
#   changes nothing the database does (the SQLite pass runs it);
# - a test that uses none of those fixtures is deselected: it touches no database of the
#   backend, so it would only repeat what the SQLite pass ran; and so is one that takes a
#   PostgreSQL database of its own (pg_url, pg_empty_url, db_url): it runs in every pass.

BACKENDS = ("sqlite", "postgresql")
BACKEND_FIXTURES = frozenset({"database_url", "databases", "session_databases"})
OWN_POSTGRES_FIXTURES = frozenset({"pg_url", "pg_empty_url", "db_url"})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=BACKENDS,
        default="sqlite",
        help="the database the tests that take database_url run on (default sqlite); "
        "under postgresql, tests that use no database of it are deselected",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--backend") != "postgresql":
        return
    kept: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        if (only := item.get_closest_marker("sqlite_only")) is not None:
            why = only.kwargs.get("reason") or "SQLite-specific"
            item.add_marker(pytest.mark.skip(reason=f"sqlite_only: {why}"))
            kept.append(item)
        elif (names := set(getattr(item, "fixturenames", ()))) & BACKEND_FIXTURES and not (
            names & OWN_POSTGRES_FIXTURES
        ):
            kept.append(item)
        else:
            deselected.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


class Databases:
    """New databases at the newest revision on the run's backend (``--backend``)::

        url = databases.new(folder)             # SQLite: folder/briefing.db, migrated
        bare = databases.empty(folder)          # no tables yet (SQLite: folder/empty.db)
        copy = databases.copy(url, other)       # its rows too (SQLite: other/briefing.db)
        databases.drop(url)                     # PostgreSQL: dropped; SQLite: nothing

    On PostgreSQL a new database is a copy of the cluster's migrated template (see
    ``pg_cluster``), and ``folder`` is not used; a copy is ``CREATE DATABASE ... TEMPLATE``,
    so nothing may be connected to the database copied (dispose of its engines first).
    What is not dropped is dropped when the fixture that gave the maker ends (``databases``:
    the test; ``session_databases``: the session)."""

    def __init__(self, backend: str, cluster: Any = None) -> None:
        self.backend = backend
        self._cluster = cluster
        self._made: list[str] = []

    @property
    def postgresql(self) -> bool:
        return self.backend == "postgresql"

    def new(self, folder: Path, name: str = "briefing.db") -> str:
        if not self.postgresql:
            from briefing.store.db import open_engine

            url = f"sqlite:///{folder}/{name}"
            open_engine(url).dispose()
            return url
        return self._create(template="briefing_template")

    def empty(self, folder: Path, name: str = "empty.db") -> str:
        """A database with no tables yet (SQLite: a file not there yet)."""
        if not self.postgresql:
            return f"sqlite:///{folder}/{name}"
        return self._create(template=None)

    def copy(self, url: str, folder: Path, name: str = "briefing.db") -> str:
        if not self.postgresql:
            import sqlite3

            source = url.removeprefix("sqlite:///")
            target = folder / name
            if Path(source).resolve() != target.resolve():
                src, dst = sqlite3.connect(source), sqlite3.connect(target)
                try:
                    src.backup(dst)
                finally:
                    src.close()
                    dst.close()
            return f"sqlite:///{target}"
        return self._create(template=url.rsplit("/", 1)[1])

    def drop(self, url: str) -> None:
        if self.postgresql and url in self._made:
            self._made.remove(url)
            self._cluster.drop_database(url.rsplit("/", 1)[1])

    def child(self) -> Databases:
        """Another maker on the same backend, keeping its own list of what to drop."""
        return Databases(self.backend, self._cluster)

    def drop_all(self) -> None:
        for url in list(self._made):
            self.drop(url)

    def _create(self, *, template: str | None) -> str:
        url: str = self._cluster.create_database(
            f"briefing_t{next(_pg_databases)}", template=template
        )
        self._made.append(url)
        return url


@pytest.fixture(scope="session")
def session_databases(request: pytest.FixtureRequest) -> Iterator[Databases]:
    """Makes databases on the run's backend (``Databases``) for a module's or the
    session's fixtures; under --backend postgresql it skips, saying why, when PostgreSQL is
    not available here (see ``pg_cluster``)."""
    backend: str = request.config.getoption("--backend")
    if backend != "postgresql":
        yield Databases(backend)
        return
    made = Databases(backend, request.getfixturevalue("pg_cluster"))
    try:
        yield made
    finally:
        made.drop_all()


@pytest.fixture
def databases(session_databases: Databases) -> Iterator[Databases]:
    """Makes databases on the run's backend (``Databases``) for this test: those it made
    and did not drop are dropped after the test."""
    mine = session_databases.child()
    try:
        yield mine
    finally:
        mine.drop_all()


@pytest.fixture
def database_url(databases: Databases, tmp_path: Path) -> Iterator[str]:
    """The URL of a new database at the newest revision, empty of rows, for this test, on
    the run's backend: sqlite:///<tmp_path>/briefing.db, or (--backend postgresql) a new
    PostgreSQL database dropped after the test."""
    url = databases.new(tmp_path)
    try:
        yield url
    finally:
        databases.drop(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL at the newest revision (empty of rows) on each backend in turn: a
    SQLite file in tmp_path, then a PostgreSQL database (skipped when PostgreSQL is not
    available here, see ``pg_cluster``)."""
    if request.param == "sqlite":
        from briefing.store.db import open_engine

        url = f"sqlite:///{tmp_path}/briefing.db"
        open_engine(url).dispose()
        return url
    pg: str = request.getfixturevalue("pg_url")
    return pg
