"""Feeds: RSS 0.9x/1.0/2.0 and Atom bytes through feedparser into articles.

feedparser's own sanitizer is not the last word (base64 Atom content can come back
with a live <script>, and its output keeps HTML comments), so everything we keep is
cleaned again with nh3. Documents that declare XML entities are refused outright:
feeds have no use for them and they are the vehicle of entity-expansion bombs.
"""

from __future__ import annotations

import calendar
import html
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import feedparser

from briefing.errors import FeedError
from briefing.models import Article, Confidence
from briefing.normalize import (
    canonical_url,
    find_ai_disclosure,
    html_to_text,
    sanitize_html,
    stable_id,
    strip_tags,
)

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)
_HTML_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)
_ALTERNATE = re.compile(r"<link\b[^>]*\btype=[\"']application/(?:rss|atom)\+xml[\"'][^>]*>", re.I)
_HREF = re.compile(r"\bhref=[\"']([^\"']+)[\"']", re.I)
_ATOM = re.compile(rb"<feed\b[^>]*http://www\.w3\.org/2005/Atom", re.I)
_SANITIZED_HREF = re.compile(r'href="([^"]*)"')
# bozo reasons that say nothing about the document being broken
_HARMLESS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
SUMMARY_WORDS = 60
# A field the feed itself declares: the publisher's own metadata, not a reading of a page.
DECLARED = 0.95
_DECLARED = Confidence(DECLARED, "declared by the feed")
_TITLE_MADE = Confidence(0.3, "the feed gives no title: the opening words of its text")
_NO_AUTHOR = Confidence(0.0, "the feed names no author")
_NO_DATE = Confidence(0.0, "the feed gives no date (or one that cannot be right)")


def parse_feed(
    content: bytes,
    *,
    source: str,
    url: str,
    content_type: str | None = None,
    name: str | None = None,
    now: datetime | None = None,
) -> tuple[list[Article], list[str]]:
    """Articles from a feed document, and warnings about what was odd in it."""
    if not content.strip():
        raise FeedError(source, "the response is empty", "check the feed URL")
    if _ENTITY_DECL.search(content[:65536]):
        raise FeedError(
            source,
            "the document declares XML entities (a possible entity-expansion attack); refused",
            "feeds never need <!ENTITY>; ask the publisher to fix it",
        )
    if _HTML_START.match(content[:4096]):
        raise FeedError(source, "got an HTML page, not a feed", _discovery_hint(content, url))
    # Atom has xml:base, which feedparser applies against the document's own address.
    # RSS has none: its relative links are read against the channel's <link> (the site),
    # which is what readers expect when the feed is served from elsewhere (a CDN).
    remote = url.startswith(("http://", "https://"))
    atom = _ATOM.search(content[:4096]) is not None
    headers = {"content-location": url} if remote and atom else {}
    if content_type:
        headers["content-type"] = content_type
    try:
        # Everything we keep goes through nh3 (sanitize_html), which is stricter than
        # feedparser's own sanitizer, so that second pass is skipped. Atom's xml:base is
        # applied by feedparser; RSS links are made absolute by absolute_links().
        parsed = feedparser.parse(
            content, response_headers=headers, resolve_relative_uris=atom, sanitize_html=False
        )
    except Exception as exc:  # feedparser may raise on broken input despite its bozo flag
        raise FeedError(source, f"feedparser could not read it: {exc}") from exc
    entries = parsed.get("entries") or []
    if not parsed.get("version") and not entries:
        reason = parsed.get("bozo_exception")
        raise FeedError(
            source,
            "not an RSS or Atom feed" + (f" ({reason})" if reason else ""),
            _discovery_hint(content, url),
        )
    warnings: list[str] = []
    problem = parsed.get("bozo_exception")
    if parsed.get("bozo") and not isinstance(problem, _HARMLESS):
        warnings.append(f"feed is not well-formed XML ({problem}); read leniently")
    feed = parsed.get("feed") or {}
    titled = strip_tags(feed.get("title") or "")
    publisher = name or titled or urlsplit(url).hostname or None
    if name:
        said = Confidence(1.0, "named in the config (the feed's name)")
    elif titled:
        said = Confidence(DECLARED, "declared by the feed (its title)")
    elif publisher:
        said = Confidence(0.4, "the feed has no title: its host name")
    else:
        said = Confidence(0.0, "the feed names no publisher")
    base = canonical_url(feed.get("link")) or (url if remote else None)
    now = now or datetime.now(UTC)
    articles: list[Article] = []
    seen: set[str] = set()
    for position, entry in enumerate(entries):
        try:
            article = entry_to_article(
                entry, source=source, base=base, publisher=publisher, now=now, publisher_said=said
            )
        except ValueError as exc:
            warnings.append(f"entry {position + 1} skipped: {exc}")
            continue
        if article.id in seen:
            warnings.append(
                f"entry {position + 1} repeats the id/guid of an earlier entry; kept the first"
            )
            continue
        seen.add(article.id)
        articles.append(article)
    return articles, warnings


