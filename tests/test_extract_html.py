"""The HTML path's choices on small inline pages: which source wins each field and why,
the date rules, and bad input. The corpus figures are in test_extract_corpus.py."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from briefing.errors import SeedError
from briefing.sources.extract import MAX_HTML_BYTES, decode_html, extract_html
from briefing.sources.seed import SeedParser

TODAY = date(2026, 6, 1)
PARAS = [
    "The council voted on Tuesday to close the old bridge to cars from next spring, after an "
    "engineering report found that its steel supports had corroded far faster than expected.",
    "Residents who spoke at the meeting were divided: some said the closure would cut the town "
    "in two, while others argued that the bridge had been unsafe for years and should go.",
    "The mayor said a temporary footbridge would open within a month of the closure, and that "
    "the council would ask the regional government to pay for most of a new crossing.",
    "Work on the design is expected to start in the autumn, once the budget has been approved "
    "by the council and the public has had a chance to comment on the plans.",
]
BODY = "".join(f"<p>{p}</p>" for p in PARAS)
HEADLINE = "Council votes to close the old bridge"
MENU = "".join(f'<li><a href="/s{i}">Section {i}</a></li>' for i in range(12))


def page(head: str = "", header: str = "", after: str = "", top: str = "") -> bytes:
    """A page: the site's header and menu, the article (header, body, then ``after``), a footer."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"{head}</head><body><header>{top}<nav><ul>{MENU}</ul></nav></header>"
        f"<main><article><header>{header}</header><div class='content'>{BODY}</div>"
        f"{after}</article></main>"
        f"<footer><ul>{MENU}</ul><p>© 2026 Example Media LLC</p></footer></body></html>"
    ).encode()


def ld(obj: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj)}</script>'


def read(data: bytes, **kw: object) -> object:
    return extract_html(data, name="t.html", today=TODAY, **kw)  # type: ignore[arg-type]


# -- title ----------------------------------------------------------------------------------


def test_the_headline_is_the_heading_the_title_names_not_the_logo_h1() -> None:
    head = f"<title>{HEADLINE} | Town | The Courier</title>"
    top = '<h1><a href="/">Hi, welcome to The Courier</a></h1>'
    ex = extract_html(page(head, f"<h2>{HEADLINE}</h2>", top=top), name="t.html", today=TODAY)
    assert ex.title.value == HEADLINE
    assert ex.title.chosen is not None and ex.title.chosen.source == "<h2>"
    assert any("<title> names it too" in w for w in ex.title.chosen.why)


def test_the_title_tag_loses_the_sites_name_known_from_og_site_name() -> None:
    head = (
        f"<title>{HEADLINE} - Part 2 | Courier</title>"
        '<meta property="og:site_name" content="Courier.com">'
    )
    ex = extract_html(page(head), name="t.html", today=TODAY)
    assert ex.title.value == f"{HEADLINE} - Part 2"  # the " - " inside the headline stays


def test_a_site_name_glued_to_the_title_by_a_colon_is_stripped_but_a_headline_colon_stays() -> None:
    head = (
        "<title>Bridge closure: what it means:Courier Daily</title>"
        '<meta property="og:site_name" content="Courier Daily">'
    )
    ex = extract_html(page(head), name="t.html", today=TODAY)
    assert ex.title.value == "Bridge closure: what it means"


def test_the_visible_headline_wins_over_a_different_og_title() -> None:
    head = (
        '<meta property="og:title" content="Bridge to close, council says">'
        "<title>Bridge to close, council says</title>"
    )
    ex = extract_html(page(head, f"<h1>{HEADLINE}</h1>"), name="t.html", today=TODAY)
    assert ex.title.value == HEADLINE


def test_a_heading_that_is_the_sites_name_is_not_the_headline() -> None:
    head = f'<meta property="og:site_name" content="The Courier"><title>{HEADLINE}</title>'
    ex = extract_html(page(head, "<h1>The Courier</h1>"), name="t.html", today=TODAY)
    assert ex.title.value == HEADLINE
    assert any("site's name" in r for r in ex.title.refused)


# -- author ---------------------------------------------------------------------------------


