"""The editor's desk and the public archive over real HTTP (uvicorn) with a real SMTP
server (aiosmtpd): the sign-in (wrong password, unknown address, CSRF), every control
(exclude, restore, move, edit, approve, proof, link check) and what it stores and records,
sign-out, the history of sent issues, the archive pages, their JSON-LD and the Atom feed,
and the "view in browser" link of a sent email; on the run's backend (a SQLite file, or
PostgreSQL under --backend postgresql).
"""

from __future__ import annotations

import html as html_lib
import io
import json
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import feedparser
import httpx
import pytest
from sqlalchemy import Engine

from briefing.cli import main
from briefing.clock import utcnow
from briefing.config import Settings, load_settings
from briefing.models import Article, Issue
from briefing.services import accounts as editors
from briefing.services import ingest as pipeline
from briefing.services import issues as editorial
from briefing.services import send as sending
from briefing.services import subscriptions
from briefing.store import articles as article_store
from briefing.store import issues as issue_store
from briefing.store.db import open_engine
from briefing.web.app import create_app

if TYPE_CHECKING:
    from conftest import Databases

REPO = Path(__file__).parent.parent.parent
SECRET = "desk-e2e-secret-" + "d" * 24
EDITOR = "ed.itor@example.org"
NAME = "Ed Itor"
PASSWORD = "correct horse battery staple"
SESSION = "briefing_desk"
CSRF = "briefing_csrf"
# the two seeds: an AI-declared analysis and a human-written piece
AI_SEED = "000_005a04db57d134a5.txt"
HUMAN_SEED = "001_016901a4378f2971.txt"
AI_TITLE = "Why North Korea Really Fears Japan's Defense Partnerships"
HUMAN_TITLE = "Why North Korea Fears Japan’s Record Defense Buildup"
IPTC_AI = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def csrf_from(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no csrf_token field in the page"
    return found.group(1)


@dataclass
class Desk:
    url: str
    root: Path
    settings: Settings
    engine: Engine
    smtp: Any  # conftest.SMTPSink

    @property
    def outbox(self) -> str:
        return f"outbox://{self.root}/outbox"

    def sent(self) -> list[EmailMessage]:
        """The messages of the issues sent into the outbox folder."""
        return [
            message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted((self.root / "outbox" / "new").glob("*"))
        ]

    def client(self, **cookies: str) -> httpx.Client:
        """A browser-like client: keeps cookies between requests, does not follow redirects."""
        client = httpx.Client(base_url=self.url, timeout=15, follow_redirects=False)
        for name, value in cookies.items():
            client.cookies.set(name, value, domain="127.0.0.1", path="/")
        return client

    def issue(self, number: int = 1) -> Issue:
        with self.engine.connect() as conn:
            return issue_store.get_issue(conn, number)

    def events(self, number: int = 1) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return issue_store.events(conn, number)

    def sign_in(
        self, client: httpx.Client, email: str = EDITOR, password: str = PASSWORD
    ) -> httpx.Response:
        form = client.get("/desk/login")
        assert form.status_code == 200
        return client.post(
            "/desk/login",
            data={"email": email, "password": password, "csrf_token": csrf_from(form.text)},
        )

    @contextmanager
    def signed_in(self) -> Iterator[httpx.Client]:
        with self.client() as client:
            done = self.sign_in(client)
            assert done.status_code == 303, done.text
            assert done.headers["location"] == "/desk"
            assert client.cookies.get(SESSION)
            yield client

    def act(self, client: httpx.Client, action: str, number: int = 1, **fields: str) -> str:
        """Press a control on the issue page as a browser would: the token comes from the
        page's own form. Returns the `done` message of the redirect."""
        page = client.get(f"/desk/issues/{number}")
        assert page.status_code == 200, page.text
        response = client.post(
            f"/desk/issues/{number}/{action}",
            data={"csrf_token": csrf_from(page.text), **fields},
        )
        assert response.status_code == 303, response.text
        location = response.headers["location"]
        assert location.startswith(f"/desk/issues/{number}?"), location
        found = re.search(r"[?&]done=([^&#]*)", location)
        assert found, f"the control reported a problem: {unquote(location)}"
        return unquote(found.group(1))

    def approve_and_send(self, number: int) -> None:
        """Into the outbox folder: the links point at this test server, which a real
        SMTP send refuses (they would not work for the people who get the email)."""
        editorial.approve(self.engine, number, by="Sender")
        options = sending.options_from(self.settings, transport=self.outbox, workers=1, rate=None)
        summary = sending.send(
            self.settings, self.engine, self.issue(number), options, actor="test"
        )
        assert summary.finished, summary
        assert self.issue(number).state == "sent"

    def add_story(self, n: int, url: str | None = None) -> None:
        """A new article on the topic (not yet in any issue), for the next draft."""
        body = (
            "Japan's defense budget and its Self-Defense Forces drew a new answer from North "
            "Korea. Pyongyang's Rodong Sinmun said Japan's counterstrike missiles threaten "
            "the DPRK, and Kim Jong Un ordered more missile tests. "
        ) * 3
        article = Article(
            id=f"desk-test-{n:014d}",
            source_kind="seed",
            source=f"desk-test-{n}.txt",
            title=f"Pyongyang answers Tokyo's missile plans, week {n}",
            url=url or f"https://example.org/week-{n}",
            publisher="Example Wire",
            published=utcnow(),
            summary=body[:200],
            body=body,
        )
        with self.engine.begin() as conn:
            article_store.upsert_articles(conn, [article], utcnow())


def settings_for(root: Path, base_url: str, db: str) -> Settings:
    return load_settings(
        REPO / "briefing.toml",
        env={"BRIEFING_SECRET": SECRET},
        overrides={
            "storage": {"url": db},
            "seeds": {"folder": str(root / "seeds")},
            "newsletter": {"base_url": base_url},
            # the link-check tests follow links to servers on 127.0.0.1 (the switch is off
            # by default: test_desk_security.py checks that those are refused)
            "fetch": {"allow_private_addresses": True},
        },
    )


def build(root: Path, db: str, urls: dict[str, str] | None = None) -> None:
    """In the database ``db`` (at the newest revision, no rows yet): the seeds in root/seeds
    (with these front-matter URLs) ingested, issue 1 drafted, the editor Ed Itor added."""
    shutil.copytree(REPO / "seeds", root / "seeds")
    for name, url in (urls or {}).items():
        seed = root / "seeds" / name
        seed.write_text(f'+++\nurl = "{url}"\n+++\n' + seed.read_text(encoding="utf-8"))
    settings = settings_for(root, "http://127.0.0.1:8000", db)
    engine = open_engine(settings.database_url)
    try:
        pipeline.ingest(settings, engine, seeds_dir=root / "seeds", only_given=True)
        issue = editorial.draft(settings, engine)
        assert issue.id == 1 and len(issue.included) == 2, issue
        editors.add(engine, EDITOR, PASSWORD, name=NAME)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Built:
    """A folder and a database that ``build`` filled."""

    root: Path
    db: str

    def copy(self, root: Path, databases: Databases) -> str:
        """The folder copied into ``root``; the database copied (into root/briefing.db on
        SQLite); the copy's URL."""
        shutil.copytree(self.root, root, dirs_exist_ok=True)
        return databases.copy(self.db, root)


@contextmanager
def built(root: Path, databases: Databases) -> Iterator[Built]:
    """The plain world built once (argon2 hashing is slow on purpose): tests copy it."""
    db = databases.new(root)
    build(root, db)
    try:
        yield Built(root, db)
    finally:
        databases.drop(db)


@pytest.fixture(scope="module")
def template(
    tmp_path_factory: pytest.TempPathFactory, session_databases: Databases
) -> Iterator[Built]:
    with built(tmp_path_factory.mktemp("desk-template"), session_databases) as made:
        yield made


@pytest.fixture
def make_desk(
    asgi_server: Any,
    smtp_server: Any,
    free_port: Callable[[], int],
    template: Built,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    databases: Databases,
) -> Iterator[Callable[..., Desk]]:
    """make_desk(urls={seed file: article URL}, subscribers=n): the seeds ingested, issue 1
    drafted, the editor Ed Itor added, n active subscribers, the app on its own port with
    its base_url set to it and proofs going to the SMTP sink."""
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)  # Settings.secrets() reads os.environ
    engines: list[Engine] = []

    def make(*, urls: dict[str, str] | None = None, subscribers: int = 0) -> Desk:
        root = tmp_path_factory.mktemp("desk")
        if urls:
            db = databases.new(root)
            build(root, db, urls)
        else:
            db = template.copy(root, databases)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        settings = settings_for(root, url, db)
        engine = open_engine(settings.database_url)
        engines.append(engine)
        for i in range(subscribers):
            subscriptions.add(settings, engine, f"reader{i}@example.org", name=f"Reader {i}")
        app = create_app(settings, engine, delivery_url=smtp_server.url)
        assert asgi_server.start(app, port=port) == url
        return Desk(url, root, settings, engine, smtp_server)

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def desk(make_desk: Callable[..., Desk]) -> Desk:
    return make_desk()


