"""The desk's article pages over real HTTP (uvicorn on 127.0.0.1), a real database (a SQLite
file, or PostgreSQL under --backend postgresql) and a real page server (conftest's
http_server): "Add by URL", "Paste a page", the article page with its confidences and
explanation, the correction form, "title uncertain" on the draft page, and "add to the
current draft". Behind the sign-in and CSRF, with the paste form's own body limit
(web.max_page_bytes) and every other form's (web.max_body_bytes) kept.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import Engine, func, select
from test_desk import HUMAN_TITLE, SECRET, Built, Desk, built, csrf_from, settings_for
from test_ingest_url import HTML, article_page

from briefing.store import articles as article_store
from briefing.store.db import open_engine
from briefing.store.schema import articles
from briefing.web.app import create_app

if TYPE_CHECKING:
    from conftest import Databases

ON_TOPIC = (
    "Japan's defense budget and its Self-Defense Forces drew a new answer from North Korea. "
    "Pyongyang's Rodong Sinmun said Japan's counterstrike missiles threaten the DPRK, and "
    "Kim Jong Un ordered more missile tests in the days after Tokyo's announcement. "
)
PASTED = (
    "The Northeast Wire\n"
    "Pyongyang answers Tokyo's counterstrike missile plans\n"
    "By Min-jung Park\n"
    "12 November 2026\n\n" + "\n\n".join([ON_TOPIC * 2] * 4) + "\n\n© 2026 The Northeast Wire\n"
)


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, session_databases: Databases
) -> Iterator[Built]:
    with built(tmp_path_factory.mktemp("desk-articles-template"), session_databases) as made:
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

    def make(**sections: dict[str, Any]) -> Desk:
        root = tmp_path_factory.mktemp("desk-articles")
        db = world.copy(root, databases)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        settings = settings_for(root, url, db)  # fetch.allow_private_addresses: the page server
        if sections:
            from test_desk import REPO

            from briefing.config import load_settings

            merged: dict[str, Any] = {
                "storage": {"url": db},
                "seeds": {"folder": str(root / "seeds")},
                "newsletter": {"base_url": url},
                "fetch": {"allow_private_addresses": True},
            }
            for key, value in sections.items():
                merged[key] = {**merged.get(key, {}), **value}
            settings = load_settings(
                REPO / "briefing.toml", env={"BRIEFING_SECRET": SECRET}, overrides=merged
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


def count(desk: Desk) -> int:
    with desk.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(articles)).scalar_one())


def text_of(page: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def post_form(client: httpx.Client, page: str, action: str, **fields: str) -> httpx.Response:
    """Press a form's button as a browser would: the token comes from the page."""
    token = csrf_from(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **fields})


def human_id(desk: Desk) -> str:
    with desk.engine.connect() as conn:
        return next(a.id for a in article_store.list_articles(conn) if a.title == HUMAN_TITLE)


# -- Add by URL ---------------------------------------------------------------------------------


def test_add_by_url_stores_the_page_and_shows_it_with_its_confidences(
    desk: Desk, http_server: Any
) -> None:
    canonical = http_server.url("/news/bridge")
    page = article_page(f'<link rel="canonical" href="{canonical}">')
    http_server.add("/amp/bridge", body=page.encode(), headers=HTML)
    url = http_server.url("/amp/bridge")
    before = count(desk)
    with desk.signed_in() as client:
        r = post_form(client, "/desk/add", "/desk/add/url", url=url)
        assert r.status_code == 303, r.text
        location = r.headers["location"]
        assert re.fullmatch(r"/desk/articles/[0-9a-f]{24}", location)
        shown = client.get(location)
        assert shown.status_code == 200
        flat = text_of(shown.text)
        assert "added: Council votes to close the old bridge" in flat
        assert "Title Council votes to close the old bridge" in flat
        assert re.search(r"Publisher The Courier (?:\w+ )?[01]\.\d\d", flat), flat
        assert f'href="{canonical}"' in shown.text  # the original's own address
        assert "Read by the html path" in flat
        again = post_form(client, "/desk/add", "/desk/add/url", url=url)
        assert again.headers["location"] == location
        assert "already stored, unchanged" in text_of(client.get(location).text)
    assert count(desk) == before + 1


