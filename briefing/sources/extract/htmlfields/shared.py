"""What the HTML field choosers share: the page's ``Context``, where an element sits
(``Zone``), name and date helpers and the vote among candidates."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from briefing.sources.extract.htmlmeta import ARTICLE_TYPES, PageMeta
from briefing.sources.extract.htmlpage import PageIndex
from briefing.sources.extract.language import Language
from briefing.sources.extract.model import Extraction, FieldChoice, FieldName
from briefing.sources.extract.scoring import Scored, choose
from briefing.sources.extract.when import Found
from briefing.sources.extract.when import find_dates as _find_dates

_SEP = re.compile(r"(\s+(?:\||–|—|-|::|»|·|•|~|/)\s+|\s*\|\s*|\s+:\s+)")


_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "«": '"', "»": '"'})
_TLD = re.compile(r"\.(?:com|org|net|info|biz|co|io|dev|tech|blog|news|[a-z]{2})$")


_BY = re.compile(
    r"^\W*(?:(?:posted|written|words|story|reporting|text|photos?)\s+by|by|par|por|von|door|"
    r"di|av|af|autor(?:a|in)?|auteur|author|authors|written)\b\s*:?\s*",
    re.I,
)


_AUTHOR_HINT = re.compile(r"author|byline|byl\b|auteur|autor|writer|contributor|posted-by")


URLISH_NAME = re.compile(r"^(?:https?:)?//", re.I)


@dataclass
class Context:
    """What the field choosers share about one page."""

    meta: PageMeta
    index: PageIndex
    lang: Language
    today: date
    dump: Extraction | None  # the text reader's view, when trafilatura found no body
    url: str | None
    declared_date: str | None
    sites: list[str] = field(default_factory=list)  # names the site goes by
    site_keys: set[str] = field(default_factory=set)
    hosts: list[str] = field(default_factory=list)
    headline: Any = None  # the heading element the title came from


_CJK_DATE = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*[年년]\s*(?P<m>[01]?\d)\s*[月월]\s*(?P<d>[0-3]?\d)\s*[日일]?"
    r"(?:[^\d\n]{0,6}?(?P<h>[0-2]?\d)\s*[:時시]\s*(?P<mi>[0-5]\d))?"
)
_CJK_PUBLISHED = re.compile(r"公開|掲載|発表|投稿|配信|发布|發佈|发表|게시|등록")
_CJK_UPDATED = re.compile(r"更新|修改|수정")


def find_dates(text: str, lang: Language) -> list[Found]:
    """Every full date in a line: as the page's language writes them (``when.find_dates``),
    and as Chinese, Japanese and Korean pages do ("2019年4月21日 10:30")."""
    found = _find_dates(text, lang)
    if not re.search(r"[年년]", text):
        return found
    for m in _CJK_DATE.finditer(text):
        if any(m.start() < f.end and f.start < m.end() for f in found):
            continue
        try:
            day = date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        except ValueError:
            continue
        clock = None
        if m.group("h") is not None and int(m.group("h")) < 24:
            clock = time(int(m.group("h")), int(m.group("mi")))
        before = text[max(0, m.start() - 12) : m.start()]
        found.append(Found(m.group(0).strip(), m.start(), m.end(), day, clock, None, True, False,
                           bool(_CJK_PUBLISHED.search(before)), bool(_CJK_UPDATED.search(before))))  # fmt: skip
    return sorted(found, key=lambda f: f.start)


# -- shared helpers ---------------------------------------------------------------------


def norm(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).translate(_QUOTES).lower().split())


def fold(value: str) -> str:
    """'Aktuálně.cz' -> 'aktualne': a key to compare site names and domain labels."""
    text = unicodedata.normalize("NFKD", value.lower().strip())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"^(?:https?://)?(?:www\.)?", "", text)
    text = _TLD.sub("", text.rstrip("/"))
    return re.sub(r"[\W_]+", "", text)


def words(value: str) -> list[str]:
    return re.findall(r"\w+", norm(value))


def overlap(a: str, b: str) -> float:
    """Shared words over the shorter one's words (0..1)."""
    wa, wb = set(words(a)), set(words(b))
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / min(len(wa), len(wb))


def vote(
    name: FieldName,
    cands: list[Scored],
    *,
    minimum: float,
    rule: str,
    family: Callable[[str], str] | None = None,
) -> FieldChoice:
    """Candidates that agree with another source gain weight (+1 each, up to 3)."""
    family = family or source_family
    for c in cands:
        if c.refused:
            continue
        key = key_of(c.value)
        others = {
            family(o.source)
            for o in cands
            if o is not c and not o.refused and key_of(o.value) == key
        }
        others.discard(family(c.source))
        if others:
            c.add(f"agrees with {', '.join(sorted(others))}", min(3.0, 1.0 * len(others)))
    return choose(name, cands, minimum=minimum, rule=rule)


def source_family(source: str) -> str:
    """og:title and og:site_name are one source (OpenGraph); ld:* one (JSON-LD)."""
    head = source.split(" ")[0]
    if head.startswith(("og:", "article:")):
        return "OpenGraph"
    if head.startswith("ld:"):
        return "JSON-LD"
    if head.startswith(("<title>", "title")):
        return "<title>"
    if head.startswith("<"):
        return "the page's text"  # two elements showing one thing are one source
    return head