def history_row(page: str, number: int) -> list[str]:
    """The cells of issue ``number``'s row in the desk's History table, as text."""
    section = page.split("<h2>History</h2>", 1)[1]
    for row in re.findall(r"<tr>(.*?)</tr>", section, re.S):
        if f">Issue {number}</a>" in row:
            cells = re.findall(r"<td>(.*?)</td>", row, re.S)
            return [" ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", c)).split()) for c in cells]
    raise AssertionError(f"issue {number} is not in the history table")


def parts(msg: EmailMessage) -> tuple[str, str]:
    plain, rich = (p.get_content() for p in msg.iter_parts())
    return plain, rich


# --- the sign-in ----------------------------------------------------------------------------


def test_desk_pages_need_a_session(desk: Desk) -> None:
    with desk.client() as client:
        for path in ("/desk", "/desk/issues/1"):
            r = client.get(path)
            assert r.status_code == 303, (path, r.status_code)
            assert r.headers["location"] == f"/desk/login?next={path}"
        r = client.get("/desk/issues/1/email.html")
        assert r.status_code == 401
        assert "Why North Korea" not in r.text
        # a control without a session goes to the sign-in too, and changes nothing
        before = desk.events()
        r = client.post("/desk/issues/1/approve", data={"csrf_token": "x" * 40})
        assert r.status_code == 303 and r.headers["location"].startswith("/desk/login")
        assert desk.events() == before and desk.issue().state == "draft"
        # a made-up session cookie is no session
        client.cookies.set(SESSION, "forged-" + "x" * 40, domain="127.0.0.1", path="/")
        assert client.get("/desk").status_code == 303
        assert client.get("/desk/issues/1/email.html").status_code == 401
        # the sign-in page itself is public and never framed
        login = client.get("/desk/login")
        assert login.status_code == 200
        assert 'name="password"' in login.text and 'type="password"' in login.text
        assert "frame-ancestors 'none'" in login.headers["content-security-policy"]


