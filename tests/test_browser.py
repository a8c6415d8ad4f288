"""The rendered issue in a real browser: nothing overflows at 600 px or 375 px, and every
story title and link is on screen. With BRIEFING_SCREENSHOTS=1 the real seeds preview
is saved as docs/issue-600.png and docs/issue-375.png (the README shows them).

Drives Debian's chromium (scripts/install_test_tools.sh) through pip's playwright with
``executable_path``: no browser download. Skipped only when /usr/bin/chromium is missing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from test_templates import CONTEXTS, render_web, render_with_pipeline, stories

DOCS = Path(__file__).parent.parent / "docs"
WIDTHS = (600, 375)

pytestmark = [pytest.mark.browser]  # the `browser` fixture (conftest) skips without chromium


def open_page(browser: Any, path: Path, width: int) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.dialogs = []  # any alert() would mean hostile content ran
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    # tests never reach the network: anything but the file itself is refused
    page.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort(),
    )
    page.goto(path.as_uri(), wait_until="load")
    return page


def check_layout(page: Any, width: int, titles: list[str]) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"page is {scroll_width} px wide in a {width} px viewport"
    headings = page.locator("h3")
    assert headings.count() == len(titles)
    seen = [" ".join(headings.nth(i).inner_text().split()) for i in range(len(titles))]
    assert seen == [" ".join(t.split()) for t in titles]
    links = page.locator("a")
    assert links.count() > 0
    for locator in [headings.nth(i) for i in range(headings.count())] + [
        links.nth(i) for i in range(links.count())
    ]:
        assert locator.is_visible(), locator
        box = locator.bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0, locator
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (locator, box)


@pytest.mark.parametrize("width", WIDTHS)
def test_seeds_issue_fits_and_screenshot(browser: Any, tmp_path: Path, width: int) -> None:
    context = CONTEXTS["seeds"]()
    html, _ = render_with_pipeline(context)
    path = tmp_path / "issue.html"
    path.write_text(html, encoding="utf-8")
    page = open_page(browser, path, width)
    try:
        check_layout(page, width, [s["title"] for s in stories(context)])
        # the footer links a reader needs are on screen too
        for name in ("Unsubscribe", "Manage your preferences", "View in your browser"):
            assert page.get_by_role("link", name=name).is_visible()
        page.screenshot(path=str(tmp_path / f"issue-{width}.png"), full_page=True)
    finally:
        page.close()


@pytest.fixture(scope="module")
def real_preview(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds' issue as `scripts/run` makes it: ingest, draft, preview through the CLI."""
    import shutil

    from briefing.cli import main

    root = tmp_path_factory.mktemp("real")
    shutil.copytree(Path(__file__).parent.parent / "seeds", root / "seeds")
    db = f"sqlite:///{root}/b.db"
    config = str(Path(__file__).parent.parent / "briefing.toml")
    for args in (
        ["ingest", "--seeds", str(root / "seeds")],
        ["draft"],
        ["preview", "--out", str(root / "out")],
    ):
        with pytest.raises(SystemExit) as done:
            main(["--config", config, "--db", db, *args])
        assert done.value.code == 0, args
    return root / "out"


@pytest.mark.parametrize("width", WIDTHS)
def test_real_seeds_preview_fits(browser: Any, real_preview: Path, width: int) -> None:
    """The real issue.html of the seeds: nothing overflows, every title and link visible.
    BRIEFING_SCREENSHOTS=1 keeps the screenshots in docs/ (shown in the README)."""
    page = open_page(browser, real_preview / "issue.html", width)
    try:
        check_layout(
            page,
            width,
            [
                "Why North Korea Fears Japan’s Record Defense Buildup",
                "Why North Korea Really Fears Japan's Defense Partnerships",
            ],
        )
        for name in ("Unsubscribe", "Manage your preferences", "View in your browser"):
            assert page.get_by_role("link", name=name).is_visible()
        folder = DOCS if os.environ.get("BRIEFING_SCREENSHOTS") == "1" else real_preview
        folder.mkdir(exist_ok=True)
        page.screenshot(path=str(folder / f"issue-{width}.png"), full_page=True)
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["hostile", "twenty"])
def test_email_fits_with_hostile_and_full_issues(
    browser: Any, tmp_path: Path, name: str, width: int
) -> None:
    context = CONTEXTS[name]()
    html, _ = render_with_pipeline(context)
    path = tmp_path / "issue.html"
    path.write_text(html, encoding="utf-8")
    page = open_page(browser, path, width)
    try:
        check_layout(page, width, [s["title"] for s in stories(context)])
        # markup in the content stayed text: no element was made from it
        assert page.locator("script, svg, iframe, form, img").count() == 0
        assert page.dialogs == []
    finally:
        page.close()


@pytest.mark.parametrize("name", ["seeds", "hostile"])
def test_email_fits_in_clients_that_ignore_media_queries(
    browser: Any, tmp_path: Path, name: str
) -> None:
    """Some clients drop <style> or do not read media queries (minify_css writes them in
    the newer range syntax): the inline styles alone must still fit 375 px."""
    context = CONTEXTS[name]()
    html, _ = render_with_pipeline(context)
    html = re.sub(r"<style\b[^>]*>.*?</style>", "", html, flags=re.S)
    assert "@media" not in html
    path = tmp_path / "issue.html"
    path.write_text(html, encoding="utf-8")
    page = open_page(browser, path, 375)
    try:
        check_layout(page, 375, [s["title"] for s in stories(context)])
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["seeds", "hostile"])
def test_web_version_fits(browser: Any, tmp_path: Path, name: str, width: int) -> None:
    context = CONTEXTS[name]()
    path = tmp_path / "web.html"
    path.write_text(render_web(context), encoding="utf-8")
    page = open_page(browser, path, width)
    try:
        check_layout(page, width, [s["title"] for s in stories(context)])
        assert page.locator("script:not([type='application/ld+json'])").count() == 0
        assert page.dialogs == []
    finally:
        page.close()