def test_a_declared_author_the_page_never_shows_is_not_a_byline() -> None:
    head = ld({"@type": "NewsArticle", "headline": HEADLINE, "author": {"@type": "Person",
               "name": "Ghost Writer"}})  # fmt: skip
    ex = extract_html(page(head, f"<h1>{HEADLINE}</h1>"), name="t.html", today=TODAY)
    assert ex.author.value is None
    assert any("never shown" in r for r in ex.author.refused)


def test_an_organization_as_json_ld_author_is_not_a_person() -> None:
    head = ld({"@type": "Article", "headline": HEADLINE, "author": {"@type": "Organization",
               "name": "Contributors to Example projects"}})  # fmt: skip
    header = f"<h1>{HEADLINE}</h1><p>Contributors to Example projects</p>"
    ex = extract_html(page(head, header), name="t.html", today=TODAY)
    assert ex.author.value is None
    assert any("organization" in r for r in ex.author.refused)


def test_the_byline_element_gives_names_without_role_date_or_the_sites_name() -> None:
    head = (
        '<meta property="og:site_name" content="The Courier">'
        '<meta name="author" content="The Courier">'
    )
    header = (
        f"<h1>{HEADLINE}</h1><div class='byline'>By Jane Doe, Senior Writer · March 3, 2026</div>"
    )
    ex = extract_html(page(head, header), name="t.html", today=TODAY)
    assert ex.author.value == "Jane Doe"
    assert any("site's own name" in r for r in ex.author.refused)


def test_a_posted_on_date_by_name_line_gives_the_author_and_the_date() -> None:
    header = f"<h1>{HEADLINE}</h1><p><small>Posted on 6/13/2026 by @janedoe</small></p>"
    ex = extract_html(page("", header), name="t.html", today=date(2026, 7, 1))
    assert ex.author.value == "janedoe"
    assert ex.published.value == date(2026, 6, 13)


def test_authors_in_parentheses_with_a_with_word_are_joined() -> None:
    header = (
        f"<h1>{HEADLINE}</h1><p>Par <span itemprop='author'>Jean Martin (avec Marie Curie "
        "et Paul Dupont)</span></p>"
    )
    ex = extract_html(page("", header), name="t.html", today=TODAY)
    assert ex.author.value == "Jean Martin and Marie Curie and Paul Dupont"


def test_comment_authors_and_dates_are_not_the_articles() -> None:
    comments = (
        "<section class='comments'><div class='comment'><span class='comment-author'>"
        "Bob Smith</span> <time datetime='2026-03-09'>March 9, 2026</time>"
        "<p>I think this is a terrible decision and the council should reconsider.</p>"
        "</div></section>"
    )
    ex = extract_html(page("", f"<h1>{HEADLINE}</h1>", after=comments), name="t.html",
                      today=TODAY)  # fmt: skip
    assert ex.author.value is None and ex.published.value is None
    assert any("'comment" in r for r in ex.published.refused)


# -- date -----------------------------------------------------------------------------------


def test_a_published_time_with_an_offset_keeps_the_pages_own_day_and_modified_is_ignored() -> None:
    head = (
        '<meta property="article:published_time" content="2026-03-03T23:30:00-05:00">'
        '<meta property="article:modified_time" content="2026-04-01T10:00:00+00:00">'
    )
    ex = extract_html(page(head, f"<h1>{HEADLINE}</h1>"), name="t.html", today=TODAY)
    value = ex.published.value
    assert isinstance(value, datetime) and value.date() == date(2026, 3, 3)  # not 4 March (UTC)
    assert value.utcoffset() is not None and value.utcoffset().total_seconds() == -5 * 3600  # type: ignore[union-attr]


def test_a_utc_timestamp_a_day_off_the_shown_date_yields_to_the_pages_local_day() -> None:
    head = '<meta property="article:published_time" content="2026-03-12T23:00:00Z">'
    header = f"<h1>{HEADLINE}</h1><p class='meta'>Published 13 March 2026</p>"
    ex = extract_html(page(head, header), name="t.html", today=TODAY)
    assert ex.published.value == date(2026, 3, 13)
    assert any("UTC" in r for r in ex.published.refused)


