"""Step 7 on the public pages, over real HTTP (uvicorn on 127.0.0.1), a real SQLite file
and a real SMTP server (aiosmtpd): links that mail scanners prefetch change nothing, HEAD
is GET, bodies and fields have limits, the client address comes from X-Forwarded-For
only through a trusted proxy, subscribe answers the same for any address and queues the
confirmation (at most one per address per 10 minutes), the CSRF token is signed, and the
error pages are styled and carry the security headers.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from conftest import SMTPSink
from sqlalchemy import Engine, select, text
from test_subscribe_web import SECRET, Site, csrf_from, one_click, subscribe

from briefing.config import load_settings
from briefing.services import subscriptions
from briefing.store.db import open_engine
from briefing.web.app import create_app

REPO = Path(__file__).parent.parent.parent
STYLED = '<div class="brand">'  # every page of the public site has it (pages/base.html.j2)


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until ``predicate()`` is truthy (the queue works in the background)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("gave up waiting")


@pytest.fixture
def make_site(
    asgi_server: Any,
    smtp_server: Any,
    free_port: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
) -> Callable[..., Site]:
    """make_site(transport=URL, base_url=..., **config sections) on its own port, on the
    test's database (the run's backend)."""

    def start(
        *,
        transport: str | None = None,
        base_url: str | None = None,
        retry: float = 0.2,
        **sections: dict[str, Any],
    ) -> Site:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        monkeypatch.setenv("BRIEFING_SECRET", SECRET)
        overrides: dict[str, Any] = {
            "storage": {"url": database_url},
            "newsletter": {"base_url": base_url or url},
            **sections,
        }
        settings = load_settings(
            REPO / "briefing.toml", env={"BRIEFING_SECRET": SECRET}, overrides=overrides
        )
        engine = open_engine(settings.database_url)
        app = create_app(
            settings,
            engine,
            delivery_url=transport or smtp_server.url,
            mail_retry_seconds=retry,  # retries come quickly here
        )
        assert asgi_server.start(app, port=port) == url
        return Site(url, settings, engine, smtp_server)

    return start


@pytest.fixture
def site(make_site: Callable[..., Site]) -> Site:
    return make_site()


def raw(url: str, data: bytes, *, read_timeout: float = 5.0) -> bytes:
    """Send ``data`` on a fresh socket and read until the server closes or goes quiet."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=read_timeout) as sock:
        # the server may answer and hang up before taking it all: that is the point
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        out = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                out += chunk
                if b"\r\n\r\n" in out and b"</html>" in out:
                    break
        except (TimeoutError, ConnectionResetError):
            pass
        return out


def status_of(response: bytes) -> int:
    found = re.match(rb"HTTP/1\.1 (\d{3}) ", response)
    assert found, response[:200]
    return int(found.group(1))


def same_headers(a: httpx.Response, b: httpx.Response) -> None:
    skip = {"date", "set-cookie", "content-length"}
    ha = {k: v for k, v in a.headers.items() if k not in skip}
    hb = {k: v for k, v in b.headers.items() if k not in skip}
    assert ha == hb


# --- links that scanners fetch --------------------------------------------------------------


def test_confirmation_link_needs_a_press_get_and_head_change_nothing(site: Site) -> None:
    with site.client() as client:
        assert subscribe(client, "cleo@example.org").status_code == 200
    (mail,) = site.smtp.wait_for(1)
    link = re.search(r"Confirm: (\S+)", mail.message().get_content()).group(1)  # type: ignore[union-attr]
    path = urlsplit(link).path
    before = wait_until(lambda: site.sub("cleo@example.org")) and site.snapshot()

    scanner_get = httpx.get(link)  # Safe Links and friends fetch the link first
    scanner_head = httpx.head(link)
    assert scanner_get.status_code == 200 and scanner_head.status_code == 200
    assert "Confirm your subscription" in scanner_get.text
    assert f'action="{path}"' in scanner_get.text
    assert site.snapshot() == before
    assert site.sub("cleo@example.org").status == "pending"  # type: ignore[union-attr]

    refused = httpx.post(link, data={"csrf_token": "x" * 43})  # not from the page
    assert refused.status_code == 403 and site.snapshot() == before
    with site.client() as person:
        page = person.get(path)
        done = person.post(path, data={"csrf_token": csrf_from(page.text)})
    assert done.status_code == 200 and "You are subscribed" in done.text
    assert site.sub("cleo@example.org").status == "active"  # type: ignore[union-attr]
    # an old confirmation link fetched again shows the state, changes nothing
    after = site.snapshot()
    again = httpx.get(link)
    assert again.status_code == 200 and "You are subscribed" in again.text
    assert site.snapshot() == after