def test_add_by_url_says_what_went_wrong_keeps_the_url_and_stores_nothing(
    desk: Desk, http_server: Any
) -> None:
    http_server.add("/paper.pdf", body=b"%PDF-1.7 ...", headers={"Content-Type": "application/pdf"})
    listing = "".join(
        f'<li><a href="/s/{i}">Story {i} about the town hall</a></li>' for i in range(30)
    )
    http_server.add(
        "/", body=f"<html><body><ul>{listing}</ul></body></html>".encode(), headers=HTML
    )
    before = count(desk)
    with desk.signed_in() as client:
        pdf = http_server.url("/paper.pdf")
        r = post_form(client, "/desk/add", "/desk/add/url", url=pdf)
        assert r.status_code == 422
        flat = text_of(r.text)
        assert f"page:{pdf}: answered with a PDF document, not a web page." in flat
        assert "Nothing was stored." in flat
        assert f'value="{pdf}"' in r.text
        home = post_form(client, "/desk/add", "/desk/add/url", url=http_server.url("/"))
        assert home.status_code == 422
        assert "no article: " in text_of(home.text) and "is links" in text_of(home.text)
        bad = post_form(client, "/desk/add", "/desk/add/url", url="file:///etc/passwd")
        assert bad.status_code == 422 and "is not an http:// or https:// URL" in text_of(bad.text)
        # a control character typed or pasted in (a NUL: PostgreSQL's text holds none)
        odd = post_form(client, "/desk/add", "/desk/add/url", url="https://example.org/a\x00b")
        assert odd.status_code == 422, odd.status_code
        assert "page:https://example.org/a%00b: has a control character" in text_of(odd.text)
    assert count(desk) == before


def test_add_by_url_refuses_a_private_address_unless_allowed(
    make_desk: Callable[..., Desk], http_server: Any
) -> None:
    desk = make_desk(fetch={"allow_private_addresses": False})
    http_server.add("/story", body=article_page().encode(), headers=HTML)
    with desk.signed_in() as client:
        r = post_form(client, "/desk/add", "/desk/add/url", url=http_server.url("/story"))
    assert r.status_code == 422
    assert "127.0.0.1 is a loopback address" in text_of(r.text)
    assert http_server.requests_for("/story") == []


# -- Paste a page -------------------------------------------------------------------------------


def test_paste_a_page_reads_it_like_a_seed_and_keeps_the_url_given(desk: Desk) -> None:
    with desk.signed_in() as client:
        r = post_form(
            client,
            "/desk/add",
            "/desk/add/paste",
            text=PASTED,
            paste_url="https://wire.example/p?utm_source=x",
        )
        assert r.status_code == 303, r.text
        article_id = r.headers["location"].rsplit("/", 1)[1]
    with desk.engine.connect() as conn:
        a = article_store.get_article(conn, article_id)
    assert a is not None
    assert a.title == "Pyongyang answers Tokyo's counterstrike missile plans"
    assert a.url == "https://wire.example/p"
    assert a.source_kind == "seed" and a.source.startswith("paste:")
    assert a.author == "Min-jung Park"
    assert set(a.confidence) == {"title", "author", "published", "publisher"}


def test_a_pasted_page_with_front_matter_keeps_its_url(desk: Desk) -> None:
    front = '+++\nurl = "https://wire.example/story"\npublisher = "The Northeast Wire"\n+++\n'
    with desk.signed_in() as client:
        r = post_form(client, "/desk/add", "/desk/add/paste", text=front + PASTED)
        assert r.status_code == 303, r.text
        article_id = r.headers["location"].rsplit("/", 1)[1]
    with desk.engine.connect() as conn:
        a = article_store.get_article(conn, article_id)
    assert a is not None and a.url == "https://wire.example/story"
    assert a.confidence["publisher"].reason == "set in the seed's front matter"


