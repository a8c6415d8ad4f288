"""The desk's "Add by URL", "Paste a page" and correction form in a real browser (Debian's
chromium driven by pip's playwright, as in test_desk_browser.py) against the real app under
uvicorn, with a real page server on 127.0.0.1 for the URL: add a page by its address, paste
a page, follow "publisher uncertain" from the draft to the article, correct it, add the
pasted article to the current draft; axe-core finds no serious or critical violation on
the add page and the article page."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_desk_browser import EDITOR, NAME, PASSWORD, SECRET, Desk, serious
from test_ingest_url import HTML, article_page

from briefing.config import load_settings
from briefing.services import accounts as editors
from briefing.services import ingest as pipeline
from briefing.services import issues as editorial
from briefing.store import articles as article_store
from briefing.store.db import open_engine
from briefing.web.app import create_app

REPO = Path(__file__).parent.parent
PASTED = (
    "The Northeast Wire\n"
    "Pyongyang answers Tokyo's counterstrike missile plans\n"
    "By Min-jung Park\n"
    "12 November 2026\n\n"
    + "\n\n".join(
        [
            "Japan's defense budget and its Self-Defense Forces drew a new answer from North "
            "Korea. Pyongyang's Rodong Sinmun said Japan's counterstrike missiles threaten the "
            "DPRK, and Kim Jong Un ordered more missile tests in the days after the announcement."
        ]
        * 4
    )
    + "\n\n© 2026 The Northeast Wire\n"
)

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def axe() -> Any:
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError as exc:
        pytest.fail(f"axe-playwright-python is not installed ({exc})", pytrace=False)
    return Axe()


@pytest.fixture
def desk(
    asgi_server: Any,
    smtp_server: Any,
    free_port: Callable[[], int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Desk]:
    """The seeds ingested and drafted as issue 1, Ed Itor, the app on its own port; URLs on
    127.0.0.1 may be fetched (the page server)."""
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = load_settings(
        REPO / "briefing.toml",
        env={"BRIEFING_SECRET": SECRET},
        overrides={
            "storage": {"url": f"sqlite:///{tmp_path}/briefing.db"},
            "seeds": {"folder": str(tmp_path / "seeds")},
            "newsletter": {"base_url": url},
            "fetch": {"allow_private_addresses": True},
        },
    )
    engine = open_engine(settings.database_url)
    pipeline.ingest(settings, engine, seeds_dir=tmp_path / "seeds", only_given=True)
    assert len(editorial.draft(settings, engine).included) == 2
    editors.add(engine, EDITOR, PASSWORD, name=NAME)
    app = create_app(settings, engine, delivery_url=smtp_server.url)
    assert asgi_server.start(app, port=port) == url
    made = Desk(url, settings, engine, smtp_server)
    yield made
    for page in made.pages:
        page.context.close()
    engine.dispose()


def test_add_by_url_in_the_browser_lands_on_the_article_with_its_confidences(
    browser: Any, desk: Desk, http_server: Any
) -> None:
    canonical = http_server.url("/news/bridge")
    http_server.add(
        "/amp/bridge",
        body=article_page(f'<link rel="canonical" href="{canonical}">').encode(),
        headers=HTML,
    )
    page = desk.open(browser, "/desk")
    desk.sign_in(page)
    page.get_by_role("navigation", name="Desk").get_by_role("link", name="Add an article").click()
    page.get_by_label("The article's address").fill(http_server.url("/amp/bridge"))
    page.get_by_role("button", name="Fetch and add").click()
    page.wait_for_load_state()
    assert "/desk/articles/" in page.url
    assert page.locator("#article-title").inner_text() == "Council votes to close the old bridge"
    assert "added: Council votes" in page.get_by_role("status").inner_text()
    row = page.locator('#confidence tr[data-field="publisher"]')
    assert "The Courier" in row.inner_text()
    assert page.locator("#original").get_attribute("href") == canonical
    # a bad address: the error on the same page, the address still in the field
    page.get_by_role("navigation", name="Desk").get_by_role("link", name="Add an article").click()
    http_server.add("/x.pdf", body=b"%PDF-1.5", headers={"Content-Type": "application/pdf"})
    page.get_by_label("The article's address").fill(http_server.url("/x.pdf"))
    page.get_by_role("button", name="Fetch and add").click()
    page.wait_for_load_state()
    assert "answered with a PDF document" in page.locator("#add-error").inner_text()
    assert page.get_by_label("The article's address").input_value() == http_server.url("/x.pdf")
    # the only console line is the browser noting the 422 itself: no CSP or script error
    assert [e for e in page.errors if "status of 422" not in e] == []


def test_paste_a_page_correct_it_and_add_it_to_the_draft_in_the_browser(
    browser: Any, desk: Desk
) -> None:
    page = desk.open(browser, "/desk/add")
    desk.sign_in(page)
    page.get_by_label("The page's address").fill("https://wire.example/story")
    page.get_by_label("The page's text").fill(PASTED)
    page.get_by_role("button", name="Add the pasted page").click()
    page.wait_for_load_state()
    title = "Pyongyang answers Tokyo's counterstrike missile plans"
    assert page.locator("#article-title").inner_text() == title
    # the correction form: a better title, the date, the wire's name
    page.get_by_label("Title").fill("Pyongyang answers Tokyo's missile plans")
    page.get_by_label("Date published").fill("2026-11-13")
    page.get_by_label("Publisher").fill("Northeast Wire")
    page.get_by_role("button", name="Save corrections").click()
    page.wait_for_load_state()
    assert "saved:" in page.get_by_role("status").inner_text()
    assert page.locator("#article-title").inner_text() == "Pyongyang answers Tokyo's missile plans"
    published = page.locator('#confidence tr[data-field="published"]').inner_text()
    assert "2026-11-13" in published and "corrected by Ed Itor" in published
    assert "Northeast Wire" in page.locator("#corrections").inner_text()
    article_id = page.url.rsplit("/", 1)[1]
    with desk.engine.connect() as conn:
        a = article_store.get_article(conn, article_id)
    assert (
        a is not None and a.url == "https://wire.example/story" and a.publisher == "Northeast Wire"
    )
    # into the current draft
    page.get_by_role("button", name="Add to the current draft (refresh issue 1)").click()
    page.wait_for_load_state()
    assert page.url.endswith("/desk/issues/1")
    assert "Pyongyang answers Tokyo's missile plans" in page.locator(".stories").inner_text()
    assert page.errors == []


def test_publisher_uncertain_on_the_draft_leads_to_the_article_to_correct_it(
    browser: Any, desk: Desk
) -> None:
    page = desk.open(browser, "/desk/issues/1")
    desk.sign_in(page)
    flag = page.locator('[data-story] a[data-uncertain="publisher"]').first
    assert flag.inner_text() == "publisher uncertain (0.35)"
    flag.click()
    page.wait_for_load_state()
    assert "/desk/articles/" in page.url
    assert (
        "publisher uncertain" in page.locator('#confidence tr[data-field="publisher"]').inner_text()
    )
    page.get_by_label("The publisher shown is right").check()
    page.get_by_role("button", name="Save corrections").click()
    page.wait_for_load_state()
    row = page.locator('#confidence tr[data-field="publisher"]').inner_text()
    assert "1.00" in row and "uncertain" not in row
    assert page.errors == []


def test_axe_finds_no_serious_violation_on_the_add_and_article_pages(
    browser: Any, axe: Any, desk: Desk
) -> None:
    page = desk.open(browser, "/desk/add")
    desk.sign_in(page)
    problems = {"add": serious(axe, page)}
    with desk.engine.connect() as conn:
        article_id = article_store.list_articles(conn)[0].id
    page.goto(f"{desk.url}/desk/articles/{article_id}")
    problems["article"] = serious(axe, page)
    assert problems == {"add": [], "article": []}
