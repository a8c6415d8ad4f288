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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

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