def test_a_pasted_page_with_no_article_is_refused_with_the_reason_and_the_text_kept(
    desk: Desk,
) -> None:
    menu = "\n".join(f"Story number {i} about the town\n{i} March 2026" for i in range(1, 30))
    before = count(desk)
    with desk.signed_in() as client:
        r = post_form(client, "/desk/add", "/desk/add/paste", text=menu)
        assert r.status_code == 422
        flat = text_of(r.text)
        assert "no article" in flat and "Nothing was stored." in flat
        assert "Story number 17 about the town" in r.text  # still in the textarea
        empty = post_form(client, "/desk/add", "/desk/add/paste", text="   ")
        assert empty.status_code == 422 and "Paste the page's text first." in text_of(empty.text)
    assert count(desk) == before


def test_the_paste_form_takes_a_page_over_64_kb_and_refuses_one_over_its_own_limit(
    desk: Desk,
) -> None:
    long_text = PASTED + "\n\n" + "\n\n".join([ON_TOPIC * 3] * 250)  # about 180 KB
    assert 65_536 < len(long_text.encode()) < 1_000_000
    with desk.signed_in() as client:
        ok = post_form(client, "/desk/add", "/desk/add/paste", text=long_text)
        assert ok.status_code == 303, ok.text[:300]
        token = csrf_from(client.get("/desk/add").text)
        huge = client.post("/desk/add/paste", data={"csrf_token": token, "text": "x" * 1_100_000})
        assert huge.status_code == 413
        # every other form keeps the 64 KB limit
        other = client.post("/desk/add/url", data={"csrf_token": token, "url": "x" * 70_000})
        assert other.status_code == 413
        fix = client.post(
            f"/desk/articles/{human_id(desk)}/correct",
            data={"csrf_token": token, "title": "t" * 70_000},
        )
        assert fix.status_code == 413


# -- sign-in and CSRF ----------------------------------------------------------------------------


def test_the_article_pages_need_a_session_and_their_forms_a_csrf_token(desk: Desk) -> None:
    article_id = human_id(desk)
    before = count(desk)
    with desk.client() as client:
        for path in ("/desk/add", f"/desk/articles/{article_id}"):
            r = client.get(path)
            assert (
                r.status_code == 303 and r.headers["location"] == f"/desk/login?next={quote(path)}"
            )
        for action in ("/desk/add/url", "/desk/add/paste", f"/desk/articles/{article_id}/correct"):
            r = client.post(action, data={"csrf_token": "x" * 40, "text": PASTED, "title": "X"})
            assert r.status_code == 303 and r.headers["location"].startswith("/desk/login")
    with desk.signed_in() as client:
        for action, fields in (
            ("/desk/add/paste", {"text": PASTED}),
            ("/desk/add/url", {"url": "https://example.org/"}),
            (f"/desk/articles/{article_id}/correct", {"title": "Forged title"}),
            (f"/desk/articles/{article_id}/draft", {}),
        ):
            r = client.post(action, data={"csrf_token": "x" * 44, **fields})
            assert r.status_code == 403, action
        assert client.get("/desk/articles/zz-not-an-id").status_code == 404
        assert client.get("/desk/articles/abcdef0123").status_code == 404
    assert count(desk) == before
    with desk.engine.connect() as conn:
        a = article_store.get_article(conn, article_id)
    assert a is not None and a.title == HUMAN_TITLE


# -- the article page and its corrections -------------------------------------------------------