def entry_to_article(
    entry: dict[str, Any],
    *,
    source: str,
    base: str | None,
    publisher: str | None,
    now: datetime,
    publisher_said: Confidence | None = None,
) -> Article:
    title = strip_tags(entry.get("title") or "")
    declared_title = bool(title)
    link = canonical_url(entry.get("link"), base)
    content_html = _best_content(entry)
    summary_html = entry.get("summary") or ""
    body_html = absolute_links(sanitize_html(content_html or summary_html), base)
    body = html_to_text(body_html, sanitized=True)
    if content_html and summary_html and summary_html != content_html:
        summary_text = _lead(html_to_text(sanitize_html(summary_html), sanitized=True) or body)
    else:
        summary_text = _lead(body)
    if not title:
        title = _lead(body, words=12) or ""
        if not title:
            raise ValueError("no title and no text")
    guid = (entry.get("id") or "").strip() or None
    # dict.get: FeedParserDict.get maps a missing "updated" onto "published" with a warning
    published = _when(entry, "published", now) or _when(entry, "updated", now)
    updated = _when(entry, "updated", now)
    disclosure = find_ai_disclosure(body) or find_ai_disclosure(summary_text)
    labels = tuple(
        dict.fromkeys(
            strip_tags(t.get("term") or t.get("label") or "") for t in entry.get("tags") or []
        )
    )
    labels = tuple(label for label in labels if label)
    author = _author(entry)
    confidence = {
        "title": _DECLARED if declared_title else _TITLE_MADE,
        "author": _DECLARED if author else _NO_AUTHOR,
        "published": _DECLARED if published else _NO_DATE,
        "publisher": publisher_said or _DECLARED,
    }
    return Article(
        id=stable_id(guid=guid, url=link, scope=source, content=title + body),
        source_kind="feed",
        source=source,
        title=title,
        url=link,
        guid=guid,
        publisher=publisher,
        author=author,
        published=published,
        updated=updated if isinstance(updated, datetime) and updated != published else None,
        summary=summary_text,
        body=body,
        body_html=body_html or None,
        section=labels[0] if labels else None,
        labels=labels,
        ai_generated=disclosure is not None,
        ai_disclosure=disclosure,
        confidence=confidence,
    )


def absolute_links(fragment: str, base: str | None) -> str:
    """Relative hrefs in sanitized HTML made absolute; ones that cannot be are dropped."""
    if 'href="' not in fragment:
        return fragment

    def fix(m: re.Match[str]) -> str:
        href = html.unescape(m.group(1))
        if href.startswith(("http://", "https://", "mailto:")):
            return m.group(0)
        absolute = canonical_url(href, base) if base else None
        return f'href="{html.escape(absolute, quote=True)}"' if absolute else ""

    return _SANITIZED_HREF.sub(fix, fragment)


def _best_content(entry: Mapping[str, Any]) -> str:
    contents = entry.get("content") or []
    htmlish = [c for c in contents if "html" in (c.get("type") or "html")]
    pool = htmlish or contents
    if not pool:
        return ""
    return str(max(pool, key=lambda c: len(c.get("value") or "")).get("value") or "")


def _when(entry: dict[str, Any], key: str, now: datetime) -> date | datetime | None:
    """feedparser's UTC struct_time as an aware datetime, or a date when the source gave
    only a day. Absurd dates (before 1995, or days ahead) are dropped, not fixed."""
    parsed = dict.get(entry, f"{key}_parsed")
    if not parsed:
        return None
    try:
        value = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, TypeError):
        return None
    if value.year < 1995 or value > now + timedelta(days=2):
        return None
    raw = str(dict.get(entry, key) or "")
    if raw and ":" not in raw and value.hour == value.minute == value.second == 0:
        return value.date()  # "2024-03-05" or "5 Mar 2024": a day, no time was given
    return value


def _author(entry: Mapping[str, Any]) -> str | None:
    names = [strip_tags(a.get("name") or "") for a in entry.get("authors") or [] if a.get("name")]
    if not names:
        detail = entry.get("author_detail") or {}
        raw = detail.get("name") or entry.get("author") or ""
        raw = re.sub(r"\S+@\S+", "", strip_tags(raw)).strip(" ()")
        names = [raw] if raw else []
    names = [n for n in dict.fromkeys(names) if n]
    return ", ".join(names) or None


def _lead(text: str, words: int = SUMMARY_WORDS) -> str:
    first = text.split("\n\n", 1)[0].strip()
    tokens = first.split()
    if len(tokens) <= words:
        return first
    return " ".join(tokens[:words]).rstrip(",;:") + "…"


def _discovery_hint(content: bytes, url: str) -> str:
    text = content[:200_000].decode("utf-8", "replace")
    for tag in _ALTERNATE.findall(text):
        href = _HREF.search(tag)
        if href:
            found = canonical_url(href.group(1), url)
            if found:
                return f"the page names its feed: use {found}"
    return "point Briefing at the feed's own URL (an RSS or Atom document), not a web page"