def date_family(source: str) -> str:
    """For dates, every meta tag and JSON-LD field is one source: the CMS fills them all from
    one field, so their agreement is not a second witness."""
    if source.startswith(("ld:", "meta:")):
        return "the page's metadata"
    return source_family(source)


def key_of(value: object) -> object:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        if " and " in value:
            return frozenset(norm(p) for p in value.split(" and "))
        return norm(value)
    return value


def sites_of(meta: PageMeta, url: str | None) -> tuple[list[str], list[str]]:
    """The names the site goes by, and the labels of its host names."""
    names: list[str] = []
    for key in ("ld:publisher", "og:site_name", "ld:isPartOf", "ld:website", "application-name",
                "apple-mobile-web-app-title", "ld:organization"):  # fmt: skip
        for v in meta.get(key):
            if URLISH_NAME.match(v):
                continue
            for part in _SEP.split(v)[::2]:
                part = part.strip()
                if part and not _BY.match(part) and part not in names:
                    names.append(part)
    hosts: list[str] = []
    for u in (meta.canonical, meta.first("og:url"), url):
        host = urlsplit(u).hostname if u and "//" in u else None
        if host:
            labels = [x for x in host.lower().split(".") if x not in {"www", "m", "amp"}]
            for label in labels[:-1] or labels:
                if label not in hosts and len(label) >= 2:
                    hosts.append(label)
    return names, hosts


def is_site(ctx: Context, text: str) -> bool:
    """Is ``text`` the site's name (or its domain), more or less?"""
    k = fold(text)
    if not k:
        return False
    if k in ctx.site_keys:
        return True
    for h in ctx.hosts:
        hk = fold(h)
        if len(hk) >= 3 and (
            k == hk or (len(hk) >= 4 and k.startswith(hk) and len(k) - len(hk) <= 8)
        ):
            return True
    return any(len(s) >= 4 and k.startswith(s) and len(k) - len(s) <= 5 for s in ctx.site_keys)


def parse_when(value: str, lang: Language) -> date | datetime | None:
    """A declared date: ISO 8601, RFC 2822, or as the page's language writes dates."""
    value = value.strip()
    if not value:
        return None
    parsed: datetime | None = None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value)
        parsed = datetime.fromisoformat(
            re.sub(r"(\.\d{1,6})\d*", r"\1", value.replace("Z", "+00:00"))
        )
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is None:
        if m := re.match(r"((?:19|20)\d{2})-?([01]\d)-?([0-3]\d)(?:\D|$)", value):
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
        found = find_dates(value, lang)
        return found[0].value() if found else None
    if parsed.tzinfo is None or (parsed.hour, parsed.minute, parsed.second) == (0, 0, 0):
        return parsed.date()  # no zone, or midnight: the page means a calendar date
    return parsed  # keeps the page's own zone: no shift to UTC


def day_of(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None


def in_article_scope(el: Any, ix: PageIndex) -> bool:
    """Microdata of the page's article: the nearest itemscope is of an article type and
    holds the article's body (a teaser in a list is an article item too, but not this one)."""
    for a in el.iterancestors():
        if a.get("itemscope") is not None:
            t = (a.get("itemtype") or "").lower().rstrip("/").rsplit("/", 1)[-1]
            return t in ARTICLE_TYPES and (ix.body_start is None or ix.contains_body(a))
    return False


@dataclass
class Zone:
    """Where an element sits relative to the article: header, top of the body, sign-off."""

    name: str | None  # "header", "sign-off", "body start"; None when elsewhere
    why: str  # the reason it is elsewhere, or how close it is


def zone(ctx: Context, el: Any) -> Zone:
    ix = ctx.index
    if ix.body_start is None:
        return Zone(None, "the article's body was not found on the page")
    if (reason := ix.furniture(el)) is not None:
        return Zone(None, reason)
    if ix.data_table_cell(el):
        return Zone(None, "in a data table or infobox")
    b0, b1 = ix.body_start, ix.body_end
    start, end = ix.start.get(el, 0), ix.end.get(el, 0)
    if end <= ix.start[b0] or (ix.before_body(el) and start < ix.start[b0]):
        if ix.contains_body(el):
            return Zone(None, "a block around the whole article")
        gap = ix.start[b0] - end
        h = ctx.headline
        if h is not None and h in ix.start:
            if end <= ix.start[h]:
                if ix.start[h] - end <= 400 and gap <= 3000:
                    return Zone("header", "just above the headline")
                return Zone(None, "above the headline")
            if gap <= 3000:
                return Zone("header", "between the headline and the body")
            return Zone(None, "far below the headline, far above the body")
        if gap <= 1500:
            return Zone("header", "right above the body")
        return Zone(None, "well above the body")
    if start >= ix.end[b1]:
        if start - ix.end[b1] <= 600:
            return Zone("sign-off", "right under the body")
        return Zone(None, "below the article")
    if ix.start[b0] <= start < ix.start[b0] + 3:
        return Zone("body start", "at the very start of the body")
    if start < ix.start[b0] + 400 and len(ix.text(el)) <= 120:
        return Zone("body top", "a short line at the top of the body")
    return Zone(None, "inside the article's text")


def byline_like(line: str, lang: Language) -> bool:
    """A short line with a date or a 'by' word: a byline or dateline, not a paragraph."""
    n = len(line.split())
    return n <= 16 and (bool(_BY.match(line)) or bool(find_dates(line, lang)))