def test_head_is_get_everywhere_and_never_changes_anything(site: Site) -> None:
    subscriptions.add(site.settings, site.engine, "hank@example.org")
    token = site.manage_token("hank@example.org")
    before = site.snapshot()
    body = {
        "content": b"List-Unsubscribe=One-Click",
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
    }
    with site.client() as client:
        csrf = csrf_from(client.get("/").text)
        form = {
            "content": f"List-Unsubscribe=One-Click&action=unsubscribe&csrf_token={csrf}".encode(),
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        }
        for path in (
            "/",
            f"/u/{token}",
            f"/p/{token}",
            "/confirm/" + token,
            "/archive",
            "/archive.atom",
            "/archive/1",
            "/healthz",
            "/unsubscribe",
            "/preferences",
            "/desk/login",
            "/no/such/page",
            "/subscribe",
        ):
            got = client.get(path)
            for extra in (body, form):
                head = client.request("HEAD", path, **extra)
                assert head.status_code == got.status_code, (path, head.status_code)
                assert head.content == b""
                same_headers(got, head)
    assert site.snapshot() == before
    assert site.sub("hank@example.org").status == "active"  # type: ignore[union-attr]
    assert one_click(f"{site.url}/u/{token}").status_code == 200  # POST still does it


# --- bodies and fields ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/subscribe", "/desk/login"])
def test_a_body_over_the_limit_is_refused_before_it_is_read(site: Site, path: str) -> None:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 20000000\r\n\r\n"
    ).encode()
    answer = raw(site.url, head + b"name=" + b"A" * 1000)  # 20 MB announced, 1 KB sent
    assert status_of(answer) == 413, answer[:300]
    assert b"connection: close" in answer.lower()
    assert STYLED.encode() in answer
    assert site.snapshot() == ([], [], [])


@pytest.mark.parametrize("path", ["/subscribe", "/desk/login"])
def test_a_chunked_body_over_the_limit_is_refused_while_it_streams(site: Site, path: str) -> None:
    with site.client() as client:
        csrf = csrf_from(client.get("/").text)
        cookie = client.cookies["briefing_csrf"]
    start = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Cookie: briefing_csrf={cookie}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    first = f"csrf_token={csrf}&consent=yes&email=a%40example.org&name=".encode()
    chunks = [first] + [b"N" * 8192] * 12  # about 100 KB, no length announced
    data = start + b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks)  # no final 0-chunk
    answer = raw(site.url, data)
    assert status_of(answer) == 413, answer[:300]
    time.sleep(0.3)  # anything queued would be applied by now
    assert site.snapshot() == ([], [], [])


def test_every_form_field_has_a_length_limit(site: Site) -> None:
    with site.client() as client:
        token = csrf_from(client.get("/").text)
        long_name = subscribe(client, "nina@example.org", name="N" * 201, token=token)
        long_email = subscribe(client, "e" * 250 + "@example.org", token=token)
        long_topic = client.post(
            "/subscribe",
            data={
                "email": "tom@example.org",
                "csrf_token": token,
                "consent": "yes",
                "topics": "t" * 500,
            },
        )
        ok = subscribe(client, "nina@example.org", name="N" * 200, token=token)
    assert long_name.status_code == 400 and "200 characters" in long_name.text
    assert STYLED in long_name.text
    assert long_email.status_code == 400
    assert long_topic.status_code == 400
    assert ok.status_code == 200
    sub = wait_until(lambda: site.sub("nina@example.org"))
    assert sub.name == "N" * 200
    assert site.sub("tom@example.org") is None


# --- the client's address behind a proxy --------------------------------------------------