def test_sign_in_goes_where_it_was_asked_but_stays_on_the_desk(desk: Desk) -> None:
    with desk.client() as client:
        form = client.get("/desk/login?next=/desk/issues/1")
        token = csrf_from(form.text)
        r = client.post(
            "/desk/login?next=/desk/issues/1",
            data={"email": " ed.itor@EXAMPLE.org ", "password": PASSWORD, "csrf_token": token},
        )
        assert r.status_code == 303 and r.headers["location"] == "/desk/issues/1"
        cookie = next(c for c in client.cookies.jar if c.name == SESSION)
        assert cookie.path == "/"
        assert "httponly" in r.headers["set-cookie"].lower()
        assert "samesite=lax" in r.headers["set-cookie"].lower()
        page = client.get("/desk/issues/1")
        assert page.status_code == 200 and NAME in page.text
    with desk.client() as client:
        token = csrf_from(client.get("/desk/login").text)
        r = client.post(
            "/desk/login?next=https://evil.example/desk",
            data={"email": EDITOR, "password": PASSWORD, "csrf_token": token},
        )
        assert r.status_code == 303 and r.headers["location"] == "/desk"


def test_wrong_password_and_unknown_address_get_the_same_401(desk: Desk) -> None:
    answers = []
    for email, password in (
        (EDITOR, "not the right password"),
        ("nobody@example.org", PASSWORD),
        ("not an address", PASSWORD),
        (EDITOR, ""),
    ):
        with desk.client() as client:
            r = desk.sign_in(client, email, password)
            assert r.status_code == 401, (email, r.status_code)
            assert SESSION not in r.headers.get("set-cookie", ""), r.headers["set-cookie"]
            assert client.cookies.get(SESSION) is None
            assert "That email and password do not match an editor." in r.text
            assert 'role="alert"' in r.text
            assert client.get("/desk").status_code == 303
            answers.append(re.sub(r'value="[^"]*"', "", r.text))
    # nothing in the answer tells an editor's address from a stranger's
    assert answers[0] == answers[1].replace("nobody@example.org", EDITOR)