def test_a_time_element_gives_the_day_it_shows_not_its_utc_attribute() -> None:
    header = (
        f"<h1>{HEADLINE}</h1><p>By Jane Doe, who has covered the council and its roads, "
        "bridges, housing and budgets for the Courier for more than twenty years, filed "
        "<time datetime='2026-03-07T02:30:00Z'>March 6, 2026</time></p>"
    )
    ex = extract_html(page("", header), name="t.html", today=TODAY)
    assert ex.published.text is not None and ex.published.text[:10] == "2026-03-06"


def test_a_utc_timestamp_keeps_its_day_when_the_page_shows_that_day_too() -> None:
    # a "today's date" strip above the headline must not move the article's UTC date
    head = '<meta property="article:published_time" content="2026-03-03T20:51:00Z">'
    top = "<div class='date'>4 March 2026</div>"
    header = f"<h1>{HEADLINE}</h1><p class='byline'>By Jane Doe, 3 March 2026</p>"
    ex = extract_html(page(head, top + header), name="t.html", today=TODAY)
    assert ex.published.text is not None and ex.published.text[:10] == "2026-03-03"


def test_a_date_shown_in_the_header_is_read_and_a_dateline_opening_the_body_too() -> None:
    ex = extract_html(page("", f"<h1>{HEADLINE}</h1><p>By Jane Doe</p><p>4 March 2026</p>"),
                      name="t.html", today=TODAY)  # fmt: skip
    assert ex.published.value == date(2026, 3, 4)
    dateline = page("", f"<h1>{HEADLINE}</h1>").replace(
        b"<p>The council voted", b"<p>March 5, 2026 -- The council voted"
    )
    ex = extract_html(dateline, name="t.html", today=TODAY)
    assert ex.published.value == date(2026, 3, 5)


def test_dates_in_an_infobox_a_related_list_the_footer_or_the_future_are_refused() -> None:
    infobox = (
        "<table class='box'><tr><th>Founded</th><td>February 28, 1998</td></tr>"
        "<tr><th>Owner</th><td>The town</td></tr></table>"
    )
    related = (
        "<div class='related-stories'><h3>More</h3><ul><li><a href='/x'>Tolls rise</a> "
        "<span class='date'>February 2, 2026</span></li></ul></div>"
    )
    head = '<meta property="article:published_time" content="2031-01-01">'
    data = page(head, f"<h1>{HEADLINE}</h1>{infobox}", after=related).replace(
        b"<p>\xc2\xa9 2026", b"<p>Updated January 9, 2026 \xc2\xa9 2026"
    )
    ex = extract_html(data, name="t.html", today=TODAY)
    assert ex.published.value is None
    reasons = " ".join(ex.published.refused)
    assert "data table" in reasons and "related" in reasons and "future" in reasons


def test_dates_of_a_list_of_links_are_the_listed_pages_not_a_lone_permalink() -> None:
    archive = (
        "<ul><li><a href='/edition/2026-04-23'>April 23, 2026</a></li>"
        "<li><a href='/edition/2026-04-16'>April 16, 2026</a></li></ul>"
    )
    header = f"<h1>{HEADLINE}</h1>{archive}"
    ex = extract_html(page("", header), name="t.html", today=TODAY)
    assert ex.published.value is None
    assert any("several dated items" in r for r in ex.published.refused)
    own = '<link rel="canonical" href="https://courier.example/2026/bridge">'
    permalink = (
        f"<h1>{HEADLINE}</h1><p><a href='https://courier.example/2026/bridge'>May 2, 2026</a></p>"
    )
    ex = extract_html(page(own, permalink + archive), name="t.html", today=TODAY)
    assert ex.published.value == date(2026, 5, 2)
    assert any("several dated items" in r for r in ex.published.refused)


def test_tomorrows_date_is_a_page_east_of_here_but_later_is_the_future() -> None:
    for day, expected in (("2026-06-02", date(2026, 6, 2)), ("2026-06-03", None)):
        head = f'<meta property="article:published_time" content="{day}">'
        ex = extract_html(page(head, f"<h1>{HEADLINE}</h1>"), name="t.html", today=TODAY)
        assert ex.published.value == expected