def test_the_draft_page_flags_an_uncertain_field_and_links_to_the_article(desk: Desk) -> None:
    article_id = human_id(desk)
    with desk.signed_in() as client:
        page = client.get("/desk/issues/1").text
        assert (
            f'<a class="uncertain" href="/desk/articles/{article_id}" data-uncertain="publisher">publisher uncertain (0.35)</a>'
            in page
        )
        shown = text_of(client.get(f"/desk/articles/{article_id}").text)
        assert "Publisher NVNK publisher uncertain 0.35" in shown
        assert "the line heuristics' reading" in shown
        assert "lines 36–40 (related)" in shown
        r = post_form(
            client,
            f"/desk/articles/{article_id}",
            f"/desk/articles/{article_id}/correct",
            title=HUMAN_TITLE,
            author="",
            published="2026-01-07",
            publisher="NK Insight",
            ai_generated="false",
        )
        assert r.status_code == 303
        after = text_of(client.get(f"/desk/articles/{article_id}").text)
        assert "saved: publisher" in after
        assert "Publisher NK Insight 1.00 corrected by Ed Itor <ed.itor@example.org>" in after
        assert "publisher: NVNK → NK Insight" in after
        page = client.get("/desk/issues/1").text
        assert f'href="/desk/articles/{article_id}" data-uncertain="publisher"' not in page
        email = client.get("/desk/issues/1/email.html").text
        assert "NK Insight" in email and "NVNK" not in email


def test_a_bad_correction_keeps_what_was_typed_and_changes_nothing(desk: Desk) -> None:
    article_id = human_id(desk)
    with desk.signed_in() as client:
        r = post_form(
            client,
            f"/desk/articles/{article_id}",
            f"/desk/articles/{article_id}/correct",
            title="A better headline",
            published="7 Jan 2026",
        )
        assert r.status_code == 400
        assert "is not a date in ISO form" in text_of(r.text)
        assert 'value="A better headline"' in r.text
        same = post_form(
            client,
            f"/desk/articles/{article_id}",
            f"/desk/articles/{article_id}/correct",
            title=HUMAN_TITLE,
        )
        assert same.status_code == 303
        assert "nothing changed" in text_of(client.get(f"/desk/articles/{article_id}").text)
    with desk.engine.connect() as conn:
        a = article_store.get_article(conn, article_id)
    assert a is not None and a.title == HUMAN_TITLE and a.confidence["title"].value < 1


def test_confirming_an_uncertain_field_on_the_page_makes_it_sure(desk: Desk) -> None:
    article_id = human_id(desk)
    with desk.signed_in() as client:
        page = client.get(f"/desk/articles/{article_id}").text
        assert 'name="confirm" value="publisher"' in page
        r = client.post(
            f"/desk/articles/{article_id}/correct",
            data={"csrf_token": csrf_from(page), "confirm": "publisher"},
        )
        assert r.status_code == 303
    with desk.engine.connect() as conn:
        a = article_store.get_article(conn, article_id)
    assert a is not None and a.publisher == "NVNK" and a.confidence["publisher"].value == 1.0


def test_a_pasted_article_goes_into_the_current_draft_from_its_page(desk: Desk) -> None:
    with desk.signed_in() as client:
        r = post_form(client, "/desk/add", "/desk/add/paste", text=PASTED)
        location = r.headers["location"]
        page = client.get(location).text
        assert "Add to the current draft (refresh issue 1)" in page
        r = client.post(location + "/draft", data={"csrf_token": csrf_from(page)})
        assert r.status_code == 303 and r.headers["location"] == "/desk/issues/1"
        issue_page = client.get("/desk/issues/1").text
        assert "issue 1 refreshed: it includes Pyongyang answers Tokyo" in text_of(issue_page)
        assert "Pyongyang answers Tokyo&#39;s counterstrike missile plans" in issue_page
        assert "Add to the current draft" not in client.get(location).text


def test_a_hostile_pasted_page_is_shown_as_text_never_as_markup(desk: Desk) -> None:
    evil = PASTED.replace(
        "Pyongyang answers Tokyo's counterstrike missile plans",
        'Pyongyang answers <script>alert("x")</script> Tokyo <img src=x onerror=alert(1)>',
    )
    with desk.signed_in() as client:
        r = post_form(client, "/desk/add", "/desk/add/paste", text=evil)
        assert r.status_code == 303, r.text
        page = client.get(r.headers["location"]).text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page or "&lt;script&gt;" in page
