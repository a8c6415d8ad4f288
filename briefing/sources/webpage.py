"""A web page an editor gives by its URL (`briefing ingest --url`, the desk's "Add by URL")
made into an article.

The URL comes from outside, so it is fetched under the fetch policy (``fetch.timeout``
for the whole fetch, ``fetch.max_bytes`` counted after decompression, http(s) redirects
only, at most ``fetch.max_redirects``) and the address policy (no loopback, private or
link-local address, checked after DNS and at every redirect, unless
``fetch.allow_private_addresses``). What comes back must be a page: a PDF, an image, a
feed or any other binary answer is refused, by its Content-Type and by its first bytes.
HTML goes through the HTML path (``extract_html``; the HTTP charset comes before the
``<meta charset>``), plain text through the text-dump path, as a seed would.

The article links to the original: the page's ``link rel=canonical`` (or ``og:url``) when
it is on the same site as the address the page was fetched from, else that final address
after redirects, canonicalized (trackers removed). A page cannot claim another site's
address, and with it another site's stored article.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from briefing.config import Fetch
from briefing.errors import FeedError, NoArticleError, PageError, SeedError
from briefing.models import Article, digest
from briefing.normalize import canonical_url, decode_text, stable_id

if TYPE_CHECKING:
    import httpx

    from briefing.sources.addresses import AddressPolicy
    from briefing.sources.seed import SeedParser

PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.1"
MAX_URL_CHARS = 2000
KEY_MAX = 500  # the sources table keys hold at most 512 characters
NO_ARTICLE_HINT = "give the article's own address, not a home page, a list or a consent notice"
_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_FEED_TYPES = {
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/feed+json",
}
_TEXT_START = re.compile(rb"^\s*(?:<!doctype\s+html|<html|<head|<body|<meta|<title|<!--)", re.I)
_FEED_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?<(?:rss|feed|rdf:RDF)\b", re.I)


@dataclass(frozen=True)
class FetchedPage:
    url: str  # as given
    final_url: str  # after redirects
    content: bytes
    media_type: str | None  # "text/html", from the Content-Type
    charset: str | None  # the Content-Type's charset


def printable(url: str) -> str:
    """The URL with each control character percent-encoded (``%00``): what is shown and
    stored of an address typed or pasted with one (PostgreSQL's text holds no NUL)."""
    return "".join(
        "".join(f"%{b:02X}" for b in ch.encode()) if unicodedata.category(ch) == "Cc" else ch
        for ch in url
    )


def source_key(url: str) -> str:
    """The page's key in the ingest table and the sources table: ``page:`` and the URL
    (``printable``)."""
    key = "page:" + printable(url)
    return key if len(key) <= KEY_MAX else key[: KEY_MAX - 25] + "#" + digest(url)


def check_url(url: str) -> str:
    """The URL as given, when it can be fetched at all; PageError otherwise."""
    url = url.strip()
    if not url:
        raise PageError("(empty)", "no URL given", "give the article's address, https://...")
    if len(url) > MAX_URL_CHARS:
        raise PageError(
            printable(url[:80]) + "…",
            f"the URL is over {MAX_URL_CHARS:,} characters",
            "give a shorter URL",
        )
    if printable(url) != url:
        raise PageError(
            printable(url),
            "has a control character in it (shown as %XX), which no URL has",
            "type the address again, or copy it from the browser's address bar",
        )
    scheme = url.partition(":")[0].lower()
    if scheme not in {"http", "https"} or canonical_url(url) is None:
        raise PageError(
            url,
            "is not an http:// or https:// URL",
            "give the article's web address, e.g. https://example.org/news/story",
        )
    return url


def fetch_page(
    url: str,
    settings: Fetch,
    *,
    policy: AddressPolicy,
    client: httpx.Client | None = None,
) -> FetchedPage:
    """Fetch the page. PageError names the URL, says what went wrong and what to do."""
    from briefing.sources.fetch import fetch, make_client

    url = check_url(url)
    own = client is None
    client = client or make_client(settings, policy=policy)
    client.headers["Accept"] = PAGE_ACCEPT
    try:
        got = fetch(url, settings, client=client, policy=policy)
    except FeedError as exc:
        raise PageError(url, exc.reason, _page_hint(exc.reason, exc.hint)) from exc
    finally:
        if own:
            client.close()
    assert got.content is not None  # no validators were sent: never a 304
    media, charset = _content_type(got.content_type)
    return FetchedPage(url, got.url, got.content, media, charset)


def _content_type(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    media, _, params = value.partition(";")
    found = re.search(r"""charset\s*=\s*["']?([^"';\s]+)""", params, re.I)
    return media.strip().lower() or None, found.group(1) if found else None


def _page_hint(reason: str, hint: str) -> str:
    """The fetcher's hints speak of feeds; these are for a page an editor gave."""
    if "HTTP 404" in reason or "HTTP 410" in reason:
        return "check the URL in a browser: the page may have moved or been taken down"
    if "HTTP 401" in reason or "HTTP 403" in reason:
        return (
            "the page needs a sign-in or turns Briefing away: open it in your browser and "
            "paste its text on the desk (Paste a page), or save it as a seed"
        )
    if "HTTP 429" in reason:
        return "the site is limiting requests: try again later"
    if "server error" in reason:
        return "the site has a problem: try again later"
    if "fetch.max_bytes" in reason:
        return (
            "an article's page is rarely that big: check the URL, or save the page from "
            "your browser as a seed (raise fetch.max_bytes if it really is that big)"
        )
    if "not http or https" in reason:
        return "use the page's final http(s) address"
    if "timed out" in reason:
        return "the site is too slow: try again later, or raise fetch.timeout"
    return hint.replace("feed", "page")


def kind_of(page: FetchedPage) -> str:
    """ "html" or "text"; PageError for an answer that is no page (a PDF, an image, a
    feed, any other binary), judged by the Content-Type and by the first bytes."""
    data, media, url = page.content, page.media_type, page.url
    from briefing.sources.extract.html import binary_kind

    sniffed = binary_kind(data)
    if media == "application/pdf" or sniffed == "a PDF document":
        raise PageError(
            url,
            "answered with a PDF document, not a web page",
            "Briefing reads web pages: give the article's HTML page, or paste the PDF's "
            "text on the desk (Paste a page)",
        )
    if (media or "").startswith("image/") or (sniffed or "").endswith("image"):
        what = sniffed if (sniffed or "").endswith("image") else f"an image ({media})"
        raise PageError(
            url,
            f"answered with {what}, not a web page",
            "give the address of the article's page, not of a picture on it",
        )
    if media in _FEED_TYPES or (media in {None, "application/xml", "text/xml"} and
                                _FEED_START.match(data[:512])):  # fmt: skip
        raise PageError(
            url,
            "is a feed, not a page",
            f"ingest it as a feed: briefing ingest --feed {url}",
        )
    if sniffed is not None:
        raise PageError(
            url, f"answered with {sniffed}, not a web page", "give the article's web address"
        )
    if media in _HTML_TYPES or (media in {None, "application/octet-stream"} and
                                _TEXT_START.match(data[:1024])):  # fmt: skip
        return "html"
    if media == "text/plain" or (media is None and b"\x00" not in data[:4096]):
        return "text"
    raise PageError(
        url,
        f"answered with {media}, not a web page",
        "give the address of the article's web page",
    )


def page_article(parser: SeedParser, page: FetchedPage, *, source: str) -> Article:
    """The article on the page. PageError when it cannot be read, NoArticleError when it
    holds no article (a warning: nothing is stored); both name the URL."""
    kind = kind_of(page)
    final = canonical_url(page.final_url) or page.url
    try:
        if kind == "html":
            article = parser.parse_html(
                page.content, source=source, path=page.url, url=final, charset=page.charset
            )
        else:
            text = _text(page)
            article = parser.parse_text(text, source=source)
    except NoArticleError as exc:
        raise NoArticleError(page.url, exc.reason, NO_ARTICLE_HINT) from exc
    except SeedError as exc:
        raise PageError(
            page.url, exc.reason, "open the URL in a browser to see what it shows"
        ) from exc
    url, note = original_address(article.url, final)
    notes = (*article.notes, note) if note else article.notes
    return replace(
        article,
        id=stable_id(guid=None, url=url, scope="page", content=article.title + article.body),
        source_kind="page",
        source=source,
        url=url,
        notes=notes,
    )


def _text(page: FetchedPage) -> str:
    from briefing.sources.extract.html import encoding_name

    codec = encoding_name(page.charset)
    if codec is not None:
        try:
            return page.content.decode(codec)
        except UnicodeDecodeError:
            pass
    decoded = decode_text(page.content)
    if decoded is None:
        raise PageError(page.url, "is not text in any encoding we can detect")
    return decoded[0]


def same_site(a: str, b: str) -> bool:
    """Two URLs on one site: the same host, or one host inside the other (www., m.)."""
    x = (urlsplit(a).hostname or "").lower().removeprefix("www.")
    y = (urlsplit(b).hostname or "").lower().removeprefix("www.")
    return bool(x and y) and (x == y or x.endswith("." + y) or y.endswith("." + x))


def original_address(declared: str | None, final: str) -> tuple[str, str | None]:
    """The address the email links to, and a note when the page's own claim was set aside."""
    if declared is None or declared == final:
        return final, None
    if same_site(declared, final):
        return declared, None
    return final, (
        f"the page names {declared} as its address, on another site: "
        f"kept {final}, where it was fetched from"
    )
