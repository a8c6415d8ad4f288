"""`briefing serve` as a real process (uvicorn, as the operator runs it) on 127.0.0.1:
slow clients are cut off (header, body and keep-alive timeouts, tried with real
sockets), the access log keeps no tokens, --forwarded-allow-ips trusts a proxy's
X-Forwarded-For, and a public host without https is warned about.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_schedule_process import BRIEFING, Proc

from briefing.config import Settings, load_settings
from briefing.services import subscriptions
from briefing.store import subscribers as store
from briefing.store.db import open_engine
from briefing.tokens import sign

REPO = Path(__file__).parent.parent.parent
SECRET = "serve-process-secret-" + "s" * 24


class Served:
    def __init__(self, proc: Proc, url: str, settings: Settings) -> None:
        self.proc, self.url, self.settings = proc, url, settings

    def stop(self) -> str:
        """SIGTERM, wait, and everything it wrote (stdout and stderr)."""
        self.proc.signal(signal.SIGTERM)
        self.proc.wait(timeout=15)
        return self.proc.out_text + self.proc.err_text


@pytest.fixture
def serve(
    tmp_path: Path, smtp_server: Any, free_port: Callable[[], int]
) -> Iterator[Callable[..., Served]]:
    procs: list[Proc] = []

    def start(*args: str, env: dict[str, str] | None = None, wait: bool = True) -> Served:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        environ = {
            **os.environ,
            "BRIEFING_SECRET": SECRET,
            "BRIEFING_STORAGE_URL": f"sqlite:///{tmp_path}/serve.db",
            "BRIEFING_NEWSLETTER_BASE_URL": url,
            "BRIEFING_DELIVERY_URL": smtp_server.url,
            **(env or {}),
        }
        settings = load_settings(REPO / "briefing.toml", env=environ)
        open_engine(settings.database_url).dispose()  # migrated before the server starts
        argv = [str(BRIEFING), "--config", str(REPO / "briefing.toml"), "serve"]
        proc = Proc([*argv, "--port", str(port), *args], tmp_path, environ)
        procs.append(proc)
        if wait:
            deadline = time.monotonic() + 20
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                assert proc.alive(), proc.err_text
                assert time.monotonic() < deadline, proc.err_text
                time.sleep(0.1)
        return Served(proc, url, settings)

    yield start
    for proc in procs:
        proc.kill()


def closed_by_server(sock: socket.socket) -> bool:
    """True when the server has closed (or reset) the connection; False if still open."""
    sock.setblocking(False)
    try:
        data = sock.recv(4096)
    except BlockingIOError:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True
    finally:
        sock.setblocking(True)
    return data == b"" or data.startswith(b"HTTP/1.1 408")


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


# --- slow clients --------------------------------------------------------------------------


def test_slow_headers_idle_connections_and_slow_bodies_are_cut_off(
    serve: Callable[..., Served],
) -> None:
    served = serve(
        env={
            "BRIEFING_WEB_HEADER_TIMEOUT": "1",
            "BRIEFING_WEB_BODY_TIMEOUT": "1",
            "BRIEFING_WEB_KEEP_ALIVE_TIMEOUT": "1",
        }
    )
    trickling = [connect(served.url) for _ in range(50)]
    idle = [connect(served.url) for _ in range(5)]
    for sock in trickling:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    slow_body = connect(served.url)
    slow_body.sendall(
        b"POST /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 400\r\n\r\nemail="
    )
    kept_alive = connect(served.url)
    kept_alive.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert kept_alive.recv(4096).startswith(b"HTTP/1.1 200")
    everyone = [*trickling, *idle, slow_body, kept_alive]
    open_ = set(range(len(everyone)))
    deadline = time.monotonic() + 10  # ten times the timeouts: only a server that never cuts fails
    while open_ and time.monotonic() < deadline:
        for i in list(open_):
            if i < len(trickling) or i == len(trickling) + len(idle):
                with contextlib.suppress(OSError):  # one more byte: a header or the body
                    everyone[i].send(b"x")
            if closed_by_server(everyone[i]):
                open_.discard(i)
        time.sleep(0.3)
    for sock in everyone:
        sock.close()
    assert not open_, f"{len(open_)} of {len(everyone)} slow connections are still open"
    # and the server still serves everyone else
    assert httpx.get(f"{served.url}/healthz").status_code == 200
    served.stop()


# --- the access log -----------------------------------------------------------------------


def test_the_access_log_keeps_no_tokens(serve: Callable[..., Served]) -> None:
    served = serve()
    engine = open_engine(served.settings.database_url)
    try:
        sub = subscriptions.add(served.settings, engine, "logged@example.org")
    finally:
        engine.dispose()
    token = subscriptions.links(served.settings, sub, [SECRET]).token
    confirm = sign(sub.token_id, [SECRET], purpose="confirm", expires=4_000_000_000)
    paths = [f"/u/{token}", f"/p/{token}", f"/confirm/{confirm}", f"/u/{token}?utm=x"]
    for path in paths:
        httpx.get(served.url + path)
        httpx.head(served.url + path)
    httpx.get(served.url + "/archive")
    log = served.stop()
    assert "GET /archive HTTP/1.1" in log, log  # the log is there ...
    for secret_part in (token, confirm, token.split(".")[1], sub.token_id):
        assert secret_part not in log, log  # ... without the tokens
    for prefix in ("/u/", "/p/", "/confirm/"):
        assert f'"GET {prefix}[redacted] HTTP/1.1" 200' in log, log
        assert f'"HEAD {prefix}[redacted] HTTP/1.1" 200' in log, log


# --- behind a proxy -------------------------------------------------------------------------


def test_forwarded_allow_ips_believes_the_proxy_and_only_the_proxy(
    serve: Callable[..., Served], smtp_server: Any
) -> None:
    served = serve("--forwarded-allow-ips", "127.0.0.1")
    with httpx.Client(base_url=served.url) as client:
        page = client.get("/")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        r = client.post(
            "/subscribe",
            data={"email": "proxied@example.org", "csrf_token": token, "consent": "yes"},
            headers={"X-Forwarded-For": "203.0.113.50"},
        )
        assert r.status_code == 200
    smtp_server.wait_for(1, timeout=10)
    engine = open_engine(served.settings.database_url)
    try:
        with engine.connect() as conn:
            sub = store.by_email(conn, "proxied@example.org")
    finally:
        engine.dispose()
    assert sub is not None and sub.consent["ip"] == "203.0.113.50"
    log = served.stop()
    assert "203.0.113.50" in log  # the access log names the client, not the proxy


# --- a public host without https ------------------------------------------------------------


def test_a_public_host_without_https_is_warned_about(serve: Callable[..., Served]) -> None:
    # 192.0.2.1 (TEST-NET-1) is on no interface here: the warning comes, then the bind fails,
    # so nothing is ever exposed beyond this machine
    served = serve("--host", "192.0.2.1", wait=False)
    served.proc.wait(timeout=20)
    err = served.proc.err_text
    assert "warning:" in err and "https" in err, err
    assert "192.0.2.1" in err

    quiet = serve(
        "--host",
        "192.0.2.1",
        wait=False,
        env={"BRIEFING_NEWSLETTER_BASE_URL": "https://news.example.org"},
    )
    quiet.proc.wait(timeout=20)
    assert "warning:" not in quiet.proc.err_text, quiet.proc.err_text

    local = serve()
    assert "warning:" not in local.stop()