def test_sign_in_without_the_csrf_token_is_refused(desk: Desk) -> None:
    with desk.client() as client:
        form = client.get("/desk/login")  # the CSRF cookie is set; the field signs it
        assert client.cookies.get(CSRF) and client.cookies.get(CSRF) != csrf_from(form.text)
        r = client.post("/desk/login", data={"email": EDITOR, "password": PASSWORD})
        assert r.status_code == 403
        assert client.cookies.get(SESSION) is None
        r = client.post(
            "/desk/login",
            data={"email": EDITOR, "password": PASSWORD, "csrf_token": "y" * 43},
        )
        assert r.status_code == 403 and client.cookies.get(SESSION) is None
    with desk.client() as client:  # a token from the page but no cookie (another site's form)
        token = csrf_from(httpx.get(desk.url + "/desk/login").text)
        r = client.post(
            "/desk/login", data={"email": EDITOR, "password": PASSWORD, "csrf_token": token}
        )
        assert r.status_code == 403 and client.cookies.get(SESSION) is None


def test_an_editor_added_with_the_cli_signs_in(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("another long passphrase\n"))
    with pytest.raises(SystemExit) as done:
        main(
            [
                "--config",
                str(REPO / "briefing.toml"),
                "--db",
                desk.settings.database_url,
                "editors",
                "add",
                "ann@example.org",
                "--name",
                "Ann",
                "--password-stdin",
            ]
        )
    assert done.value.code == 0
    with desk.client() as client:
        r = desk.sign_in(client, "ann@example.org", "another long passphrase")
        assert r.status_code == 303 and client.cookies.get(SESSION)
        assert "Ann" in client.get("/desk").text


# --- the controls ---------------------------------------------------------------------------


def test_a_control_without_the_csrf_token_changes_nothing(desk: Desk) -> None:
    with desk.signed_in() as client:
        key = desk.issue().stories[0].key
        before, events = desk.issue(), desk.events()
        for action, data in (
            ("exclude", {"story": key}),
            ("approve", {}),
            ("edit", {"subject": "Forged", "preheader": "", "note": ""}),
            ("proof", {}),
        ):
            r = client.post(f"/desk/issues/1/{action}", data=data)
            assert r.status_code == 403, action
            r = client.post(f"/desk/issues/1/{action}", data={**data, "csrf_token": "z" * 43})
            assert r.status_code == 403, action
        assert desk.issue() == before
        assert desk.events() == events
        assert desk.smtp.messages == []