def test_forwarded_for_counts_only_from_a_trusted_proxy(make_site: Callable[..., Site]) -> None:
    proxied = make_site(web={"forwarded_allow_ips": ["127.0.0.1"]})
    limit = proxied.settings.subscriptions.rate_limit_per_minute
    with proxied.client() as client:
        token = csrf_from(client.get("/").text)

        def post(email: str, forwarded: str) -> httpx.Response:
            return client.post(
                "/subscribe",
                data={"email": email, "csrf_token": token, "consent": "yes"},
                headers={"X-Forwarded-For": forwarded},
            )

        for i in range(limit):
            assert post(f"a{i}@example.org", "203.0.113.7").status_code == 200
        assert post("a-over@example.org", "203.0.113.7").status_code == 429
        # another reader behind the same proxy has a budget of their own
        assert post("b@example.org", "198.51.100.23").status_code == 200
    sub = wait_until(lambda: proxied.sub("b@example.org"))
    assert sub.consent["ip"] == "198.51.100.23"
    assert wait_until(lambda: proxied.sub("a0@example.org")).consent["ip"] == "203.0.113.7"


def test_forwarded_for_from_an_untrusted_client_is_ignored(
    make_site: Callable[..., Site],
) -> None:
    direct = make_site(web={"forwarded_allow_ips": ["10.1.2.3"]})
    limit = direct.settings.subscriptions.rate_limit_per_minute
    with direct.client() as client:
        token = csrf_from(client.get("/").text)
        for i in range(limit):
            r = client.post(
                "/subscribe",
                data={"email": f"c{i}@example.org", "csrf_token": token, "consent": "yes"},
                headers={"X-Forwarded-For": f"198.51.100.{i}"},  # a fresh lie each time
            )
            assert r.status_code == 200
        r = client.post(
            "/subscribe",
            data={"email": "c-over@example.org", "csrf_token": token, "consent": "yes"},
            headers={"X-Forwarded-For": "192.0.2.99"},
        )
    assert r.status_code == 429  # one budget: the header was not believed
    assert wait_until(lambda: direct.sub("c0@example.org")).consent["ip"] == "127.0.0.1"


# --- subscribe answers the same, whatever the address and the mail server ------------------


