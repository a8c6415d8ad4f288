"""`briefing ingest --url` over a real HTTP server on 127.0.0.1 and a real SQLite file: the
canonical URL kept (the email links to the original), the same URL again updates and never
duplicates, corrections win over a re-ingest, and every kind of bad answer (a PDF, an
image, a page over the size cap, a legacy encoding, a redirect loop, 404, 500, a timeout,
a feed, a page with no article, a private address) is a clear message naming the URL
that stores nothing and loses nothing stored.

The server is on 127.0.0.1, a loopback address, so these tests set
``fetch.allow_private_addresses = true``; one test shows that without it the URL is refused.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from test_extract_html import BODY, HEADLINE, MENU

from briefing.cli import main
from briefing.config import Settings, load_settings
from briefing.services import issues as editorial
from briefing.services.ingest import add_page, ingest
from briefing.store import articles as store
from briefing.store.db import open_engine
from briefing.store.schema import articles, sources

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
HTML = {"Content-Type": "text/html; charset=utf-8"}


def article_page(
    head: str = "", *, title: str = HEADLINE, charset: str = "utf-8", extra: str = ""
) -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    return (
        f'<!doctype html><html lang="en"><head>{meta}<title>{title} | The Courier</title>'
        f'<meta property="og:site_name" content="The Courier">'
        f'<meta name="author" content="Ann Reporter">'
        f'<meta property="article:published_time" content="2026-11-18T08:00:00+01:00">'
        f"{head}</head><body><header><nav><ul>{MENU}</ul></nav></header>"
        f'<main><article><header><h1>{title}</h1><p class="byline">By Ann Reporter</p>'
        f'<time datetime="2026-11-18">18 November 2026</time></header>'
        f"<div class='content'>{BODY}{extra}</div></article></main>"
        f"<footer><p>© 2026 Courier Media LLC</p></footer></body></html>"
    )


def settings_for(tmp_path: Path, **fetch: Any) -> Settings:
    return load_settings(
        None,
        env={},
        overrides={
            "storage": {"url": f"sqlite:///{tmp_path}/b.db"},
            "seeds": {"folder": str(tmp_path / "no-seeds")},
            "fetch": {"allow_private_addresses": True, "timeout": 3, **fetch},
        },
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path)


@pytest.fixture
def engine(settings: Settings) -> Engine:
    return open_engine(settings.database_url)


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(articles)).scalar_one())


def only(engine: Engine) -> Any:
    with engine.connect() as conn:
        found = store.list_articles(conn, include_duplicates=True)
    assert len(found) == 1, found
    return found[0]


# -- a page in, an article out ------------------------------------------------------------------


def test_a_page_becomes_an_article_that_links_to_its_canonical_address(
    http_server: Any, settings: Settings, engine: Engine
) -> None:
    canonical = http_server.url("/news/2026/bridge")
    page = article_page(f'<link rel="canonical" href="{canonical}?utm_source=feed">')
    http_server.add("/amp/bridge", body=page.encode(), headers=HTML)
    url = http_server.url("/amp/bridge?utm_campaign=x")
    [report] = ingest(settings, engine, urls=[url], only_given=True, now=T0)
    assert (report.kind, report.status, report.new, report.failed) == ("page", "ok", 1, 0)
    assert report.source == f"page:{url}"
    a = only(engine)
    assert a.url == canonical  # the original's address, trackers removed
    assert (a.source_kind, a.source) == ("page", f"page:{url}")
    assert a.title == HEADLINE
    assert a.publisher == "The Courier"
    assert a.author == "Ann Reporter"
    assert a.published == date(2026, 11, 18)
    assert set(a.confidence) == {"title", "author", "published", "publisher"}
    assert a.confidence["title"].value >= 0.5 and a.extraction["kind"] == "html"
    assert http_server.requests_for("/amp/bridge")[0].headers["Accept"].startswith("text/html")


def test_the_same_url_again_updates_the_article_and_never_duplicates_it(
    http_server: Any, settings: Settings, engine: Engine
) -> None:
    http_server.add("/story", body=article_page().encode(), headers=HTML)
    url = http_server.url("/story")
    assert ingest(settings, engine, urls=[url], only_given=True, now=T0)[0].new == 1
    again = ingest(settings, engine, urls=[url], only_given=True, now=T0 + timedelta(hours=1))
    assert (again[0].new, again[0].unchanged) == (0, 1)
    extra = "<p>Update: the council has now published the engineering report in full online.</p>"
    http_server.add("/story", body=article_page(extra=extra).encode(), headers=HTML)
    changed = ingest(settings, engine, urls=[url], only_given=True, now=T0 + timedelta(hours=2))
    assert (changed[0].new, changed[0].updated) == (0, 1)
    assert count(engine) == 1
    a = only(engine)
    assert "published the engineering report" in a.body
    assert a.first_seen == T0


def test_without_a_canonical_link_the_address_after_redirects_is_kept(
    http_server: Any, settings: Settings, engine: Engine
) -> None:
    http_server.add("/short", status=301, headers={"Location": "/2026/11/bridge?utm_medium=x"})
    http_server.add("/2026/11/bridge", body=article_page().encode(), headers=HTML)
    ingest(settings, engine, urls=[http_server.url("/short")], only_given=True, now=T0)
    assert only(engine).url == http_server.url("/2026/11/bridge")


def test_a_canonical_on_another_site_is_not_believed(
    http_server: Any, settings: Settings, engine: Engine
) -> None:
    """A page cannot claim another site's address (and with it that site's stored story)."""
    page = article_page('<link rel="canonical" href="https://news.example.com/bridge">')
    http_server.add("/copy", body=page.encode(), headers=HTML)
    [report] = ingest(settings, engine, urls=[http_server.url("/copy")], only_given=True, now=T0)
    a = only(engine)
    assert a.url == http_server.url("/copy")
    assert any("news.example.com" in n and "another site" in n for n in a.notes)
    assert any("another site" in w for w in report.warnings)


def test_an_editors_correction_wins_over_ingesting_the_url_again(
    http_server: Any, settings: Settings, engine: Engine
) -> None:
    http_server.add("/story", body=article_page().encode(), headers=HTML)
    url = http_server.url("/story")
    ingest(settings, engine, urls=[url], only_given=True, now=T0)
    a = only(engine)
    editorial.correct_article(
        settings, engine, a.id, [("title", "The bridge closes in spring")], by="Ann Editor"
    )
    extra = "<p>Update: the council has now published the engineering report in full online.</p>"
    http_server.add("/story", body=article_page(extra=extra).encode(), headers=HTML)
    [again] = ingest(settings, engine, urls=[url], only_given=True, now=T0 + timedelta(hours=1))
    assert again.updated == 1
    b = only(engine)
    assert b.title == "The bridge closes in spring"  # corrected, and still so
    assert "published the engineering report" in b.body  # the rest follows the page
    assert b.confidence["title"].value == 1.0
    assert b.confidence["title"].reason == "corrected by Ann Editor"


def test_a_text_dump_served_as_plain_text_is_read_like_a_seed_and_keeps_its_url(
    http_server: Any, settings: Settings, engine: Engine
) -> None:
    original = http_server.url("/news/bridge")
    dump = (
        f'+++\nurl = "{original}"\npublisher = "The Courier"\n+++\n'
        f"The Courier\n{HEADLINE}\nBy Ann Reporter\n18 November 2026\n\n"
        + "\n\n".join(p.removeprefix("<p>") for p in BODY.split("</p>") if p)
    )
    http_server.add("/dump.txt", body=dump.encode(), headers={"Content-Type": "text/plain"})
    ingest(settings, engine, urls=[http_server.url("/dump.txt")], only_given=True, now=T0)
    a = only(engine)
    assert (a.url, a.title, a.publisher) == (original, HEADLINE, "The Courier")
    assert a.confidence["publisher"].reason == "set in the seed's front matter"


# -- encodings ----------------------------------------------------------------------------------


def test_a_page_in_a_legacy_encoding_named_by_its_meta_charset_is_read(
    http_server: Any, settings: Settings, engine: Engine
) -> None:
    title = "Zürich öffnet die Brücke für Fußgänger"
    page = article_page(title=title, charset="iso-8859-1").encode("cp1252")
    http_server.add("/de", body=page, headers={"Content-Type": "text/html"})
    ingest(settings, engine, urls=[http_server.url("/de")], only_given=True, now=T0)
    a = only(engine)
    assert a.title == title
    assert any("decoded as cp1252" in n for n in a.notes)


def test_a_page_in_a_legacy_encoding_named_only_by_the_http_charset_is_read(
    http_server: Any, settings: Settings, engine: Engine
) -> None:
    title = "Łódź otwiera most dla pieszych i rowerzystów"
    page = article_page(title=title, charset="").replace("©", "(c)").encode("iso-8859-2")
    http_server.add("/pl", body=page, headers={"Content-Type": "text/html; charset=ISO-8859-2"})
    ingest(settings, engine, urls=[http_server.url("/pl")], only_given=True, now=T0)
    assert only(engine).title == title


# -- bad answers: a clear error naming the URL, nothing stored, nothing lost --------------------


def bad(http_server: Any, settings: Settings, engine: Engine, path: str) -> Any:
    """Ingest one good page, then ``path``: the report for ``path``, the good page intact."""
    http_server.add("/good", body=article_page().encode(), headers=HTML)
    ingest(settings, engine, urls=[http_server.url("/good")], only_given=True, now=T0)
    before = only(engine)
    url = http_server.url(path)
    [report] = ingest(settings, engine, urls=[url], only_given=True, now=T0 + timedelta(hours=1))
    assert report.source == f"page:{url}"
    assert report.new == report.updated == 0
    assert count(engine) == 1
    after = only(engine)
    assert (after.title, after.body, after.url) == (before.title, before.body, before.url)
    return report


def failed(report: Any) -> tuple[str, str]:
    assert (report.status, report.failed) == ("error", 1), report
    return report.error, report.hint


def test_a_pdf_by_its_content_type_is_refused(
    http_server: Any, settings: Settings, engine: Engine
) -> None:
    http_server.add(
        "/paper.pdf", body=b"%PDF-1.7\n...", headers={"Content-Type": "application/pdf"}
    )
    error, hint = failed(bad(http_server, settings, engine, "/paper.pdf"))
    assert "PDF" in error and "not a web page" in error
    assert "HTML page" in hint


def test_a_pdf_served_as_html_is_found_by_its_first_bytes(
    http_server: Any, settings: Settings, engine: Engine
) -> None:
    http_server.add("/report", body=b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", headers=HTML)
    error, _ = failed(bad(http_server, settings, engine, "/report"))
    assert "PDF" in error


def test_an_image_is_refused_by_content_type_and_by_its_first_bytes(
    http_server: Any, settings: Settings, engine: Engine
) -> None:
    http_server.add("/photo", body=b"\xff\xd8\xff\xe0 JFIF", headers={"Content-Type": "image/jpeg"})
    http_server.add("/pic", body=b"GIF-ish? no", headers={"Content-Type": "image/webp"})
    error, hint = failed(bad(http_server, settings, engine, "/photo"))
    assert "a JPEG image" in error and "picture" in hint
    http_server.add(
        "/blob", body=b"\x89PNG\r\n\x1a\n....", headers={"Content-Type": "application/octet-stream"}
    )
    blob, pic = ingest(
        settings, engine, urls=[http_server.url(p) for p in ("/blob", "/pic")], only_given=True
    )
    assert "a PNG image" in failed(blob)[0]
    assert "an image (image/webp)" in failed(pic)[0]


def test_a_page_over_the_size_cap_is_refused(tmp_path: Path, http_server: Any) -> None:
    settings = settings_for(tmp_path, max_bytes=2000)
    engine = open_engine(settings.database_url)
    http_server.add("/good", body=article_page().encode()[:1900], headers=HTML)
    http_server.add("/big", body=article_page().encode() * 3, headers=HTML)

    def no_length(request: Any, server: Any) -> None:  # streamed: cut off while it arrives
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        request.send_header("Connection", "close")
        request.end_headers()
        server.trickle(request, data=b"<p>" + b"word " * 400 + b"</p>", every=0.001, limit=5)

    http_server.route("/stream", no_length)
    reports = ingest(
        settings,
        engine,
        urls=[http_server.url("/big"), http_server.url("/stream")],
        only_given=True,
        now=T0,
    )
    big, stream = (failed(r) for r in reports)
    assert "over the 2,000-byte limit (fetch.max_bytes)" in big[0]
    assert "passed the 2,000-byte limit" in stream[0]
    assert "fetch.max_bytes" in big[1]
    assert count(engine) == 0


def test_a_redirect_loop_is_refused(http_server: Any, settings: Settings, engine: Engine) -> None:
    def loop(request: Any, server: Any) -> None:
        n = int(request.path.rsplit("=", 1)[1]) if "=" in request.path else 0
        server.send(request, 302, headers={"Location": f"/loop?n={n + 1}"})

    http_server.route("/loop", loop)
    error, hint = failed(bad(http_server, settings, engine, "/loop"))
    assert "more than 5 redirects" in error
    assert "browser" in hint


@pytest.mark.parametrize(
    ("status", "words", "advice"),
    [(404, "not found (HTTP 404)", "moved"), (500, "server error (HTTP 500)", "try again later")],
)
def test_http_errors_say_what_happened_and_what_to_do(
    http_server: Any, settings: Settings, engine: Engine, status: int, words: str, advice: str
) -> None:
    http_server.add("/gone", status=status, body=b"no", headers={"Content-Type": "text/plain"})
    error, hint = failed(bad(http_server, settings, engine, "/gone"))
    assert error == words
    assert advice in hint and "feed" not in hint
    with engine.connect() as conn:
        row = conn.execute(
            select(sources).where(sources.c.key == f"page:{http_server.url('/gone')}")
        ).first()
    assert row is not None and row.last_status == "error" and row.kind == "page"


def test_a_server_that_never_finishes_times_out(tmp_path: Path, http_server: Any) -> None:
    settings = settings_for(tmp_path, timeout=1)
    engine = open_engine(settings.database_url)

    def slow(request: Any, server: Any) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "text/html")
        request.send_header("Connection", "close")
        request.end_headers()
        server.trickle(request, data=b"<", every=0.1, limit=10)

    http_server.route("/slow", slow)
    [report] = ingest(settings, engine, urls=[http_server.url("/slow")], only_given=True, now=T0)
    error, hint = failed(report)
    assert "timed out" in error and "fetch.timeout" in hint


def test_a_feed_given_as_a_page_says_to_ingest_it_as_a_feed(
    http_server: Any, settings: Settings, engine: Engine
) -> None:
    rss = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'
    http_server.add("/feed", body=rss, headers={"Content-Type": "application/rss+xml"})
    error, hint = failed(bad(http_server, settings, engine, "/feed"))
    assert error == "is a feed, not a page"
    assert f"briefing ingest --feed {http_server.url('/feed')}" in hint


def test_a_page_with_no_article_is_a_warning_with_its_reason_and_stores_nothing(
    http_server: Any, settings: Settings, engine: Engine
) -> None:
    listing = "".join(f'<li><a href="/s/{i}">Story {i} about the town</a></li>' for i in range(30))
    home = f"<!doctype html><html><head><title>The Courier</title></head><body><ul>{listing}</ul></body></html>"
    http_server.add("/", body=home.encode(), headers=HTML)
    report = bad(http_server, settings, engine, "/")
    assert (report.status, report.failed) == ("warning", 0)
    assert report.warnings and report.warnings[0].startswith("no article")
    assert "the article's own address" in (report.hint or "")


def test_without_allow_private_addresses_a_url_on_this_machine_is_refused(
    tmp_path: Path, http_server: Any
) -> None:
    settings = load_settings(
        None, env={}, overrides={"storage": {"url": f"sqlite:///{tmp_path}/b.db"}}
    )
    engine = open_engine(settings.database_url)
    http_server.add("/story", body=article_page().encode(), headers=HTML)
    url = http_server.url("/story")
    [report] = ingest(settings, engine, urls=[url], only_given=True, now=T0)
    error, hint = failed(report)
    assert "127.0.0.1 is a loopback address" in error
    assert "fetch.allow_private_addresses" in hint
    assert http_server.requests_for("/story") == []  # refused before connecting
    assert count(engine) == 0


def test_a_url_that_is_not_http_is_refused_before_anything_is_fetched(
    settings: Settings, engine: Engine
) -> None:
    for url in ("file:///etc/passwd", "ftp://example.org/x", "javascript:alert(1)", "example.org"):
        result = add_page(settings, engine, url)
        assert result.article is None
        assert result.report.error == "is not an http:// or https:// URL", url


def test_a_url_httpx_cannot_parse_is_a_failed_page_not_an_exception(
    settings: Settings, engine: Engine
) -> None:
    """A control character in the address (typed or pasted on the desk: a 500 there)."""
    for url in ("http://example.org/a\x00b", "https://example.org/a\x7fb"):
        result = add_page(settings, engine, url)
        assert result.article is None
        assert result.report.status == "error" and result.report.error, url
        assert "URL" in result.report.error and result.report.hint, result.report
    assert count(engine) == 0


# -- the CLI ------------------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_cli_ingest_url_reports_like_a_seed_or_feed_and_in_json(
    http_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    http_server.add("/story", body=article_page().encode(), headers=HTML)
    http_server.add("/missing", status=404, body=b"", headers={"Content-Type": "text/plain"})
    monkeypatch.setenv("BRIEFING_FETCH_ALLOW_PRIVATE_ADDRESSES", "true")
    db = ["--db", f"sqlite:///{tmp_path}/c.db"]
    story, missing = http_server.url("/story"), http_server.url("/missing")
    code, out, err = run(capsys, *db, "ingest", "--url", story, "--url", missing)
    assert code == 0, err
    assert "page:" in out and "1" in out
    assert f"failed: page:{missing}: not found (HTTP 404)" in " ".join(err.split())
    code, out, _ = run(capsys, *db, "ingest", "--url", story, "--json")
    doc = json.loads(out)
    assert doc["sources"][0] == {
        "source": f"page:{story}",
        "kind": "page",
        "status": "ok",
        "new": 0,
        "updated": 0,
        "unchanged": 1,
        "duplicates": 0,
        "failed": 0,
        "error": None,
        "hint": None,
        "warnings": [],
    }
    code, _, err = run(capsys, *db, "ingest", "--url", missing)
    assert code == 1 and "every source failed" in err  # as for seeds and feeds
