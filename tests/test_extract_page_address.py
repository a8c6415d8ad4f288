"""The HTML path's page address and encoding when the page comes from a URL: a relative
``link rel=canonical`` is read against the address the page was fetched from, and the
HTTP ``charset`` comes before the page's own ``<meta charset>`` (as in browsers)."""

from __future__ import annotations

from datetime import date

from test_extract_html import HEADLINE, page

from briefing.sources.extract import decode_html, extract_html

TODAY = date(2026, 6, 1)
H1 = f"<h1>{HEADLINE}</h1>"


def test_a_relative_canonical_link_is_read_against_the_pages_address() -> None:
    data = page('<link rel="canonical" href="/news/bridge">', H1)
    ex = extract_html(data, url="https://example.org/amp/x?utm_source=a", name="u", today=TODAY)
    assert ex.url == "https://example.org/news/bridge"


def test_without_canonical_or_og_url_the_address_is_the_one_fetched_less_trackers() -> None:
    ex = extract_html(
        page("", H1), url="https://example.org/x?utm_source=a&id=3", name="u", today=TODAY
    )
    assert ex.url == "https://example.org/x?id=3"


def test_the_http_charset_comes_before_the_meta_charset() -> None:
    # the page says UTF-8, its server (rightly) says windows-1250: the server wins
    text = "<html><head><meta charset='utf-8'><title>Café</title></head><body>Čeština</body></html>"
    assert decode_html(text.encode("cp1250"), "u", charset="windows-1250") == (text, "cp1250")


def test_an_http_charset_that_is_not_an_encoding_falls_back_to_the_meta_charset() -> None:
    data = "<meta charset='iso-8859-2'><p>Łódź</p>".encode("iso-8859-2")
    text, encoding = decode_html(data, "u", charset="no-such-thing")
    assert "Łódź" in text and encoding == "iso8859-2"


def test_a_legacy_http_charset_gives_way_to_bytes_that_are_valid_utf8() -> None:
    data = "<p>Zürich</p>".encode()
    assert decode_html(data, "u", charset="iso-8859-1")[0] == "<p>Zürich</p>"


def test_a_home_page_that_is_a_list_of_links_is_no_article() -> None:
    """trafilatura takes a long enough list of links for text; the links are not a story."""
    listing = "".join(
        f'<li><a href="/s/{i}">Story {i} about the town hall</a></li>' for i in range(30)
    )
    home = f"<!doctype html><html><head><title>The Courier</title></head><body><ul>{listing}</ul></body></html>"
    ex = extract_html(home.encode(), url="https://example.org/", name="u", today=TODAY)
    assert ex.no_article is not None and "links" in ex.no_article
    assert ex.body == ""


def test_an_article_with_a_list_of_related_links_under_it_is_still_an_article() -> None:
    related = "".join(f'<li><a href="/s/{i}">Another story {i}</a></li>' for i in range(8))
    ex = extract_html(
        page("", H1, after=f"<ul>{related}</ul>"),
        url="https://example.org/a",
        name="u",
        today=TODAY,
    )
    assert ex.no_article is None and "The council voted" in ex.body