def test_controls_change_the_issue_and_name_the_editor(desk: Desk) -> None:
    first, second = (s.key for s in desk.issue().stories)
    with desk.signed_in() as client:
        n = len(desk.events())

        assert desk.act(client, "exclude", story=first) == "story excluded"
        assert [(s.key, s.excluded) for s in desk.issue().stories] == [
            (first, True),
            (second, False),
        ]
        assert [s.key for s in desk.issue().included] == [second]
        page = client.get("/desk/issues/1?done=story+excluded").text
        assert re.search(rf'<li class="excluded" data-story="{first[:8]}">', page)
        assert 'action="/desk/issues/1/restore"' in page

        assert desk.act(client, "restore", story=first) == "story restored"
        assert not any(s.excluded for s in desk.issue().stories)

        assert desk.act(client, "down", story=first) == "story moved down"
        assert [s.key for s in desk.issue().stories] == [second, first]
        assert desk.issue().order_edited
        assert desk.act(client, "up", story=first) == "story moved up"
        assert [s.key for s in desk.issue().stories] == [first, second]

        assert (
            desk.act(
                client,
                "edit",
                subject="  Japan's build-up,   and Pyongyang's answer ",
                preheader="Two readings of one week",
                note="A quiet week otherwise.",
            )
            == "saved"
        )
        issue = desk.issue()
        assert issue.subject == "Japan's build-up, and Pyongyang's answer"
        assert issue.preheader == "Two readings of one week"
        assert issue.editor_note == "A quiet week otherwise."
        assert issue.subject_edited and issue.preheader_edited
        # the same text again is no change (and no event)
        assert (
            desk.act(
                client,
                "edit",
                subject=issue.subject,
                preheader=issue.preheader,
                note="A quiet week otherwise.",
            )
            == "nothing changed"
        )

        events = desk.events()[n:]
        assert [e["action"] for e in events] == ["edited"] * 5
        assert [list(e["detail"]) for e in events] == [
            ["excluded"],
            ["restored"],
            ["order"],
            ["order"],
            ["subject", "preheader", "note"],
        ]
        for e in events:
            assert EDITOR in e["actor"] and NAME in e["actor"], e
        # the page shows the change and who made it
        page = client.get("/desk/issues/1").text
        assert f"edited · {NAME} &lt;{EDITOR}&gt;" in page
        assert "Japan's build-up, and Pyongyang's answer" in html_lib.unescape(page)


def test_moving_a_story_past_the_edge_is_a_problem_not_a_change(desk: Desk) -> None:
    first, second = (s.key for s in desk.issue().stories)
    with desk.signed_in() as client:
        events = desk.events()
        page = client.get("/desk/issues/1").text
        r = client.post("/desk/issues/1/up", data={"csrf_token": csrf_from(page), "story": first})
        assert r.status_code == 303
        assert "problem=" in r.headers["location"]
        shown = client.get(r.headers["location"]).text
        assert 'class="problem" role="alert"' in shown and "edge of its topic" in shown
        r = client.post(
            "/desk/issues/1/exclude", data={"csrf_token": csrf_from(page), "story": "nope"}
        )
        assert r.status_code == 303 and "problem=" in r.headers["location"]
        assert desk.events() == events
        assert [s.key for s in desk.issue().stories] == [first, second]


def test_approving_then_editing_sends_the_issue_back_to_draft(desk: Desk) -> None:
    with desk.signed_in() as client:
        assert desk.act(client, "approve") == "approved"
        issue = desk.issue()
        assert issue.state == "approved"
        assert issue.approved_by == f"{NAME} <{EDITOR}>" and issue.approved_at is not None
        page = client.get("/desk/issues/1").text
        assert re.search(r'id="issue-state">approved<', page)
        assert f'id="approved-by">{NAME} &lt;{EDITOR}&gt;<' in page
        assert 'id="approve"' not in page

        assert (
            desk.act(client, "edit", subject="A changed subject", preheader=issue.preheader)
            == "saved"
        )
        issue = desk.issue()
        assert issue.state == "draft"
        assert issue.approved_by is None and issue.approved_at is None
        assert issue.subject == "A changed subject"
        last = desk.events()[-3:]
        assert [e["action"] for e in last] == ["approved", "edited", "draft"]
        assert last[2]["detail"] == {"from": "approved", "why": "edited after approval"}
        assert all(EDITOR in e["actor"] for e in last)
        assert 'id="approve"' in client.get("/desk/issues/1").text