def test_htmldate_alone_never_dates_a_page() -> None:
    # a date only in the body's text: htmldate or trafilatura may guess it, we do not
    data = page("", f"<h1>{HEADLINE}</h1>").replace(
        b"from next spring", b"from 1 April 2027, as agreed on 2 February 2026,"
    )
    ex = extract_html(data, name="t.html", today=TODAY)
    assert ex.published.value is None


# -- publisher ------------------------------------------------------------------------------


def test_the_articles_json_ld_publisher_wins_over_og_site_name_and_cdata_is_read() -> None:
    script = (
        '<script type="application/ld+json">//<![CDATA[\n'
        + json.dumps(
            {
                "@type": "BlogPosting",
                "headline": HEADLINE,
                "publisher": {"@type": "Organization", "name": "Town Engineering"},
            }
        )
        + "\n//]]></script>"
    )
    head = '<meta property="og:site_name" content="Blogplatform">' + script
    ex = extract_html(page(head, f"<h1>{HEADLINE}</h1>"), name="t.html", today=TODAY)
    assert ex.publisher.value == "Town Engineering"


def test_og_site_name_is_cleaned_of_a_tagline_or_byline_and_a_url_is_refused() -> None:
    head = (
        '<meta property="og:site_name" content="Courier.cz - Víte, co se děje">'
        f"<title>{HEADLINE} - Courier.cz</title>"
    )
    ex = extract_html(page(head, f"<h1>{HEADLINE}</h1>"), name="t.html", today=TODAY)
    assert ex.publisher.value == "Courier.cz"
    head = '<meta property="og:site_name" content="http://www.courier.example">'
    ex = extract_html(page(head, f"<h1>{HEADLINE}</h1>"), name="t.html", today=TODAY)
    assert ex.publisher.value is None
    assert any("URL" in r for r in ex.publisher.refused)


def test_a_copyright_holder_is_not_the_publisher_when_the_page_names_its_masthead() -> None:
    head = (
        '<meta property="og:site_name" content="The Riverton Courier">'
        '<meta name="copyright" content="Hearst Communications, Inc.">'
    )
    ex = extract_html(page(head, f"<h1>{HEADLINE}</h1>"), name="t.html", today=TODAY)
    assert ex.publisher.value == "The Riverton Courier"


def test_a_guess_from_the_title_alone_is_not_a_publisher() -> None:
    ex = extract_html(page(f"<title>{HEADLINE} | Some Blog</title>", f"<h1>{HEADLINE}</h1>"),
                      name="t.html", today=TODAY)  # fmt: skip
    assert ex.publisher.value is None


# -- body -----------------------------------------------------------------------------------


def test_the_body_loses_the_headline_byline_and_date_lines_it_opens_with() -> None:
    header = f"<h1>{HEADLINE}</h1><p>By Jane Doe</p><p>March 3, 2026</p>"
    ex = extract_html(page("", header), name="t.html", today=TODAY)
    assert ex.body.startswith("The council voted")
    assert ex.author.value == "Jane Doe" and ex.published.value == date(2026, 3, 3)


def test_a_teaser_trafilatura_put_before_the_story_is_cut_from_the_body() -> None:
    teaser = (
        "<p>Which town has the oldest bridge in the region? We have the answer, and a few "
        "surprises about the people who built it long ago.</p>"
    )
    data = page(f"<title>{HEADLINE}</title>", f"<h2>{HEADLINE}</h2>").replace(
        b"<main><article>", b"<main><article>" + teaser.encode()
    )
    ex = extract_html(data, name="t.html", today=TODAY)
    assert ex.body.startswith("The council voted") and "oldest bridge" not in ex.body


