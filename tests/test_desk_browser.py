"""The editor's desk and the archive in a real browser (Debian's chromium driven by pip's
playwright, as in test_browser.py) against the real app under uvicorn: sign in through
the form, read the email preview inside its iframe, exclude a story, edit the subject,
approve; a wrong password; the keyboard path through the sign-in; axe-core finds no
serious or critical violation on the sign-in, the desk home, a draft, the archive and an
archived issue.

With BRIEFING_SCREENSHOTS=1 the draft page is saved as docs/desk-draft.png and an archived
issue as docs/archive.png (the README shows them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from briefing.config import Settings, load_settings
from briefing.models import Issue
from briefing.services import accounts as editors
from briefing.services import ingest as pipeline
from briefing.services import issues as editorial
from briefing.services import send as sending
from briefing.services import subscriptions
from briefing.store import issues as issue_store
from briefing.store.db import open_engine
from briefing.web.app import create_app

REPO = Path(__file__).parent.parent
DOCS = REPO / "docs"
SECRET = "desk-browser-secret-" + "b" * 20
EDITOR = "ed.itor@example.org"
NAME = "Ed Itor"
PASSWORD = "correct horse battery staple"
VIEWPORT = {"width": 1440, "height": 1100}

pytestmark = [pytest.mark.browser]  # the `browser` fixture (conftest) skips without chromium


@pytest.fixture(scope="module")
def axe() -> Any:
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError as exc:
        pytest.fail(f"axe-playwright-python is not installed ({exc})", pytrace=False)
    return Axe()


@dataclass
class Desk:
    url: str
    settings: Settings
    engine: Engine
    smtp: Any
    pages: list[Any] = field(default_factory=list)

    def issue(self, number: int = 1) -> Issue:
        with self.engine.connect() as conn:
            return issue_store.get_issue(conn, number)

    def open(self, browser: Any, path: str = "/desk") -> Any:
        """A new page at ``path``; nothing but this server is reachable, and every console
        error (a CSP violation, a script error) is kept in ``page.errors``."""
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.errors = []
        page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url.startswith(self.url) else route.abort()
            ),
        )
        page.goto(self.url + path)
        self.pages.append(page)
        return page

    def sign_in(self, page: Any, email: str = EDITOR, password: str = PASSWORD) -> None:
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()


@pytest.fixture
def make_desk(
    asgi_server: Any,
    smtp_server: Any,
    free_port: Callable[[], int],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., Desk]]:
    """make_desk(sent=False): the seeds ingested and drafted as issue 1, the editor Ed Itor,
    two subscribers, the app on its own port; with ``sent`` issue 1 is approved and sent
    (to the SMTP sink) and a fresh article makes issue 2 the open draft."""
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)
    made: list[Desk] = []

    def make(*, sent: bool = False) -> Desk:
        root = tmp_path_factory.mktemp("deskb")
        shutil.copytree(REPO / "seeds", root / "seeds")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        settings = load_settings(
            REPO / "briefing.toml",
            env={"BRIEFING_SECRET": SECRET},
            overrides={
                "storage": {"url": f"sqlite:///{root}/briefing.db"},
                "seeds": {"folder": str(root / "seeds")},
                "newsletter": {"base_url": url},
            },
        )
        engine = open_engine(settings.database_url)
        pipeline.ingest(settings, engine, seeds_dir=root / "seeds", only_given=True)
        assert len(editorial.draft(settings, engine).included) == 2
        editors.add(engine, EDITOR, PASSWORD, name=NAME)
        for i in range(2):
            subscriptions.add(settings, engine, f"reader{i}@example.org", name=f"Reader {i}")
        desk = Desk(url, settings, engine, smtp_server)
        if sent:
            editorial.approve(engine, 1, by=NAME)
            options = sending.options_from(  # links to this server: not for real SMTP
                settings, transport=f"outbox://{root}/outbox", workers=1, rate=None
            )
            assert sending.send(settings, engine, desk.issue(1), options).finished
            _add_article(engine)
            assert editorial.draft(settings, engine).id == 2
        app = create_app(settings, engine, delivery_url=smtp_server.url)
        assert asgi_server.start(app, port=port) == url
        made.append(desk)
        return desk

    yield make
    for desk in made:
        for page in desk.pages:
            page.context.close()
        desk.engine.dispose()


def _add_article(engine: Engine) -> None:
    from briefing.clock import utcnow
    from briefing.models import Article
    from briefing.store import articles as article_store

    body = (
        "Japan's defense budget and its Self-Defense Forces drew a new answer from North Korea. "
        "Pyongyang's Rodong Sinmun said Japan's counterstrike missiles threaten the DPRK, and "
        "Kim Jong Un ordered more missile tests. "
    ) * 3
    article = Article(
        id="desk-browser-000000001",
        source_kind="seed",
        source="desk-browser.txt",
        title="Pyongyang answers Tokyo's missile plans",
        url="https://example.org/week-2",
        publisher="Example Wire",
        published=utcnow(),
        summary=body[:200],
        body=body,
    )
    with engine.begin() as conn:
        article_store.upsert_articles(conn, [article], utcnow())


def words(text: str) -> str:
    return " ".join(text.split())


def serious(axe: Any, page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    found = axe.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(
            " ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"])
            for n in v["nodes"][:5]
        )
        for v in found
        if v.get("impact") in ("serious", "critical")
    ]


def screenshot(page: Any, name: str, fallback: Path) -> None:
    folder = DOCS if os.environ.get("BRIEFING_SCREENSHOTS") == "1" else fallback
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


# --- the editor's work ----------------------------------------------------------------------


def test_sign_in_exclude_edit_and_approve_in_the_browser(
    browser: Any, make_desk: Callable[..., Desk], tmp_path: Path
) -> None:
    desk = make_desk()
    page = desk.open(browser, "/desk/issues/1")
    # no session: the sign-in form, which comes back to the issue
    assert page.url == f"{desk.url}/desk/login?next=/desk/issues/1"
    desk.sign_in(page)
    assert page.url == f"{desk.url}/desk/issues/1"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Issue 1: ")
    assert words(page.locator("#issue-state").inner_text()) == "draft"

    # the first story, on the page and in the 600 px preview
    first = page.locator("li[data-story]").first
    key = first.get_attribute("data-story")
    title = words(first.locator(".t").inner_text())
    assert len(key or "") == 8 and key == desk.issue().stories[0].key[:8]
    preview = page.frame_locator("#preview-600")
    seen = words(preview.locator("h3").first.inner_text())
    assert seen == title
    assert title in words(page.frame_locator("#preview-375").locator("body").inner_text())
    assert title in words(page.locator("#plain-text").inner_text())
    screenshot(page, "desk-draft.png", tmp_path)

    # exclude it: gone from the preview and from the plain-text part
    page.locator(f"li[data-story='{key}']").get_by_role("button", name=f"Exclude: {title}").click()
    page.wait_for_url("**/desk/issues/1?done=story*")
    assert words(page.get_by_role("status").inner_text()) == "story excluded"
    row = page.locator(f"li[data-story='{key}']")
    assert "excluded" in (row.get_attribute("class") or "")
    assert row.get_by_role("button", name=f"Restore: {title}").is_visible()
    headings = [words(t) for t in preview.locator("h3").all_inner_texts()]
    assert headings and title not in headings
    assert title not in words(preview.locator("body").inner_text())
    assert title not in words(page.frame_locator("#preview-375").locator("body").inner_text())
    assert title not in words(page.locator("#plain-text").inner_text())
    assert desk.issue().stories[0].excluded

    # a new subject: on the page and in the preview
    subject = "Tokyo builds up & Pyongyang answers"
    page.locator("#subject").fill(subject)
    page.locator("#save").click()
    page.wait_for_url("**/desk/issues/1?done=saved*")
    assert page.get_by_role("heading", level=1).inner_text() == f"Issue 1: {subject}"
    assert page.locator("#subject").input_value() == subject
    email = preview.locator("[aria-roledescription=email]")
    assert email.get_attribute("aria-label") == subject
    assert page.frame(url=f"{desk.url}/desk/issues/1/email.html").title() == subject
    assert desk.issue().subject == subject

    # approve: stored with the editor's name and address, shown on the page
    page.locator("#approve").click()
    page.wait_for_url("**/desk/issues/1?done=approved*")
    assert words(page.locator("#issue-state").inner_text()) == "approved"
    assert words(page.locator("#approved-by").inner_text()) == f"{NAME} <{EDITOR}>"
    issue = desk.issue()
    assert issue.state == "approved"
    assert issue.approved_by and EDITOR in issue.approved_by and NAME in issue.approved_by
    assert page.locator("#approve").count() == 0
    assert page.errors == []


def test_a_wrong_password_shows_the_error_and_stays_on_the_sign_in(
    browser: Any, make_desk: Callable[..., Desk]
) -> None:
    desk = make_desk()
    page = desk.open(browser, "/desk")
    assert page.url.startswith(f"{desk.url}/desk/login")
    desk.sign_in(page, password="not the password at all")
    assert page.url.startswith(f"{desk.url}/desk/login")
    alert = page.get_by_role("alert")
    assert words(alert.inner_text()) == "That email and password do not match an editor."
    assert page.get_by_label("Email").input_value() == EDITOR  # kept, to fix the password
    assert page.get_by_label("Password").input_value() == ""
    assert not any(c["name"] == "briefing_desk" for c in page.context.cookies())
    page.goto(desk.url + "/desk")
    assert page.url.startswith(f"{desk.url}/desk/login")
    # the refused sign-in answers 401 (chromium logs that); nothing else went wrong
    assert [e for e in page.errors if "status of 401" not in e] == []


def test_keyboard_reaches_the_skip_link_and_the_sign_in_fields(
    browser: Any, make_desk: Callable[..., Desk]
) -> None:
    desk = make_desk()
    page = desk.open(browser, "/desk/login")

    def focused() -> str:
        return str(
            page.evaluate(
                "() => { const e = document.activeElement;"
                " return e.id || e.getAttribute('href') || e.textContent.trim(); }"
            )
        )

    page.keyboard.press("Tab")
    assert focused() == "#main"
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.is_visible()  # it shows when focused
    box = skip.bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0
    page.keyboard.press("Tab")
    assert focused() == "email"
    page.keyboard.type(EDITOR)
    page.keyboard.press("Tab")
    assert focused() == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    assert focused() == "Sign in"
    page.keyboard.press("Enter")
    page.wait_for_url(f"{desk.url}/desk")
    assert page.get_by_role("heading", name="Drafts").is_visible()


# --- accessibility (axe-core) and the screenshots -------------------------------------------


def test_axe_finds_no_serious_violation_on_the_desk_and_the_archive(
    browser: Any, axe: Any, make_desk: Callable[..., Desk], tmp_path: Path
) -> None:
    desk = make_desk(sent=True)
    problems: dict[str, list[str]] = {}
    page = desk.open(browser, "/desk/login")
    problems["sign-in"] = serious(axe, page)
    desk.sign_in(page)
    assert page.url == f"{desk.url}/desk"
    assert page.get_by_role("link", name="Issue 2").is_visible()  # the open draft
    problems["desk home"] = serious(axe, page)
    page.get_by_role("link", name="Issue 2").click()
    page.wait_for_url(f"{desk.url}/desk/issues/2")
    page.frame_locator("#preview-600").locator("h3").first.wait_for()
    problems["draft"] = serious(axe, page)
    page.goto(desk.url + "/archive")
    problems["archive"] = serious(axe, page)
    page.get_by_role("link", name=f"Issue 1: {desk.issue(1).subject}").click()
    page.wait_for_url(f"{desk.url}/archive/1")
    problems["archive issue"] = serious(axe, page)
    screenshot(page, "archive.png", tmp_path)
    assert page.errors == []
    assert {k: v for k, v in problems.items() if v} == {}

    # the check itself is live: a page with known faults is reported
    page.set_content("<html><body><img src='data:,'><input type='text'></body></html>")
    found = serious(axe, page)
    assert any(line.startswith("image-alt (critical)") for line in found), found