def test_a_proof_goes_to_the_signed_in_editor(desk: Desk) -> None:
    with desk.signed_in() as client:
        assert desk.act(client, "proof") == f"proof sent to {EDITOR}"
    (mail,) = desk.smtp.wait_for(1)
    assert mail.rcpt_tos == (EDITOR,)
    msg = mail.message()
    assert msg["To"].addresses[0].addr_spec == EDITOR
    assert msg["Subject"].startswith("[Proof] ")
    assert msg["Subject"] == f"[Proof] {desk.issue().subject}"
    plain, rich = parts(msg)
    link = f"{desk.url}/desk/issues/1"
    assert link in plain
    assert re.search(rf'href="?{re.escape(link)}"?[ >]', rich), rich[:2000]
    # a proof is not a send: the issue and its outbox are untouched
    assert desk.issue().state == "draft"
    assert desk.issue().sent_at is None


def test_check_links_reports_which_links_answer(
    make_desk: Callable[..., Desk], http_server: Any, free_port: Callable[[], int]
) -> None:
    live = http_server.url("/story/live")
    dead = f"http://127.0.0.1:{free_port()}/gone"  # nothing listens there
    http_server.add("/story/live", body=b"<p>the story</p>", headers={"Content-Type": "text/html"})
    desk = make_desk(urls={HUMAN_SEED: live, AI_SEED: dead})
    with desk.signed_in() as client:
        events = desk.events()
        done = desk.act(client, "links")
        page = client.get("/desk/issues/1").text
    listed = re.findall(
        r'<li class="(ok|error)"><a href="([^"]+)"', page.split('id="link-results"')[1]
    )
    results = {html_lib.unescape(url): state for state, url in listed}
    assert len(results) == len(listed), listed  # each distinct link once
    assert results[live] == "ok", results
    assert results[dead] == "error", results
    assert re.search(rf'<li class="ok"><a href="{re.escape(live)}">[^<]*</a>: 200</li>', page)
    assert re.search(
        rf'<li class="error"><a href="{re.escape(dead)}">[^<]*</a>: ConnectError</li>', page
    )
    bad = sum(state == "error" for state in results.values())
    assert done == f"checked {len(results)} links: {bad} do not answer"
    # the subscriber's own links are never followed (they would unsubscribe the sample)
    assert not any("/u/" in u or "/p/" in u for u in results)
    hits = http_server.requests_for("/story/live")
    assert hits and hits[0].method == "HEAD"
    assert hits[0].headers["User-Agent"] == "Briefing link check"
    assert desk.events() == events  # checking changes nothing


def test_sign_out_ends_the_session(desk: Desk) -> None:
    with desk.signed_in() as client:
        token = client.cookies[SESSION]
        page = client.get("/desk").text
        # without the token sign-out is refused and the session lives on
        assert client.post("/desk/logout").status_code == 403
        assert client.get("/desk").status_code == 200
        r = client.post("/desk/logout", data={"csrf_token": csrf_from(page)})
        assert r.status_code == 303 and r.headers["location"] == "/desk/login"
        assert "max-age=0" in r.headers["set-cookie"].lower(), r.headers["set-cookie"]
        assert client.cookies.get(SESSION) is None
        assert client.get("/desk").status_code == 303
    # the old cookie, kept by someone, no longer works either
    with desk.client(**{SESSION: token}) as old:
        for path in ("/desk", "/desk/issues/1"):
            r = old.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith("/desk/login")
        assert old.get("/desk/issues/1/email.html").status_code == 401
        csrf = csrf_from(old.get("/desk/login").text)
        r = old.post("/desk/issues/1/approve", data={"csrf_token": csrf})
        assert r.status_code == 303 and r.headers["location"].startswith("/desk/login")
    assert desk.issue().state == "draft"


def test_email_preview_is_the_issue_and_only_framed_by_the_desk(desk: Desk) -> None:
    with desk.signed_in() as client:
        r = client.get("/desk/issues/1/email.html")
        assert r.status_code == 200
        assert HUMAN_TITLE in html_lib.unescape(r.text)
        assert "frame-ancestors 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "SAMEORIGIN"
        assert "/u/SAMPLE" in r.text  # the sample reader's links, nobody's real token
        assert client.get("/desk/issues/99").status_code == 404
        assert client.get("/desk/issues/x/email.html").status_code == 404


# --- history and the archive ----------------------------------------------------------------


