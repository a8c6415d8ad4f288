"""The public pages over real HTTP (uvicorn) with a real SMTP server (aiosmtpd):
double opt-in, CSRF, rate limit, one-click unsubscribe (RFC 8058), bad tokens, secret
rotation, preferences, security headers, and Step 3's "done when" through the CLI.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from briefing.cli import main
from briefing.config import Settings, load_settings
from briefing.models import Subscriber
from briefing.services import subscriptions
from briefing.store import subscribers as store
from briefing.store.db import open_engine
from briefing.store.subscribers_schema import subscriber_events, subscribers, suppressions
from briefing.tokens import sign
from briefing.web.app import create_app

REPO = Path(__file__).parent.parent.parent
SECRET = "current-secret-" + "c" * 20
OLD_SECRET = "old-secret-" + "o" * 24
TOPIC = "japan-defense-dprk"


def one_click(url: str) -> httpx.Response:
    """The RFC 8058 POST a mailbox provider sends: no cookies, no CSRF token."""
    return httpx.post(
        url,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


@dataclass
class Site:
    url: str
    settings: Settings
    engine: Engine
    smtp: Any  # conftest.SMTPSink
    app: Any = None

    def client(self) -> httpx.Client:
        """A browser-like client: keeps cookies (the CSRF cookie) between requests."""
        return httpx.Client(base_url=self.url, timeout=10, follow_redirects=False)

    def sub(self, email: str) -> Subscriber | None:
        with self.engine.connect() as conn:
            return store.by_email(conn, email)

    def events(self) -> list[tuple[int | None, str, dict[str, Any]]]:
        with self.engine.connect() as conn:
            return [
                (r.subscriber_id, r.action, r.detail)
                for r in conn.execute(select(subscriber_events).order_by(subscriber_events.c.id))
            ]

    def snapshot(self) -> tuple[list[dict[str, Any]], list[Any], list[dict[str, Any]]]:
        """Everything a request could change: subscribers, events, suppressions."""
        with self.engine.connect() as conn:
            subs = [
                dict(r)
                for r in conn.execute(select(subscribers).order_by(subscribers.c.id)).mappings()
            ]
            sups = [dict(r) for r in conn.execute(select(suppressions)).mappings()]
        return subs, self.events(), sups

    def manage_token(self, email: str, secrets: list[str] | None = None) -> str:
        sub = self.sub(email)
        assert sub is not None
        return subscriptions.links(self.settings, sub, secrets or [SECRET]).token


@pytest.fixture
def make_site(
    asgi_server: Any,
    smtp_server: Any,
    free_port: Callable[[], int],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
) -> Callable[..., Site]:
    """make_site(secret=..., db=...) starts the app on its own port, its base_url set to it;
    on the test's database (the run's backend) unless ``db`` names another."""

    def start(*, secret: str = SECRET, db: str | None = None) -> Site:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        monkeypatch.setenv("BRIEFING_SECRET", secret)  # Settings.secrets() reads os.environ
        settings = load_settings(
            REPO / "briefing.toml",
            env={"BRIEFING_SECRET": secret},
            overrides={
                "storage": {"url": db or database_url},
                "newsletter": {"base_url": url},
            },
        )
        engine = open_engine(settings.database_url)
        app = create_app(settings, engine, delivery_url=smtp_server.url)
        assert asgi_server.start(app, port=port) == url
        return Site(url, settings, engine, smtp_server, app)

    return start


@pytest.fixture
def site(make_site: Callable[..., Site]) -> Site:
    return make_site()


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


def subscribe(
    client: httpx.Client,
    email: str,
    *,
    name: str = "Reader",
    token: str | None = None,
    consent: bool = True,
) -> httpx.Response:
    if token is None:
        token = csrf_from(client.get("/").text)
    form = {"email": email, "name": name, "csrf_token": token}
    if consent:
        form["consent"] = "yes"
    return client.post("/subscribe", data=form)


def press_confirm(link: str) -> httpx.Response:
    """What the person does: open the confirmation link (a page with a button), press it."""
    with httpx.Client(timeout=10) as person:
        page = person.get(link)
        assert page.status_code == 200, page.text
        if "You are subscribed" in page.text:
            return page
        return person.post(link, data={"csrf_token": csrf_from(page.text)})


def confirm_link(site: Site, email: str) -> str:
    mails = site.smtp.to(email)
    assert len(mails) == 1, f"{len(mails)} message(s) for {email}"
    msg = mails[0].message()
    assert msg["To"] == email and "Confirm your subscription" in msg["Subject"]
    assert msg["Auto-Submitted"] == "auto-generated"
    found = re.search(r"Confirm: (\S+)", msg.get_content())
    assert found, msg.get_content()
    return found.group(1)


# --- double opt-in ------------------------------------------------------------------------------


def test_double_opt_in_over_http_and_smtp(site: Site) -> None:
    with site.client() as client:
        home = client.get("/")
        assert home.status_code == 200 and "Subscribe to" in home.text
        cookie = client.cookies.get("briefing_csrf")
        assert cookie and cookie != csrf_from(home.text)  # the field signs the cookie
        answer = subscribe(client, "new.reader@example.org", name="New Reader")
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    site.smtp.wait_for(1)  # the request is applied, and the mail sent, in the background
    sub = site.sub("new.reader@example.org")
    assert sub is not None and sub.status == "pending" and sub.confirmed_at is None
    assert (
        sub.name == "New Reader"
        and sub.consent["source"] == "form"
        and sub.consent["ip"] == "127.0.0.1"
    )
    assert [s.email for s in subscriptions.recipients(site.engine, {TOPIC})] == []

    link = confirm_link(site, "new.reader@example.org")
    assert link.startswith(f"{site.url}/confirm/")
    assert site.smtp.messages[0].rcpt_tos == ("new.reader@example.org",)
    assert site.sub("new.reader@example.org").status == "pending"  # type: ignore[union-attr]

    confirmed = press_confirm(link)
    assert confirmed.status_code == 200 and "You are subscribed" in confirmed.text
    sub = site.sub("new.reader@example.org")
    assert sub is not None and sub.status == "active" and sub.confirmed_at is not None
    assert [a for _, a, _ in site.events()] == ["requested", "confirmed"]
    assert [s.email for s in subscriptions.recipients(site.engine, {TOPIC})] == [
        "new.reader@example.org"
    ]
    # following the link again changes nothing
    assert press_confirm(link).status_code == 200
    assert [a for _, a, _ in site.events()] == ["requested", "confirmed"]


def test_answer_is_the_same_for_a_new_and_an_active_address(site: Site) -> None:
    subscriptions.add(site.settings, site.engine, "already@example.org")
    with site.client() as client:
        token = csrf_from(client.get("/").text)
        new = subscribe(client, "someone.new@example.org", token=token)
        active = subscribe(client, "Already@EXAMPLE.org", token=token)
    assert (new.status_code, new.text) == (active.status_code, active.text)
    assert new.status_code == 200
    site.smtp.wait_for(1)
    assert len(site.smtp.to("someone.new@example.org")) == 1
    assert site.smtp.to("already@example.org") == []  # no mail to the member
    assert site.sub("already@example.org").status == "active"  # type: ignore[union-attr]


def test_form_refuses_missing_consent_and_bad_addresses(site: Site) -> None:
    with site.client() as client:
        no_consent = subscribe(client, "maybe@example.org", consent=False)
        bad = subscribe(client, "not an address")
    assert no_consent.status_code == 400 and "tick the box" in no_consent.text
    assert bad.status_code == 400 and "does not look like an email address" in bad.text
    assert site.snapshot() == ([], [], []) and site.smtp.messages == []


def test_post_without_csrf_is_refused(site: Site) -> None:
    with site.client() as client:
        token = csrf_from(client.get("/").text)
        missing = client.post("/subscribe", data={"email": "x@example.org", "consent": "yes"})
        wrong = client.post(
            "/subscribe",
            data={"email": "x@example.org", "consent": "yes", "csrf_token": token[::-1]},
        )
    no_cookie = httpx.post(
        f"{site.url}/subscribe",
        data={"email": "x@example.org", "consent": "yes", "csrf_token": token},
    )
    for response in (missing, wrong, no_cookie):
        assert response.status_code == 403
    assert site.snapshot() == ([], [], []) and site.smtp.messages == []


def test_rate_limit_answers_429_with_retry_after(site: Site) -> None:
    limit = site.settings.subscriptions.rate_limit_per_minute
    with site.client() as client:
        token = csrf_from(client.get("/").text)
        for i in range(limit):
            assert subscribe(client, f"r{i}@example.org", token=token).status_code == 200
        over = subscribe(client, "one.too.many@example.org", token=token)
    assert over.status_code == 429
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    assert site.sub("one.too.many@example.org") is None
    assert len(site.smtp.wait_for(limit)) == limit


# --- unsubscribe ----------------------------------------------------------------------------


def test_get_shows_a_page_and_post_one_click_unsubscribes(site: Site) -> None:
    subscriptions.add(site.settings, site.engine, "una@example.org", name="Una")
    token = site.manage_token("una@example.org")
    before = site.snapshot()
    page = httpx.get(f"{site.url}/u/{token}")
    assert page.status_code == 200 and "Unsubscribe una@example.org?" in page.text
    assert f'action="/u/{token}"' in page.text
    assert site.snapshot() == before  # a prefetching scanner changes nothing

    done = one_click(f"{site.url}/u/{token}")  # no cookie, no csrf: a mailbox provider
    assert done.status_code == 200
    sub = site.sub("una@example.org")
    assert sub is not None and sub.status == "unsubscribed" and sub.unsubscribed_at is not None
    assert site.events()[-1][1:] == ("unsubscribed", {"how": "one-click"})
    with site.engine.connect() as conn:
        assert store.suppressed(conn, "una@example.org", None) == "unsubscribed"
    assert list(subscriptions.recipients(site.engine, {TOPIC})) == []
    again = one_click(f"{site.url}/u/{token}")
    assert again.status_code == 200 and len(site.events()) == 2  # idempotent, no second event


def test_a_burst_of_one_click_posts_is_stored_together_each_once(site: Site) -> None:
    """A click storm after a send: 40 subscribers' one-click POSTs, each twice, all at
    once. Every one is answered, every subscriber is unsubscribed with exactly one event
    (a repeated POST in flight with the first adds none), and the writes went in fewer
    transactions than there were requests (web/batch.py)."""
    emails = [f"burst{i}@example.org" for i in range(40)]
    for email in emails:
        subscriptions.add(site.settings, site.engine, email)
    subscriptions.add(site.settings, site.engine, "bystander@example.org")
    tokens = [site.manage_token(email) for email in emails]
    token_id, mac = tokens[0].split(".")
    forged = f"{token_id}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"

    async def storm() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=site.url, timeout=30) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        f"/u/{token}",
                        content=b"List-Unsubscribe=One-Click",
                        headers={"Content-Type": "application/x-www-form-urlencoded"},
                    )
                    for token in [*tokens, forged, *tokens]
                )
            )

    responses = asyncio.run(storm())
    forged_answer = responses.pop(len(tokens))
    assert forged_answer.status_code == 404  # a broken link, among good ones
    assert [(r.status_code, r.text) for r in responses] == [(200, "Unsubscribed.\n")] * 80
    for email in emails:
        assert site.sub(email).status == "unsubscribed"  # type: ignore[union-attr]
    assert site.sub("bystander@example.org").status == "active"  # type: ignore[union-attr]
    unsubscribed = Counter(sid for sid, action, _ in site.events() if action == "unsubscribed")
    assert len(unsubscribed) == 40 and set(unsubscribed.values()) == {1}
    assert site.app.state.unsubscribe_clicks.batches < len(responses)


def test_page_post_without_one_click_needs_csrf(site: Site) -> None:
    subscriptions.add(site.settings, site.engine, "vic@example.org")
    token = site.manage_token("vic@example.org")
    before = site.snapshot()
    refused = httpx.post(f"{site.url}/u/{token}", data={"anything": "x"})
    assert refused.status_code == 403 and site.snapshot() == before
    with site.client() as client:
        page = client.get(f"/u/{token}")
        done = client.post(f"/u/{token}", data={"csrf_token": csrf_from(page.text)})
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    assert site.sub("vic@example.org").status == "unsubscribed"  # type: ignore[union-attr]


def test_forged_truncated_and_garbled_tokens_change_nothing(site: Site) -> None:
    subscriptions.add(site.settings, site.engine, "wes@example.org")
    sub = site.sub("wes@example.org")
    assert sub is not None
    good = site.manage_token("wes@example.org")
    token_id, mac = good.split(".")
    flip = "A" if mac[5] != "A" else "B"
    bad_tokens = {
        "forged": sign("AAAAAAAAAAAAAAAA", [SECRET])[:17] + "x" * 22,
        "truncated": good[:-4],
        "garbled mac": f"{token_id}.{mac[:5]}{flip}{mac[6:]}",
        "garbled id": f"{token_id[:-1]}{'A' if token_id[-1] != 'A' else 'B'}.{mac}",
        "other secret": sign(sub.token_id, ["someone-elses-secret-" + "z" * 16]),
        "confirm token": sign(sub.token_id, [SECRET], purpose="confirm", expires=4_000_000_000),
        "empty mac": f"{token_id}.",
        "extra dots": f"{good}.{mac}.{mac}",
    }
    before = site.snapshot()
    with site.client() as client:
        csrf = csrf_from(client.get("/").text)
        for label, token in bad_tokens.items():
            for method, path in (("GET", "u"), ("GET", "p"), ("POST", "u"), ("POST", "p")):
                kwargs: dict[str, Any] = {}
                if method == "POST":
                    kwargs = {
                        "data": {
                            "List-Unsubscribe": "One-Click",
                            "csrf_token": csrf,
                            "action": "unsubscribe",
                        }
                    }
                response = client.request(method, f"/{path}/{token}", **kwargs)
                assert 400 <= response.status_code < 500, (
                    label,
                    method,
                    path,
                    response.status_code,
                )
            if label != "confirm token":  # that one is a genuine confirmation link
                assert 400 <= client.get(f"/confirm/{token}").status_code < 500, label
        # the manage token is not a confirmation link either
        assert client.get(f"/confirm/{good}").status_code == 400
    assert site.snapshot() == before
    assert site.sub("wes@example.org").status == "active"  # type: ignore[union-attr]


def test_links_signed_with_the_old_secret_work_after_rotation(
    make_site: Callable[..., Site], database_url: str
) -> None:
    db = database_url  # both sites on the one database
    only_new = make_site(secret=SECRET, db=db)
    subscriptions.add(only_new.settings, only_new.engine, "xia@example.org")
    old_link_token = only_new.manage_token("xia@example.org", [OLD_SECRET])
    # without the old secret configured the old link is refused ...
    assert one_click(f"{only_new.url}/u/{old_link_token}").status_code == 404
    assert only_new.sub("xia@example.org").status == "active"  # type: ignore[union-attr]
    # ... with BRIEFING_SECRET="new,old" it works, and new links are signed with the new one
    rotated = make_site(secret=f"{SECRET},{OLD_SECRET}", db=db)
    assert rotated.settings.secrets() == [SECRET, OLD_SECRET]
    fresh = subscriptions.links(
        rotated.settings,
        rotated.sub("xia@example.org"),  # type: ignore[arg-type]
        rotated.settings.secrets(),
    ).token
    assert fresh == only_new.manage_token("xia@example.org", [SECRET])
    assert httpx.get(f"{rotated.url}/p/{old_link_token}").status_code == 200
    assert one_click(f"{rotated.url}/u/{old_link_token}").status_code == 200
    assert rotated.sub("xia@example.org").status == "unsubscribed"  # type: ignore[union-attr]


# --- preferences ----------------------------------------------------------------------------


def test_preferences_change_topics_and_pause_then_unsubscribe(site: Site) -> None:
    subscriptions.add(site.settings, site.engine, "yan@example.org")
    token = site.manage_token("yan@example.org")
    with site.client() as client:
        page = client.get(f"/p/{token}")
        assert page.status_code == 200 and "For yan@example.org" in page.text
        assert re.search(rf'value="{TOPIC}" checked', page.text)
        csrf = csrf_from(page.text)

        refused = client.post(f"/p/{token}", data={"paused": "yes", "action": "save"})  # no csrf
        assert refused.status_code == 403
        sub = site.sub("yan@example.org")
        assert sub is not None and not sub.paused and sub.topics is None

        paused = client.post(
            f"/p/{token}", data={"csrf_token": csrf, "paused": "yes", "action": "save"}
        )
        assert paused.status_code == 200 and "Saved." in paused.text
        sub = site.sub("yan@example.org")
        assert sub is not None and sub.paused and sub.topics == () and sub.status == "active"
        assert not re.search(rf'value="{TOPIC}" checked', paused.text)
        assert list(subscriptions.recipients(site.engine, {TOPIC})) == []

        back = client.post(
            f"/p/{token}", data={"csrf_token": csrf, "topics": TOPIC, "action": "save"}
        )
        assert back.status_code == 200
        sub = site.sub("yan@example.org")
        assert sub is not None and not sub.paused and sub.topics is None  # every topic again
        assert [s.email for s in subscriptions.recipients(site.engine, {TOPIC})] == [
            "yan@example.org"
        ]
        assert [a for _, a, _ in site.events()] == ["subscribed", "preferences", "preferences"]

        gone = client.post(
            f"/p/{token}", data={"csrf_token": csrf, "topics": TOPIC, "action": "unsubscribe"}
        )
    assert gone.status_code == 200 and "You are unsubscribed" in gone.text
    assert site.sub("yan@example.org").status == "unsubscribed"  # type: ignore[union-attr]
    assert site.events()[-1][1:] == ("unsubscribed", {"how": "preferences page"})


# --- suppression and stale links -------------------------------------------------------------


def _cli(capsys: pytest.CaptureFixture[str], db: str, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(["--config", str(REPO / "briefing.toml"), "--db", db, *args])
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, " ".join(err.split())


def test_unsubscribed_over_http_stays_out_when_reimported(
    site: Site, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    subscriptions.add(site.settings, site.engine, "zed@example.org")
    assert one_click(f"{site.url}/u/{site.manage_token('zed@example.org')}").status_code == 200
    csv_file = tmp_path / "again.csv"
    csv_file.write_text("email,name\nZed@Example.ORG,Zed Again\nnew.one@example.org,New One\n")
    code, out, _ = _cli(
        capsys, site.settings.storage.url, "subscribers", "import", str(csv_file), "--json"
    )
    assert code == 0
    report = json.loads(out)
    assert report["added"] == 1
    assert site.sub("zed@example.org").status == "unsubscribed"  # type: ignore[union-attr]
    assert sorted(s.email or "" for s in subscriptions.recipients(site.engine, {TOPIC})) == [
        "new.one@example.org"
    ]


def test_an_old_confirmation_link_does_not_undo_an_unsubscribe(site: Site) -> None:
    """Confirm, unsubscribe, then the (still unexpired) confirmation link is fetched again,
    e.g. by a mail scanner or from the old email: the unsubscribe must stand."""
    with site.client() as client:
        assert subscribe(client, "amy@example.org").status_code == 200
    site.smtp.wait_for(1)
    link = confirm_link(site, "amy@example.org")
    assert press_confirm(link).status_code == 200
    assert site.sub("amy@example.org").status == "active"  # type: ignore[union-attr]
    assert one_click(f"{site.url}/u/{site.manage_token('amy@example.org')}").status_code == 200
    assert site.sub("amy@example.org").status == "unsubscribed"  # type: ignore[union-attr]
    with httpx.Client(timeout=10) as old:
        page = old.get(link)  # the old link, fetched again, does not even offer the button
        assert page.status_code == 400 and "Confirm my subscription" not in page.text
        token = csrf_from(old.get(f"{site.url}/").text)  # and pressing it anyway does nothing
        assert old.post(link, data={"csrf_token": token}).status_code == 400
    assert site.sub("amy@example.org").status == "unsubscribed"  # type: ignore[union-attr]
    with site.engine.connect() as conn:
        assert store.suppressed(conn, "amy@example.org", None) == "unsubscribed"


# --- headers ----------------------------------------------------------------------------------


def test_security_headers_on_every_page(site: Site) -> None:
    with site.client() as client:
        responses = [
            client.get("/"),
            client.get("/u/not-a-token"),
            client.get("/p/x.y"),
            client.post("/subscribe", data={}),
            client.get("/confirm/bad"),
            client.get("/healthz"),
        ]
    for r in responses:
        h = r.headers
        csp = h["Content-Security-Policy"]
        assert (
            "default-src 'none'" in csp
            and "frame-ancestors 'none'" in csp
            and "form-action 'self'" in csp
        )
        assert h["X-Frame-Options"] == "DENY"
        assert h["Referrer-Policy"] == "no-referrer"
        assert h["X-Content-Type-Options"] == "nosniff"
        assert "Strict-Transport-Security" not in h  # plain http base_url
    cookie = responses[0].headers["set-cookie"].lower()
    assert "briefing_csrf=" in cookie and "httponly" in cookie and "samesite=strict" in cookie


# --- Step 3 "done when" ---------------------------------------------------------------------


def test_step3_done_when(
    make_site: Callable[..., Site],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
) -> None:
    db = database_url
    server = make_site(db=db)
    monkeypatch.setenv("BRIEFING_NEWSLETTER_BASE_URL", server.url)  # links point at the server
    seeds = tmp_path / "seeds"
    shutil.copytree(REPO / "seeds", seeds)

    def cli(*args: str) -> str:
        code, out, err = _cli(capsys, db, *args)
        assert code == 0, (args, err)
        return out

    cli("subscribers", "import", str(REPO / "subscribers" / "sample.csv"))
    cli("ingest", "--seeds", str(seeds))
    cli("draft")
    everyone = {p["email"] for p in json.loads(cli("recipients", "--json"))}
    assert everyone == {
        "ann.editor@example.org",
        "bo.reader@example.org",
        "chen.analyst@example.org",
        "dana@example.org",
    }

    shown = json.loads(cli("subscribers", "show", "ann.editor@example.org", "--json"))
    assert shown["status"] == "active" and shown["unsubscribe_url"].startswith(f"{server.url}/u/")
    response = one_click(shown["unsubscribe_url"])
    assert response.status_code == 200

    shown = json.loads(cli("subscribers", "show", "ann.editor@example.org", "--json"))
    assert shown["status"] == "unsubscribed"
    assert shown["events"][-1]["action"] == "unsubscribed" and shown["events"][-1]["detail"] == {
        "how": "one-click"
    }
    cli("draft")
    left = {p["email"] for p in json.loads(cli("recipients", "--json"))}
    assert left == everyone - {"ann.editor@example.org"}
