"""Feeds: parse_feed field by field on hand-written fixtures, then through pipeline.ingest
into a real SQLite file (idempotence, updates, cross-feed duplicates, failures)."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from briefing.config import load_settings
from briefing.errors import FeedError
from briefing.models import Article
from briefing.services import ingest as pipeline
from briefing.sources.feed import parse_feed
from briefing.store import articles as store
from briefing.store.db import open_engine
from briefing.store.schema import articles as articles_table

FEEDS = Path(__file__).parent / "data" / "feeds"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
# Where the fixtures are pretended to have been fetched from: a different host from the
# sites they describe, so resolving against the wrong base shows.
FETCHED_FROM = "https://feeds.cdn-example.com/x/"


def parse(
    name: str, *, url: str | None = None, content_type: str | None = None
) -> tuple[list[Article], list[str]]:
    return parse_feed(
        (FEEDS / name).read_bytes(),
        source=f"feed:{name}",
        url=url or FETCHED_FROM + name,
        content_type=content_type,
        now=NOW,
    )


def by_title(items: list[Article]) -> dict[str, Article]:
    return {a.title: a for a in items}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- formats ---------------------------------------------------------------------------------


def test_rss2_fields() -> None:
    items, _ = parse("rss2.xml")
    assert [a.title for a in items] == [
        "Rates rise & bonds slide",
        "Relative link story",
        "Undated story",
    ]
    a = items[0]
    assert a.source_kind == "feed"
    assert a.source == "feed:rss2.xml"
    assert a.guid == "rates-2024-03"
    assert a.url == "https://news.example.com/2024/03/rates?id=42"  # utm_* gone, id kept
    assert a.publisher == "Example & Co News"
    assert a.author == "Jane Doe"  # from "jane@example.org (Jane Doe)"
    assert a.published == utc(2024, 3, 5, 9, 30)
    assert a.updated is None
    assert a.labels == ("Economy", "Markets")
    assert a.section == "Economy"
    assert a.body == "Central banks raised rates on Tuesday.\n\nBond prices slid as a result."
    assert (
        a.body_html
        == "<p>Central banks raised rates on Tuesday.</p><p>Bond prices slid as a result.</p>"
    )
    assert a.summary == "Central banks raised rates on Tuesday."
    assert a.ai_generated is False and a.ai_disclosure is None
    undated = items[2]
    assert undated.published is None and undated.updated is None


def test_rss2_ids_are_stable_and_distinct() -> None:
    first, _ = parse("rss2.xml")
    again, _ = parse("rss2.xml", url="https://elsewhere.example.com/feed")
    assert [a.id for a in first] == [a.id for a in again]
    assert len({a.id for a in first}) == 3


def test_relative_links_resolve_against_the_channel_link() -> None:
    items, _ = parse("rss2.xml")
    a = by_title(items)["Relative link story"]
    # <link>2024/03/relative-story?utm_content=abc&page=2</link>, channel link
    # https://news.example.com/section/, fetched from another host.
    assert a.url == "https://news.example.com/section/2024/03/relative-story?page=2"
    assert 'href="https://news.example.com/about/team"' in (a.body_html or "")


def test_atom_fields_and_xml_base() -> None:
    items, _ = parse("atom.xml")
    assert len(items) == 2
    a, b = items
    assert a.title == "Tom & Jerry return"
    assert a.publisher == "The Example Journal"
    assert a.guid == "tag:blog.example.net,2024:entry-1"
    assert a.url == "https://blog.example.net/journal/posts/tom-and-jerry.html?keep=1"
    assert a.author == "Sam Writer"
    assert a.published == utc(2024, 3, 7, 6, 15)  # 08:15+02:00
    assert a.updated == utc(2024, 3, 8, 12, 0)
    assert a.summary == "The cartoon pair are back."
    assert a.body == "The cartoon pair are back, says the studio."
    assert 'href="https://blog.example.net/about.html"' in (a.body_html or "")
    # An entry-level xml:base overrides the feed's.
    assert b.url == "https://other.example.net/base/item/2"
    assert b.body == "XHTML body for entry two."
    assert b.body_html == "<p>XHTML body for entry two.</p>"
    assert b.published == utc(2024, 3, 6, 7, 0)  # only <updated>: used as the date
    assert b.updated is None  # not repeated when it equals published
    assert b.author is None


def test_rss1_rdf_fields() -> None:
    items, _ = parse("rss1.rdf")
    assert len(items) == 1
    a = items[0]
    assert a.title == "RDF item one"
    assert a.url == "https://rdf.example.org/items/1"
    assert a.publisher == "RDF Site Summary Example"
    assert a.author == "Ada Lovelace"
    assert a.published == utc(2024, 3, 1, 4, 45)  # dc:date 2024-02-29T23:45-05:00
    assert a.body == "The first RDF item, described briefly."


def test_rss091_with_doctype_and_latin1() -> None:
    items, _ = parse("rss091.xml")
    assert len(items) == 1
    a = items[0]
    assert a.title == "Café opens downtown"
    assert a.body == "A new café opened on Main Street."
    assert a.url == "http://oldschool.example.com/cafe.html"
    assert a.publisher == "Old School Weekly"
    assert a.guid is None
    assert a.published is None


def test_feed_name_overrides_publisher() -> None:
    items, _ = parse_feed(
        (FEEDS / "rss091.xml").read_bytes(),
        source="feed:x",
        url="https://x.example/",
        name="My Name",
        now=NOW,
    )
    assert items[0].publisher == "My Name"


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Eastern zone", utc(2024, 3, 5, 14, 30)),  # 09:30 EST
        ("Half hour offset", utc(2024, 3, 5, 4, 0)),  # 09:30 +0530
        ("Pacific zone without weekday", utc(2024, 3, 6, 6, 10)),  # 23:10 PDT
        ("Garbage date", None),
        ("Empty date", None),
        ("No date at all", None),
        ("Far future date", None),  # 2100: absurd, dropped rather than kept
    ],
)
def test_dates(title: str, expected: datetime | None) -> None:
    items, _ = parse("dates.xml")
    a = by_title(items)[title]
    assert a.published == expected
    if expected is not None:
        assert a.published.utcoffset().total_seconds() == 0
    assert a.updated is None


def test_date_only_string_stays_a_date() -> None:
    """Article.published is "a date when the source gives only a day" - no invented midnight."""
    items, _ = parse("dates.xml")
    a = by_title(items)["Date only"]
    assert a.published == date(2024, 3, 5)
    assert not isinstance(a.published, datetime)


# --- markup ----------------------------------------------------------------------------------


def test_html_in_titles_is_stripped_and_decoded() -> None:
    titles = [a.title for name in ("rss2.xml", "atom.xml", "hostile.xml") for a in parse(name)[0]]
    for title in titles:
        assert "<" not in title and ">" not in title, title
        assert not re.search(r"&(?:amp|lt|gt|quot|#\d+);", title), title
    assert "Rates rise & bonds slide" in titles
    assert "Tom & Jerry return" in titles


_ON_ATTR = re.compile(r"\son[a-z]+\s*=", re.I)


def _assert_clean(a: Article, *markers: str) -> None:
    html = a.body_html or ""
    lowered = html.lower()
    for bad in (
        "<script",
        "</script",
        "<style",
        "<iframe",
        "<img",
        "<!--",
        "-->",
        "javascript:",
        "style=",
    ):
        assert bad not in lowered, (bad, html)
    assert not _ON_ATTR.search(html), html
    for marker in markers:
        assert marker not in html, (marker, html)
        assert marker not in a.body, (marker, a.body)
        assert marker not in a.summary, (marker, a.summary)
    for text in (a.body, a.summary):
        assert "<" not in text and ">" not in text, text
        assert "&lt;" not in text and "&amp;" not in text, text


def test_scripts_handlers_javascript_links_and_style_do_not_survive() -> None:
    items, _ = parse("hostile.xml")
    a, b = items
    _assert_clean(
        a, "PWNED-SCRIPT", "PWNED-STYLE", "display: none", "PWNED-JS", "PWNED-COMMENT", "steal"
    )
    assert a.body == (
        "Opening paragraph.\n\na javascript link and a safe link.\n\n"
        "styled text\n\nClosing bold paragraph."
    )
    assert 'href="https://ok.example.com/page"' in (a.body_html or "")  # safe links are kept
    assert "<b>bold</b>" in (a.body_html or "")  # harmless markup is kept
    _assert_clean(b, "PWNED-DESC-COMMENT", "PWNED-DESC-SCRIPT", "steal")
    assert b.body == "Visible description.\n\nSecond line."


def test_base64_atom_content_with_script_is_sanitized() -> None:
    items, _ = parse("atom_base64.xml")
    (a,) = items
    _assert_clean(a, "PWNED-B64", "alert", "steal")
    assert a.body == "Visible base64 paragraph.\n\nSecond paragraph."
    assert "<p>Visible base64 paragraph.</p>" in (a.body_html or "")


def test_html_comments_do_not_survive() -> None:
    for name in ("hostile.xml", "atom_base64.xml"):
        for a in parse(name)[0]:
            assert "<!--" not in (a.body_html or "") and "COMMENT" not in (a.body_html or "")
            assert "COMMENT" not in a.body


# --- duplicates, tracking, AI, authors -------------------------------------------------------


def test_duplicate_guids_in_one_feed_kept_once_with_warning() -> None:
    items, warnings = parse("duplicate_guids.xml")
    assert [a.title for a in items] == ["First copy", "Distinct story"]
    assert len({a.id for a in items}) == 2
    repeats = [w for w in warnings if "repeats" in w]
    assert len(repeats) == 1 and "entry 2" in repeats[0]


def test_tracking_parameters_removed_from_links() -> None:
    urls = [a.url for name in ("rss2.xml", "atom.xml") for a in parse(name)[0]]
    assert urls and all(u for u in urls)
    for u in urls:
        assert "utm_" not in u, u
    assert "https://news.example.com/2024/03/rates?id=42" in urls
    assert "https://blog.example.net/journal/posts/tom-and-jerry.html?keep=1" in urls


def test_ai_generated_item_carries_its_own_disclosure() -> None:
    items, _ = parse("ai_disclosure.xml")
    ai, human = items
    assert ai.ai_generated is True
    assert ai.ai_disclosure == "This article was written by an AI model."
    assert ai.author == "Jane Doe"
    assert human.ai_generated is False  # about AI, and says it is not AI-written
    assert human.ai_disclosure is None
    assert human.author == "Reporter Name"


# --- warnings --------------------------------------------------------------------------------


def test_malformed_feed_is_read_leniently_with_a_warning() -> None:
    broken = (FEEDS / "rss2.xml").read_bytes().replace(b"</channel>", b"<unclosed></channel>")
    items, warnings = parse_feed(
        broken, source="feed:b", url=FETCHED_FROM, content_type="application/rss+xml", now=NOW
    )
    assert len(items) == 3
    assert any("not well-formed" in w for w in warnings)


def test_well_formed_feed_with_xml_content_type_has_no_warnings() -> None:
    _, warnings = parse("atom.xml", content_type="application/atom+xml")
    assert warnings == []


def test_well_formed_feed_without_content_type_is_not_called_malformed() -> None:
    """Local files (and servers that send no Content-Type) give content_type=None; the feed is
    still well-formed and must not be reported as "not well-formed"."""
    _, warnings = parse("atom.xml", content_type=None)
    assert not any("not well-formed" in w for w in warnings), warnings


# --- not feeds, hostile XML ------------------------------------------------------------------


def test_html_page_is_refused_with_the_advertised_feed_as_hint() -> None:
    with pytest.raises(FeedError) as info:
        parse("page_with_alternate.html", url="https://news.example.com/home")
    exc = info.value
    assert exc.source == "feed:page_with_alternate.html"
    assert str(exc).startswith("feed:page_with_alternate.html: ")
    assert "HTML" in exc.reason
    assert "https://news.example.com/feeds/all.rss" in exc.hint


def test_html_page_without_alternate_gets_a_generic_hint() -> None:
    with pytest.raises(FeedError) as info:
        parse("plain_page.html", url="https://news.example.com/home")
    assert info.value.source == "feed:plain_page.html"
    assert "HTML" in info.value.reason
    assert "feed's own URL" in info.value.hint
    assert "http" not in info.value.hint


@pytest.mark.parametrize("content", [b"", b"   \n", b"just some words, not xml"])
def test_empty_or_non_xml_is_a_feed_error(content: bytes) -> None:
    with pytest.raises(FeedError) as info:
        parse_feed(content, source="feed:junk", url=FETCHED_FROM, now=NOW)
    assert info.value.source == "feed:junk"


def test_billion_laughs_is_refused_quickly() -> None:
    start = time.monotonic()
    with pytest.raises(FeedError) as info:
        parse("billion_laughs.xml")
    assert time.monotonic() - start < 1.0
    assert info.value.source == "feed:billion_laughs.xml"
    assert "entit" in info.value.reason.lower()
    assert "refused" in info.value.reason


def _bomb_variants() -> dict[str, bytes]:
    base = (FEEDS / "billion_laughs.xml").read_bytes()
    decl, rest = base.split(b"\n", 1)
    return {
        # the <!ENTITY declarations pushed past the first 64 KiB
        "padded": decl + b"\n<!--" + b" " * 70_000 + b"-->\n" + rest,
        # the declarations in UTF-16, invisible to a byte search for b"<!ENTITY"
        "utf16": base.decode().replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16"),
    }


@pytest.mark.parametrize("variant", ["padded", "utf16"])
def test_disguised_entity_bombs_never_expand(variant: str) -> None:
    content = _bomb_variants()[variant]
    start = time.monotonic()
    try:
        items, _ = parse_feed(content, source="feed:bomb", url=FETCHED_FROM, now=NOW)
    except FeedError:
        items = []
    assert time.monotonic() - start < 2.0
    for a in items:
        assert len(a.title) < 200 and len(a.body) < 200 and "lollol" not in a.title + a.body


# --- through pipeline.ingest into SQLite -----------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(None, env={}, overrides={"storage": {"url": f"sqlite:///{tmp_path}/t.db"}})


@pytest.fixture
def engine(settings):
    eng = open_engine(settings.database_url)
    yield eng
    eng.dispose()


def ingest(settings, engine, *feeds: Path | str):
    reports = pipeline.ingest(
        settings, engine, feeds=[str(f) for f in feeds], only_given=True, now=NOW
    )
    return {r.source: r for r in reports}


def key(path: Path | str) -> str:
    return "feed:" + pipeline.feed_location(str(path))


def count_rows(engine, source: str | None = None) -> int:
    query = select(func.count()).select_from(articles_table)
    if source is not None:
        query = query.where(articles_table.c.source == source)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


RSS_ITEM = """<item><title>{title}</title><link>{link}</link><guid isPermaLink="false">{guid}</guid>
<pubDate>Tue, 05 Mar 2024 09:30:00 GMT</pubDate><description>{text}</description></item>"""


def write_feed(
    path: Path,
    *items: dict[str, str],
    title: str = "Tmp Feed",
    link: str = "https://tmp.example.com/",
) -> Path:
    body = "\n".join(RSS_ITEM.format(**item) for item in items)
    path.write_text(
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>{link}</link><description>d</description>{body}</channel></rss>",
        encoding="utf-8",
    )
    return path


def item(n: int, text: str | None = None, host: str = "tmp.example.com") -> dict[str, str]:
    return {
        "title": f"Story number {n}",
        "link": f"https://{host}/story/{n}",
        "guid": f"g-{n}",
        "text": text or f"The text of story number {n}, which is about things.",
    }


def test_ingest_twice_second_run_is_all_unchanged(settings, engine) -> None:
    feeds = [FEEDS / "rss2.xml", FEEDS / "atom.xml", FEEDS / "duplicate_guids.xml"]
    first = ingest(settings, engine, *feeds)
    assert [(first[key(f)].status, first[key(f)].new) for f in feeds] == [
        ("ok", 3),
        ("ok", 2),
        ("ok", 2),
    ]
    assert count_rows(engine) == 7
    # the repeated guid is stored once and the run says so
    dup = first[key(FEEDS / "duplicate_guids.xml")]
    assert any("repeats" in w for w in dup.warnings)
    second = ingest(settings, engine, *feeds)
    for f, n in zip(feeds, (3, 2, 2), strict=True):
        r = second[key(f)]
        assert (r.status, r.new, r.updated, r.unchanged, r.duplicates, r.failed) == (
            "ok",
            0,
            0,
            n,
            0,
            0,
        )
    assert count_rows(engine) == 7


def test_stored_fields_round_trip(settings, engine) -> None:
    ingest(settings, engine, FEEDS / "ai_disclosure.xml", FEEDS / "rss2.xml")
    with engine.connect() as conn:
        stored = {a.title: a for a in store.list_articles(conn)}
    ai = stored["Quarterly earnings round-up"]
    assert (
        ai.ai_generated is True and ai.ai_disclosure == "This article was written by an AI model."
    )
    assert ai.author == "Jane Doe"
    rates = stored["Rates rise & bonds slide"]
    assert rates.url == "https://news.example.com/2024/03/rates?id=42"
    assert rates.published == utc(2024, 3, 5, 9, 30)
    assert rates.labels == ("Economy", "Markets")
    assert stored["Undated story"].published is None


def test_changed_entry_is_updated_not_added(settings, engine, tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "f.xml", item(1), item(2))
    r1 = ingest(settings, engine, feed)[key(feed)]
    assert (r1.new, r1.updated) == (2, 0)
    with engine.connect() as conn:
        before = {a.guid: a for a in store.list_articles(conn)}
    write_feed(
        tmp_path / "f.xml", item(1, text="A corrected text for story one, with new facts."), item(2)
    )
    r2 = ingest(settings, engine, feed)[key(feed)]
    assert (r2.new, r2.updated, r2.unchanged, r2.duplicates) == (0, 1, 1, 0)
    assert count_rows(engine) == 2
    with engine.connect() as conn:
        after = {a.guid: a for a in store.list_articles(conn)}
    assert after["g-1"].body == "A corrected text for story one, with new facts."
    assert after["g-1"].id == before["g-1"].id
    assert after["g-1"].first_seen == before["g-1"].first_seen
    assert after["g-2"].body == before["g-2"].body


def test_same_story_under_two_urls_in_two_feeds_is_linked_as_duplicate(
    settings, engine, tmp_path: Path
) -> None:
    text = "Parliament passed the budget late on Thursday after a long debate."
    a = write_feed(
        tmp_path / "a.xml",
        {
            "title": "Budget passes",
            "link": "https://a.example.com/budget?utm_source=a",
            "guid": "a-1",
            "text": text,
        },
        item(5),
    )
    b = write_feed(
        tmp_path / "b.xml",
        {
            "title": "Budget passes",
            "link": "https://b.example.org/syndicated/budget",
            "guid": "b-77",
            "text": text,
        },
        title="Other",
        link="https://b.example.org/",
    )
    reports = ingest(settings, engine, a, b)
    ra, rb = reports[key(a)], reports[key(b)]
    assert (ra.new, ra.duplicates) == (2, 0)
    assert (rb.new, rb.duplicates) == (0, 1)
    assert count_rows(engine) == 3
    with engine.connect() as conn:
        shown = store.list_articles(conn)
        everything = store.list_articles(conn, include_duplicates=True)
    original = next(x for x in everything if x.url == "https://a.example.com/budget")
    copy = next(x for x in everything if x.url == "https://b.example.org/syndicated/budget")
    assert original.duplicate_of is None
    assert copy.duplicate_of == original.id
    assert copy.id not in {x.id for x in shown}
    # a second run does not turn the duplicate into an update or a new story
    again = ingest(settings, engine, a, b)
    assert (again[key(b)].new, again[key(b)].duplicates, again[key(b)].unchanged) == (0, 0, 1)


def test_html_page_given_as_feed_fails_with_hint_naming_the_feed(
    settings, engine, http_server
) -> None:
    http_server.add(
        "/home",
        body=(FEEDS / "page_with_alternate.html").read_bytes(),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    url = http_server.url("/home")
    r = ingest(settings, engine, url)["feed:" + url]
    assert r.status == "error" and r.failed == 1
    assert "HTML" in (r.error or "")
    assert http_server.url("/feeds/all.rss") in (r.hint or "")
    assert count_rows(engine) == 0


def test_entity_bomb_through_ingest_is_refused_quickly(settings, engine) -> None:
    start = time.monotonic()
    r = ingest(settings, engine, FEEDS / "billion_laughs.xml")[key(FEEDS / "billion_laughs.xml")]
    assert time.monotonic() - start < 3.0
    assert r.status == "error"
    assert "entities" in (r.error or "")
    assert count_rows(engine) == 0


def test_failing_feed_beside_a_good_one(settings, engine, tmp_path: Path) -> None:
    good = write_feed(tmp_path / "good.xml", item(1), item(2))
    flaky = write_feed(
        tmp_path / "flaky.xml",
        item(10, host="flaky.example.com"),
        title="Flaky",
        link="https://flaky.example.com/",
    )
    first = ingest(settings, engine, good, flaky)
    assert first[key(good)].new == 2 and first[key(flaky)].new == 1
    # the flaky feed now serves an HTML error page; the good one has a new story
    flaky.write_bytes((FEEDS / "plain_page.html").read_bytes())
    write_feed(tmp_path / "good.xml", item(1), item(2), item(3))
    missing = tmp_path / "missing.xml"
    second = ingest(settings, engine, flaky, missing, good)
    rg, rf, rm = second[key(good)], second[key(flaky)], second[key(missing)]
    assert (rg.status, rg.new, rg.unchanged) == ("ok", 1, 2)
    assert (rf.status, rf.failed) == ("error", 1) and "HTML" in (rf.error or "")
    assert (rm.status, rm.failed) == ("error", 1) and "no such file" in (rm.error or "")
    assert count_rows(engine, key(good)) == 3
    assert count_rows(engine, key(flaky)) == 1  # what it gave earlier is still there
    with engine.connect() as conn:
        src = store.get_source(conn, key(flaky))
    assert src is not None
    assert (
        src["last_status"] == "error"
        and src["failures"] == 1
        and "HTML" in (src["last_error"] or "")
    )