class StalledSMTP:
    """A TCP server that accepts connections and never says a word (a hung mail server)."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(50)
        self.port = self._sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?starttls=never"

    def _run(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for conn in self.accepted:
            conn.close()
        self._sock.close()


@contextmanager
def stalled_smtp() -> Iterator[StalledSMTP]:
    server = StalledSMTP()
    try:
        yield server
    finally:
        server.close()


def _answers(site: Site, addresses: list[str]) -> list[tuple[int, dict[str, str], bytes]]:
    with httpx.Client(base_url=site.url, timeout=5) as client:  # far less than SMTP's timeout
        token = csrf_from(client.get("/").text)
        out = []
        for address in addresses:
            r = client.post(
                "/subscribe", data={"email": address, "csrf_token": token, "consent": "yes"}
            )
            headers = {k: v for k, v in r.headers.items() if k != "date"}
            out.append((r.status_code, headers, r.content))
        return out


def test_subscribe_does_no_mail_io_and_answers_the_same_for_every_address(
    make_site: Callable[..., Site],
) -> None:
    with stalled_smtp() as hung:
        site = make_site(transport=hung.url, delivery={"timeout": 30})
        subscriptions.add(site.settings, site.engine, "member@example.org")
        subscriptions.add(site.settings, site.engine, "gone@example.org")
        assert one_click(f"{site.url}/u/{site.manage_token('gone@example.org')}").status_code == 200
        answers = _answers(
            site, ["member@example.org", "brand.new@example.org", "gone@example.org"]
        )
        # the mail server never answered, yet every response arrived, and all are one
        assert answers[0][0] == 200
        assert answers[0] == answers[1] == answers[2]
        wait_until(lambda: hung.accepted)  # the queue did try, in the background


def test_a_mail_server_that_is_down_loses_no_confirmation(
    make_site: Callable[..., Site],
) -> None:
    later = SMTPSink()  # its port is chosen but nothing listens there yet
    site = make_site(transport=later.url)
    subscriptions.add(site.settings, site.engine, "member@example.org")
    answers = _answers(site, ["member@example.org", "down.time@example.org"])
    assert answers[0] == answers[1] and answers[0][0] == 200
    wait_until(lambda: site.sub("down.time@example.org"))
    time.sleep(0.5)  # a few failed attempts
    later.start()
    try:
        wait_until(lambda: later.to("down.time@example.org"))
        assert later.to("member@example.org") == []
        (mail,) = later.to("down.time@example.org")
        assert "Confirm your subscription" in mail.message()["Subject"]
    finally:
        later.stop()


def test_one_confirmation_per_address_per_ten_minutes(site: Site) -> None:
    with site.client() as client:
        token = csrf_from(client.get("/").text)
        for name in ("First", "Second", "Third"):
            assert (
                subscribe(client, "repeat@example.org", name=name, token=token).status_code == 200
            )
    wait_until(lambda: [a for _, a, _ in site.events()].count("requested") == 3)
    time.sleep(0.5)
    assert len(site.smtp.to("repeat@example.org")) == 1


# --- CSRF ---------------------------------------------------------------------------------


def test_csrf_token_is_signed_and_short_values_are_refused(site: Site) -> None:
    form = {"email": "csrf@example.org", "consent": "yes"}
    with site.client() as client:
        client.cookies.set("briefing_csrf", "a", domain="127.0.0.1", path="/")
        short = client.post("/subscribe", data={**form, "csrf_token": "a"})
    long_value = "B" * 43
    with site.client() as client:
        client.cookies.set("briefing_csrf", long_value, domain="127.0.0.1", path="/")
        unsigned = client.post("/subscribe", data={**form, "csrf_token": long_value})
    with site.client() as client:
        page = client.get("/")
        assert csrf_from(page.text) != client.cookies["briefing_csrf"]  # not the cookie itself
        good = client.post("/subscribe", data={**form, "csrf_token": csrf_from(page.text)})
    assert short.status_code == 403 and unsigned.status_code == 403
    assert good.status_code == 200


def test_over_https_the_cookies_take_the_host_prefix(make_site: Callable[..., Site]) -> None:
    site = make_site(base_url="https://news.example.org")
    response = httpx.get(f"{site.url}/")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-briefing_csrf="), cookie
    low = cookie.lower()
    assert "secure" in low and "path=/" in low and "domain" not in low
    assert response.headers["strict-transport-security"]


# --- error pages ----------------------------------------------------------------------------


def test_huge_numbers_in_paths_are_404(site: Site) -> None:
    for path in ("/archive/99999999999999999999", "/archive/-1", "/archive/1_0", "/archive/١"):
        r = httpx.get(site.url + path)
        assert r.status_code == 404, (path, r.status_code)
        assert STYLED in r.text


def test_404_and_405_are_styled_pages_with_the_headers(site: Site) -> None:
    missing = httpx.get(f"{site.url}/no/such/page")
    wrong = httpx.get(f"{site.url}/subscribe")
    assert missing.status_code == 404 and wrong.status_code == 405
    assert "POST" in wrong.headers["allow"]
    for r in (missing, wrong):
        assert STYLED in r.text and r.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY"


def test_a_500_is_a_styled_page_with_the_security_headers(site: Site) -> None:
    engine: Engine = site.engine
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE issues RENAME TO issues_elsewhere"))  # archive unreadable
    r = httpx.get(f"{site.url}/archive")
    assert r.status_code == 500
    assert STYLED in r.text and "went wrong" in r.text
    assert "Traceback" not in r.text
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_the_queue_keeps_no_personal_data_once_applied(site: Site) -> None:
    from briefing.store.web_schema import subscribe_queue

    with site.client() as client:
        assert subscribe(client, "quiet@example.org", name="Quiet One").status_code == 200
    site.smtp.wait_for(1)

    def rows() -> list[dict[str, Any]]:
        with site.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(subscribe_queue)).mappings()]

    wait_until(lambda: all(r["state"] == "sent" for r in rows()))
    for row in rows():
        assert row["email"] is None and row["name"] is None
        assert row["ip"] is None and row["user_agent"] is None


def test_a_client_that_hangs_up_mid_body_is_not_an_application_error(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """A POST whose client goes away before its body is complete (wrk at the end of a run,
    a phone losing its signal) is a client's doing: no "Exception in ASGI application"
    traceback in the server's log, and the server keeps answering."""
    subscriptions.add(site.settings, site.engine, "hangup@example.org")
    token = site.manage_token("hangup@example.org")
    host, port = urlsplit(site.url).hostname, urlsplit(site.url).port
    with caplog.at_level("ERROR"):
        for path in (f"/u/{token}", "/subscribe"):
            with socket.create_connection((host, port), timeout=5) as conn:
                conn.sendall(
                    f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
                    "Content-Type: application/x-www-form-urlencoded\r\n"
                    "Content-Length: 200\r\n\r\nList-Unsub".encode()
                )
                time.sleep(0.2)
            time.sleep(0.3)
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
    assert httpx.get(f"{site.url}/healthz").status_code == 200
    assert site.sub("hangup@example.org").status == "active"  # type: ignore[union-attr]