def test_a_japanese_article_is_an_article_and_its_date_is_read() -> None:
    para = (
        "ネット社会の現代でも、多くの人に読まれている新聞。気になった記事を気軽にデジタル化できるペンが登場した。"
        * 3
    )
    raw = (
        '<html lang="ja"><head><meta charset="utf-8"><title>新聞をスクラップできるペン | 通信</title>'
        "</head><body><article><h1>新聞をスクラップできるペン</h1><p>2019年04月21日 11:51 公開</p>"
        f"<p>{para}</p><p>{para}</p></article></body></html>"
    )
    ex = extract_html(raw.encode(), name="ja.html", today=TODAY)
    assert ex.is_article and ex.title.value == "新聞をスクラップできるペン"
    assert (
        isinstance(ex.published.value, date) and ex.published.value.isoformat()[:10] == "2019-04-21"
    )


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b" \r\n\t", "is empty"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 binary", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image"),
        (b"GIF89a\x01\x00\x01\x00", "a GIF image"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "WebP"),
        (b"PK\x03\x04\x14\x00", "ZIP"),
        (b"<html>\x00\x00\x00\x01binary", "binary"),
        (b"<p>" + b"x" * (MAX_HTML_BYTES + 1), "over the"),
    ],
    ids=["empty", "blank", "pdf", "png", "jpeg", "gif", "webp", "zip", "binary", "oversize"],
)
def test_bad_html_input_is_an_error_naming_the_file(data: bytes, message: str) -> None:
    with pytest.raises(SeedError) as info:
        extract_html(data, name="seeds/bad.html")
    assert "seeds/bad.html" in str(info.value) and message in str(info.value)
    assert info.value.hint


def test_an_image_saved_as_an_html_seed_fails_that_seed_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "photo.html"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64)
    with pytest.raises(SeedError) as info:
        SeedParser().parse_file(path, source="seed:photo.html")
    assert "photo.html" in str(info.value) and "JPEG" in str(info.value)


@pytest.mark.parametrize(
    ("meta", "codec", "word"),
    [
        ('<meta charset="windows-1252">', "cp1252", "Café crème à l'école"),
        (
            '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2">',
            "iso8859-2",
            "Příliš žluťoučký kůň",
        ),
        (
            '<meta charset="ISO-8859-1">',
            "cp1252",
            "Œuvre déjà vue",
        ),  # browsers read latin-1 as cp1252
    ],
    ids=["cp1252", "http-equiv-latin2", "latin1-as-cp1252"],
)
def test_legacy_encodings_are_read_through_the_meta_charset(
    meta: str, codec: str, word: str
) -> None:
    raw = f"<!doctype html><html><head>{meta}<title>{word}</title></head><body><h1>{word}</h1>{BODY}</body></html>"
    data = raw.encode(codec)
    text, encoding = decode_html(data, "old.html")
    assert word in text and encoding == codec
    ex = extract_html(data, name="old.html", today=TODAY)
    assert ex.title.value == word
    assert any(codec in n for n in ex.notes)


def test_a_page_whose_bytes_are_utf8_is_read_as_utf8_whatever_its_meta_charset_says() -> None:
    word = "So schön winterlich – wie lange nicht"
    raw = f'<html><head><meta charset="iso-8859-1"><title>{word}</title></head><body><h1>{word}</h1>{BODY}</body></html>'
    text, encoding = decode_html(raw.encode("utf-8"), "mislabelled.html")
    assert word in text and encoding == "utf_8"


def test_a_page_declared_utf8_with_a_stray_legacy_byte_stays_utf8() -> None:
    raw = f'<html><head><meta charset="utf-8"><title>Schön</title></head><body><h1>Schön</h1>{BODY}</body></html>'
    data = raw.encode("utf-8").replace(b"Work on", b"Work \xfcber on")  # one cp1252 byte
    text, encoding = decode_html(data, "mixed.html")
    assert "Schön" in text and encoding == "utf_8"  # as browsers do: the label, one U+FFFD


def test_a_utf16_page_with_a_bom_is_read() -> None:
    raw = (
        f"<html><head><title>{HEADLINE}</title></head><body><h1>{HEADLINE}</h1>{BODY}</body></html>"
    )
    ex = extract_html(raw.encode("utf-16"), name="u16.html", today=TODAY)
    assert ex.title.value == HEADLINE and ex.body.startswith("The council voted")
