"""Step 7 on the editor's desk, over real HTTP (uvicorn on 127.0.0.1) and a real database
(a SQLite file, or PostgreSQL under --backend postgresql): sign-in throttled per account as well as per client (the client found through a
trusted proxy), failed sign-ins recorded, the CSRF token bound to the session, the
problem banner kept in the session (never read from the URL), the link check refusing
private addresses, huge issue numbers, and HEAD behaving as GET.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import Engine, select
from test_desk import (
    EDITOR,
    HUMAN_SEED,
    PASSWORD,
    SECRET,
    SESSION,
    Built,
    Desk,
    build,
    built,
    csrf_from,
)

from briefing.config import load_settings
from briefing.store.db import open_engine
from briefing.web.app import create_app

if TYPE_CHECKING:
    from conftest import Databases

REPO = Path(__file__).parent.parent.parent
PROXY = {"web": {"forwarded_allow_ips": ["127.0.0.1"]}}


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, session_databases: Databases
) -> Iterator[Built]:
    with built(tmp_path_factory.mktemp("desk-security-template"), session_databases) as made:
        yield made


@pytest.fixture
def make_desk(
    asgi_server: Any,
    smtp_server: Any,
    free_port: Callable[[], int],
    world: Built,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    databases: Databases,
) -> Iterator[Callable[..., Desk]]:
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)
    engines: list[Engine] = []

    def make(*, urls: dict[str, str] | None = None, **sections: dict[str, Any]) -> Desk:
        root = tmp_path_factory.mktemp("desk-security")
        if urls:
            db = databases.new(root)
            build(root, db, urls)
        else:
            db = world.copy(root, databases)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        settings = load_settings(
            REPO / "briefing.toml",
            env={"BRIEFING_SECRET": SECRET},
            overrides={
                "storage": {"url": db},
                "seeds": {"folder": str(root / "seeds")},
                "newsletter": {"base_url": url},
                **sections,
            },
        )
        engine = open_engine(settings.database_url)
        engines.append(engine)
        app = create_app(settings, engine, delivery_url=smtp_server.url)
        assert asgi_server.start(app, port=port) == url
        return Desk(url, root, settings, engine, smtp_server)

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def desk(make_desk: Callable[..., Desk]) -> Desk:
    return make_desk()


def attempts(desk: Desk) -> list[tuple[str, str, str | None]]:
    from briefing.store.web_schema import signin_attempts

    with desk.engine.connect() as conn:
        return [
            (r.email, r.outcome, r.ip)
            for r in conn.execute(select(signin_attempts).order_by(signin_attempts.c.id))
        ]


def sign_in_from(
    desk: Desk, address: str, password: str, email: str = EDITOR
) -> tuple[httpx.Client, httpx.Response]:
    client = desk.client()
    client.headers["X-Forwarded-For"] = address
    form = client.get("/desk/login")
    r = client.post(
        "/desk/login",
        data={"email": email, "password": password, "csrf_token": csrf_from(form.text)},
    )
    return client, r


# --- sign-in throttles -----------------------------------------------------------------------


def test_sign_in_is_throttled_per_account_and_failures_are_recorded(
    make_desk: Callable[..., Desk],
) -> None:
    desk = make_desk(**PROXY)
    # a known good address for the editor: they signed in from it before
    client, r = sign_in_from(desk, "192.0.2.10", PASSWORD)
    assert r.status_code == 303
    client.close()
    # an attacker spreads guesses over many addresses: each one is under its own limit
    for i in range(10):
        c, r = sign_in_from(desk, f"198.51.100.{i}", f"wrong password number {i}")
        c.close()
        assert r.status_code == 401, r.status_code
    c, r = sign_in_from(desk, "198.51.100.200", PASSWORD)  # the right password, now refused
    c.close()
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert SESSION not in r.headers.get("set-cookie", "")
    # the same for an address that is not an editor: nothing tells the two apart
    for i in range(10):
        c, r = sign_in_from(desk, f"203.0.113.{i}", "guess", email="nobody@example.org")
        c.close()
        assert r.status_code == 401
    c, r = sign_in_from(desk, "203.0.113.200", "guess", email="nobody@example.org")
    c.close()
    assert r.status_code == 429
    # the editor, from the address they used before, still gets in
    c, r = sign_in_from(desk, "192.0.2.10", PASSWORD)
    c.close()
    assert r.status_code == 303
    recorded = attempts(desk)
    assert recorded[0] == (EDITOR, "signed_in", "192.0.2.10")
    assert recorded[1:11] == [(EDITOR, "failed", f"198.51.100.{i}") for i in range(10)]
    assert recorded[11] == (EDITOR, "throttled", "198.51.100.200")
    assert recorded[12:22] == [
        ("nobody@example.org", "failed", f"203.0.113.{i}") for i in range(10)
    ]
    assert recorded[22] == ("nobody@example.org", "throttled", "203.0.113.200")
    assert recorded[23] == (EDITOR, "signed_in", "192.0.2.10")


def _full_width(text: str, at: int) -> str:
    """``text`` with its letter at ``at`` in full width (U+FF41...): IDNA maps it back."""
    return text[:at] + chr(ord(text[at]) - ord("a") + 0xFF41) + text[at + 1 :]


def test_other_spellings_of_the_account_share_its_throttle(
    make_desk: Callable[..., Desk],
) -> None:
    desk = make_desk(**PROXY)
    local, domain = EDITOR.split("@")
    letters = [i for i, ch in enumerate(domain) if ch.isalpha()]
    # ten spellings that sign in to the same account (email-validator maps a full-width
    # letter in the domain to its ASCII one), one guess each from its own address
    for n, at in enumerate(letters[:10]):
        spelling = f"{local}@{_full_width(domain, at)}"
        c, r = sign_in_from(desk, f"198.51.100.{n}", f"wrong password number {n}", spelling)
        c.close()
        assert r.status_code == 401, (spelling, r.status_code)
    # an eleventh spelling, the right password: the account has had its ten failures
    spelling = f"{local.upper()}@{_full_width(_full_width(domain, letters[0]), letters[1])}"
    c, r = sign_in_from(desk, "198.51.100.200", PASSWORD, spelling)
    c.close()
    assert r.status_code == 429, r.status_code
    assert SESSION not in r.headers.get("set-cookie", "")
    assert {email for email, _, _ in attempts(desk)} == {EDITOR}  # one account, one key


def test_control_characters_in_the_typed_address_are_a_failed_sign_in_not_a_500(
    desk: Desk,
) -> None:
    """A NUL (which PostgreSQL's text cannot hold) or another control character typed into
    the address: refused like any wrong address, recorded under the address without it."""
    for typed in (f"ed.itor\x00{EDITOR[7:]}", "nobody\x00", f"{EDITOR}\x00", "no\x01body"):
        with desk.client() as client:
            r = desk.sign_in(client, typed, PASSWORD if EDITOR in typed else "guess")
            assert r.status_code == 401, (typed, r.status_code)
            assert SESSION not in r.headers.get("set-cookie", "")
    assert attempts(desk) == [
        (EDITOR, "failed", "127.0.0.1"),
        ("nobody", "failed", "127.0.0.1"),
        (EDITOR, "failed", "127.0.0.1"),
        ("nobody", "failed", "127.0.0.1"),
    ]


def test_one_client_behind_the_proxy_does_not_lock_out_the_others(
    make_desk: Callable[..., Desk],
) -> None:
    desk = make_desk(**PROXY)
    for _ in range(10):
        c, r = sign_in_from(desk, "198.51.100.66", "nope", email="other@example.org")
        c.close()
    c, r = sign_in_from(desk, "198.51.100.66", "nope", email="other@example.org")
    c.close()
    assert r.status_code == 429  # that client is over its limit ...
    c, r = sign_in_from(desk, "192.0.2.44", PASSWORD)  # ... the editor elsewhere is not
    c.close()
    assert r.status_code == 303


# --- CSRF bound to the session ---------------------------------------------------------------


def test_a_csrf_token_from_another_browsers_session_is_refused(desk: Desk) -> None:
    with desk.signed_in() as mine, desk.signed_in() as theirs:
        their_page = theirs.get("/desk/issues/1").text
        their_token = csrf_from(their_page)
        their_cookie = theirs.cookies["briefing_csrf"]
        # their CSRF cookie and token planted in my browser: a double-submit check passes
        mine.cookies.set("briefing_csrf", their_cookie, domain="127.0.0.1", path="/")
        r = mine.post("/desk/issues/1/approve", data={"csrf_token": their_token})
        assert r.status_code == 403
        assert desk.issue().state == "draft"
        my_token = csrf_from(mine.get("/desk/issues/1").text)
        r = mine.post("/desk/issues/1/approve", data={"csrf_token": my_token})
        assert r.status_code == 303
    assert desk.issue().state == "approved"


def test_over_https_the_session_cookie_takes_the_host_prefix(
    make_desk: Callable[..., Desk],
) -> None:
    desk = make_desk()
    https = desk.settings.model_copy(
        update={
            "newsletter": desk.settings.newsletter.model_copy(
                update={"base_url": "https://news.example.org"}
            )
        }
    )
    from conftest import ASGIServers, free_port

    servers = ASGIServers()
    try:
        url = servers.start(create_app(https, desk.engine), port=free_port())
        form = httpx.get(f"{url}/desk/login")
        cookie = form.headers["set-cookie"]
        assert cookie.startswith("__Host-briefing_csrf=")
        value = cookie.split(";")[0].split("=", 1)[1]
        r = httpx.post(
            f"{url}/desk/login",
            data={"email": EDITOR, "password": PASSWORD, "csrf_token": csrf_from(form.text)},
            headers={"Cookie": f"__Host-briefing_csrf={value}"},
        )
        assert r.status_code == 303, r.text
        session = r.headers["set-cookie"]
        assert session.startswith("__Host-briefing_desk="), session
        assert "secure" in session.lower() and "domain" not in session.lower()
    finally:
        servers.stop_all()


# --- the problem banner ----------------------------------------------------------------------


def test_the_banner_shows_only_what_the_desk_itself_said_once(desk: Desk) -> None:
    bait = "Your account is locked: sign in again at evil.example"
    with desk.signed_in() as client:
        for query in (f"problem={bait}", f"done={bait}"):
            page = client.get(f"/desk/issues/1?{query}").text
            assert "evil.example" not in page
            assert 'class="problem"' not in page and 'class="flash"' not in page
        first = desk.issue().stories[0].key
        page = client.get("/desk/issues/1").text
        r = client.post("/desk/issues/1/up", data={"csrf_token": csrf_from(page), "story": first})
        assert r.status_code == 303
        assert client.head(r.headers["location"]).status_code == 200  # a prefetch ...
        shown = client.get(r.headers["location"]).text  # ... leaves the message for the page
        assert 'class="problem" role="alert"' in shown and "edge of its topic" in shown
        again = client.get(r.headers["location"]).text
        assert "edge of its topic" not in again  # one time only
        done = desk.act(client, "approve")
        assert done == "approved"


# --- the link check ---------------------------------------------------------------------------


def test_the_link_check_refuses_private_addresses_by_default(
    make_desk: Callable[..., Desk], http_server: Any
) -> None:
    inside = http_server.url("/admin")
    http_server.add("/admin", body=b"internal", headers={"Content-Type": "text/html"})
    desk = make_desk(urls={HUMAN_SEED: inside})
    with desk.signed_in() as client:
        done = desk.act(client, "links")
        page = client.get("/desk/issues/1").text
    assert http_server.requests_for("/admin") == []  # nothing reached the internal server
    results = page.split('id="link-results"')[1]
    assert re.search(
        rf'<li class="error"><a href="{re.escape(inside)}">[^<]*</a>: refused: 127\.0\.0\.1 is a loopback address</li>',
        results,
    ), results[:1500]
    assert "do not answer" in done


@pytest.mark.parametrize("bad", ["http://0177.0.0.1/x", "http://999.0.0.1/x"])
def test_a_link_httpx_cannot_parse_is_one_failing_link_not_a_500(
    make_desk: Callable[..., Desk], bad: str
) -> None:
    # the article URL comes from a feed or a page: a feed author must not break the check
    desk = make_desk(urls={HUMAN_SEED: bad})
    with desk.signed_in() as client:
        page = client.get("/desk/issues/1").text
        assert bad in page, "the URL did not survive ingest"
        done = desk.act(client, "links")
        page = client.get("/desk/issues/1").text
    assert "do not answer" in done and not done.startswith("checked 0")
    results = page.split('id="link-results"')[1]
    assert re.search(r'<li class="error"><a href="[^"]*">[^<]*</a>: not a valid URL', results), (
        results[:1500]
    )


def test_the_link_check_follows_private_addresses_with_the_switch(
    make_desk: Callable[..., Desk], http_server: Any
) -> None:
    inside = http_server.url("/local")
    http_server.add("/local", body=b"ok", headers={"Content-Type": "text/html"})
    desk = make_desk(urls={HUMAN_SEED: inside}, fetch={"allow_private_addresses": True})
    with desk.signed_in() as client:
        desk.act(client, "links")
        page = client.get("/desk/issues/1").text
    assert http_server.requests_for("/local")
    assert re.search(rf'<li class="ok"><a href="{re.escape(inside)}">', page)


# --- numbers and methods ----------------------------------------------------------------------


def test_huge_issue_numbers_on_the_desk_are_404(desk: Desk) -> None:
    huge = "99999999999999999999"
    with desk.signed_in() as client:
        page = client.get("/desk/issues/1").text
        assert client.get(f"/desk/issues/{huge}").status_code == 404
        assert client.get(f"/desk/issues/{huge}/email.html").status_code == 404
        r = client.post(f"/desk/issues/{huge}/approve", data={"csrf_token": csrf_from(page)})
        assert r.status_code == 404


def test_head_on_the_desk_is_get(desk: Desk) -> None:
    with desk.signed_in() as client:
        events = desk.events()
        for path in (
            "/desk",
            "/desk/issues/1",
            "/desk/issues/1/email.html",
            "/desk/issues/1/approve",
            "/desk/issues/99/email.html",
        ):
            got = client.get(path)
            head = client.head(path)
            assert (head.status_code, head.content) == (got.status_code, b""), path
        assert desk.events() == events
    with desk.client() as anonymous:
        form = anonymous.get("/desk/login")
        head = anonymous.request(
            "HEAD",
            "/desk/login",
            data={"email": EDITOR, "password": PASSWORD, "csrf_token": csrf_from(form.text)},
        )
        assert head.status_code == 200 and SESSION not in anonymous.cookies