def test_history_shows_a_sent_issue_with_its_counts(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(subscribers=3)
    with desk.signed_in() as client:
        assert "Nothing sent yet." in client.get("/desk").text
        desk.approve_and_send(1)
        assert len(desk.sent()) == 3
        row = history_row(client.get("/desk").text, 1)
        assert row[0] == "Issue 1 · archive"
        assert row[1] == desk.issue().subject
        assert row[2].endswith("UTC")
        assert row[3:] == ["3", "0", "0", "0"]

        sub = subscriptions.get(desk.engine, "reader1@example.org")
        assert subscriptions.unsubscribe(desk.engine, sub, how="test", actor="test")
        page = client.get("/desk").text
        assert history_row(page, 1)[3:] == ["3", "0", "0", "1"]
        assert "No open draft." in page  # the sent issue is no longer a draft
        # a sent issue has no controls
        issue_page = client.get("/desk/issues/1").text
        assert 'id="approve"' not in issue_page and 'id="save"' not in issue_page
        assert "/desk/issues/1/exclude" not in issue_page


def test_archive_lists_only_sent_issues_newest_first(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(subscribers=1)
    with desk.client() as client:
        assert "No issue has been sent yet." in client.get("/archive").text
        assert client.get("/archive/1").status_code == 404  # a draft is not published
        desk.approve_and_send(1)
        desk.add_story(2)
        assert editorial.draft(desk.settings, desk.engine).id == 2
        desk.approve_and_send(2)
        desk.add_story(3)
        assert editorial.draft(desk.settings, desk.engine).id == 3  # stays a draft

        r = client.get("/archive")
        assert r.status_code == 200
        listed = [int(n) for n in re.findall(r'<a href="/archive/(\d+)">', r.text)]
        assert listed == [2, 1]
        text = html_lib.unescape(r.text)
        for n in (1, 2):
            assert f"Issue {n}: {desk.issue(n).subject}" in text
        assert desk.issue(3).subject not in text
        assert 'href="/archive.atom"' in r.text

        for path in ("/archive/3", "/archive/99", "/archive/x"):
            r = client.get(path)
            assert r.status_code == 404, path
            assert desk.issue(3).subject not in html_lib.unescape(r.text)
        assert client.get("/archive/2").status_code == 200


def test_archive_issue_page_declares_ai_generated_items(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(subscribers=1)
    desk.approve_and_send(1)
    r = httpx.get(f"{desk.url}/archive/1")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', r.text, re.S)
    docs = {d["headline"]: d for d in (json.loads(b) for b in blocks)}
    assert set(docs) == {AI_TITLE, HUMAN_TITLE}, list(docs)
    for d in docs.values():
        assert d["@context"] == "https://schema.org" and d["@type"] == "NewsArticle"
    assert docs[AI_TITLE]["digitalSourceType"] == IPTC_AI
    assert "digitalSourceType" not in docs[HUMAN_TITLE]
    # no other script than the JSON-LD data
    assert len(re.findall(r"<script\b", r.text)) == len(blocks)


def test_atom_feed_has_one_entry_per_sent_issue(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(subscribers=1)
    with desk.client() as client:
        empty = feedparser.parse(client.get("/archive.atom").text)
        assert empty.bozo == 0 and empty.entries == []
        desk.approve_and_send(1)
        desk.add_story(2)
        editorial.draft(desk.settings, desk.engine)
        editorial.edit(
            desk.settings, desk.engine, 2, actor="t", subject="R&D <b>and</b> Pyongyang's answer"
        )
        desk.approve_and_send(2)
        desk.add_story(3)
        editorial.draft(desk.settings, desk.engine)  # a draft: not in the feed

        r = client.get("/archive.atom")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(r.text)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.feed.title == desk.settings.newsletter.name
    assert [e.link for e in feed.entries] == [f"{desk.url}/archive/2", f"{desk.url}/archive/1"]
    assert [e.title for e in feed.entries] == [desk.issue(2).subject, desk.issue(1).subject]
    assert feed.entries[0].title == "R&D <b>and</b> Pyongyang's answer"
    assert [e.id for e in feed.entries] == [e.link for e in feed.entries]
    first = feed.entries[1]
    assert "[AI-generated, as declared by the source]" in first.content[0].value
    assert AI_TITLE in html_lib.unescape(first.content[0].value)
    for entry in feed.entries:
        assert entry.published_parsed is not None


def test_view_in_browser_link_of_a_sent_email_opens_the_archive_page(
    make_desk: Callable[..., Desk],
) -> None:
    desk = make_desk(subscribers=2)
    desk.approve_and_send(1)
    mails = desk.sent()
    assert len(mails) == 2
    archive = f"{desk.url}/archive/1"
    for mail in mails:
        plain, rich = parts(mail)
        found = re.search(r"View in your browser: (\S+)", plain)
        assert found and found.group(1) == archive, plain[-800:]
        links = re.findall(r'<a [^>]*href="?([^"\s>]+)"?[^>]*>View in your browser</a>', rich)
        assert links and set(links) == {archive}, links
    r = httpx.get(archive)
    assert r.status_code == 200
    assert desk.issue().subject in html_lib.unescape(r.text)
    assert HUMAN_TITLE in html_lib.unescape(r.text)


# --- defects found while writing these tests, now fixed ---------------------------------------


def test_check_links_checks_article_links_whose_path_has_p_or_u(
    make_desk: Callable[..., Desk], http_server: Any
) -> None:
    post = http_server.url("/p/a-substack-style-post")
    http_server.add("/p/a-substack-style-post", body=b"ok", headers={"Content-Type": "text/html"})
    desk = make_desk(urls={HUMAN_SEED: post})
    with desk.signed_in() as client:
        desk.act(client, "links")
        page = client.get("/desk/issues/1").text
    assert f'<a href="{post}">' in page.split('id="link-results"')[1]
    assert http_server.requests_for("/p/a-substack-style-post")


def test_check_links_does_not_report_the_issues_own_archive_link_as_broken(
    make_desk: Callable[..., Desk], http_server: Any
) -> None:
    live = http_server.url("/story/live")
    http_server.add("/story/live", body=b"ok", headers={"Content-Type": "text/html"})
    desk = make_desk(urls={HUMAN_SEED: live})
    with desk.signed_in() as client:
        done = desk.act(client, "links")
    assert done.endswith(": 0 do not answer"), done


def test_signing_in_after_a_control_without_session_lands_on_the_issue(desk: Desk) -> None:
    with desk.client() as client:
        csrf = csrf_from(client.get("/desk/login").text)
        r = client.post("/desk/issues/1/exclude", data={"csrf_token": csrf, "story": "x"})
        assert r.status_code == 303
        login = r.headers["location"]
        r = client.post(login, data={"email": EDITOR, "password": PASSWORD, "csrf_token": csrf})
        assert r.status_code == 303
        landed = client.get(r.headers["location"])
        assert landed.status_code == 200, (r.headers["location"], landed.status_code)


def test_excluding_a_story_updates_the_default_preheader(desk: Desk) -> None:
    second = desk.issue().stories[1]
    assert second.title == AI_TITLE and not desk.issue().preheader_edited
    with desk.signed_in() as client:
        assert desk.act(client, "exclude", story=second.key) == "story excluded"
        preview = client.get("/desk/issues/1/email.html").text
        text = html_lib.unescape(re.sub(r"<[^>]+>", " ", preview.split("<body", 1)[1]))
    assert AI_TITLE not in desk.issue().preheader, desk.issue().preheader
    assert AI_TITLE not in text  # the preheader is the email's first visible line


def test_excluding_the_top_story_updates_the_default_subject(desk: Desk) -> None:
    first = desk.issue().stories[0]
    assert desk.issue().subject == HUMAN_TITLE and not desk.issue().subject_edited
    with desk.signed_in() as client:
        assert desk.act(client, "exclude", story=first.key) == "story excluded"
        assert desk.act(client, "proof").startswith("proof sent")
    assert desk.issue().subject != HUMAN_TITLE
    (mail,) = desk.smtp.wait_for(1)
    assert HUMAN_TITLE not in mail.message()["Subject"]
