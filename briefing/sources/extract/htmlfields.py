"""The HTML path's choice of title, author, date and publisher, each with its reasons.

Every field has candidates from what the page declares (its article's JSON-LD,
OpenGraph and other meta tags, microdata, the ``<title>``) and from what it shows
(the headings, the byline and date elements between the headline and the body, the
sign-off line under it). A candidate scores by the trust of its source and by where it
sits; candidates from different sources that agree gain weight; a rule can refuse one
outright, whatever it scores, and the refusal is kept for ``--explain``.

- Title: the visible headline, found as the heading above the body that the page's
  declarations (``<title>``, ``og:title``, JSON-LD headline) name too; a heading that is
  the site's name, links to the home page or sits in a menu or sidebar is not it. The
  ``<title>`` loses the site's name (known from ``og:site_name``, the publisher, the
  domain) before it is compared.
- Author: names, not URLs, desks, staff or the site's name; a name the page declares
  but never shows is not a byline; several authors are joined with "and".
- Date: the published date (never the modified one) of the article's own metadata or
  of its header, byline or sign-off; a date in a sidebar, a related list, comments,
  an infobox or the footer is refused, and so is one in the future. A date with an
  offset keeps the page's own calendar day; one given in UTC yields to the day the
  page shows beside it. htmldate only confirms.
- Publisher: the article's JSON-LD publisher, then ``og:site_name`` (cleaned of a
  tagline or a byline), others confirming; a copyright holder is not the publisher.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from briefing.sources.extract.byline import INSTITUTION_WORDS
from briefing.sources.extract.htmlmeta import ARTICLE_TYPES, PageMeta
from briefing.sources.extract.htmlpage import PageIndex, class_text, class_words
from briefing.sources.extract.language import PUBLISHED_WORDS, UPDATED_WORDS, Language
from briefing.sources.extract.model import Extraction, FieldChoice, FieldName
from briefing.sources.extract.scoring import Scored, choose
from briefing.sources.extract.when import Found
from briefing.sources.extract.when import find_dates as _find_dates

_SEP = re.compile(r"(\s+(?:\||–|—|-|::|»|·|•|~|/)\s+|\s*\|\s*|\s+:\s+)")
_BRACKET_SITE = re.compile(r"^(?P<title>.*\S)\s*\[(?P<site>[^\]]{2,60})\]$")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "«": '"', "»": '"'})
_TLD = re.compile(r"\.(?:com|org|net|info|biz|co|io|dev|tech|blog|news|[a-z]{2})$")
_BY = re.compile(
    r"^\W*(?:(?:posted|written|words|story|reporting|text|photos?)\s+by|by|par|por|von|door|"
    r"di|av|af|autor(?:a|in)?|auteur|author|authors|written)\b\s*:?\s*",
    re.I,
)
_MID_BY = re.compile(r"(?<=\s)(?:by|par|por|von|door|di|av|af)\s+(?=\S)", re.I)
_WITH = re.compile(r"\((?:with|avec|con|mit|com|met|s)\s+(?P<names>[^)]+)\)", re.I)
_JOIN = re.compile(r"\s*(?:,|;|&|\band\b|\bet\b|\by\b|\be\b|\bund\b|\ba\b|\bi\b|\bog\b|\boch\b)\s*")
_NAME_CUT = re.compile(
    r"\s*(?:\||•|·|—|–|/|::)(?:\s+.*)?$|\s+-\s+.*$|\s+(?:on|at|le|el|em|am|il|op|dne|den)\s+\S.*$|"
    r",\s*(?:[^,]*\d.*|(?:senior|chief|staff|contributing|special|deputy|managing|executive)\b.*|"
    r"[^,]*\b(?:engineer|editor|reporter|writer|correspondent|columnist|analyst|director|"
    r"manager|professor|fellow|contributor|producer|developer)\b.*)$",
    re.I,
)
_NAME_TAIL = re.compile(r"\s+(?:on|at|le|el|em|am|il|op|dne|den|the)\s+\S.*$", re.I)
_NOT_NAME = re.compile(
    rf"(?:{PUBLISHED_WORDS}|{UPDATED_WORDS}|comments?|share|follow|read|min|minutes|views|"
    r"authoring|authors?|contributors?|posts?|subscribe|sign|email|print|home|menu)",
    re.I,
)
_PARTICLES = frozenset(
    [
        "de",
        "da",
        "del",
        "della",
        "di",
        "van",
        "von",
        "der",
        "den",
        "la",
        "le",
        "al",
        "el",
        "bin",
        "ibn",
        "du",
        "dos",
        "das",
    ]
)
_DATE_HINT = re.compile(r"date|time|publish|posted|pubdate|dateline|timestamp|byline|meta|info")
_AUTHOR_HINT = re.compile(r"author|byline|byl\b|auteur|autor|writer|contributor|posted-by")
_HEADING_WORDS = frozenset(["title", "headline", "heading", "hed", "h1", "posttitle"])
_SITE_WORDS = frozenset(["site", "logo", "brand", "masthead", "blogtitle", "sitename", "header"])
_URL_DATE = re.compile(r"/((?:19|20)\d{2})/([01]?\d)/([0-3]?\d)(?:/|$|[-_])")
_PUBLISHED_KEYS = [
    ("article:published_time", 3.0),
    ("og:article:published_time", 3.0),
    ("article:published", 2.5),
    ("og:published_time", 2.5),
    ("published_time", 2.5),
    ("article.published", 2.5),
    ("datepublished", 2.5),
    ("dc.date.issued", 2.0),
    ("dcterms.issued", 2.0),
    ("citation_publication_date", 2.0),
    ("parsely-pub-date", 2.0),
    ("sailthru.date", 2.0),
    ("pubdate", 2.0),
    ("publishdate", 2.0),
    ("publish_date", 2.0),
    ("publish-date", 2.0),
    ("publication_date", 2.0),
    ("dc.date.created", 1.5),
    ("dcterms.created", 1.5),
    ("citation_date", 1.5),
    ("date", 1.5),
    ("dc.date", 1.5),
    ("dcterms.date", 1.5),
]


_DECLARED_TITLES = (("ld:headline", 2.5), ("og:title", 2.0), ("twitter:title", 1.0),
                    ("dc.title", 1.5), ("citation_title", 1.5), ("parsely-title", 1.5))  # fmt: skip


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


_SOFT = ("in a block with role", "in an <aside>", "in the site's header", "above the headline",
         "well above the body")  # fmt: skip


# -- title --------------------------------------------------------------------------------


def split_title(title: str) -> tuple[list[str], list[str]]:
    """'Headline | Section | Site' -> parts and the separators between them."""
    bracket = _BRACKET_SITE.match(title)
    tail: list[str] = []
    if bracket:
        title, tail = bracket.group("title"), [bracket.group("site")]
    pieces = _SEP.split(title)
    parts = [p.strip() for p in pieces[::2]]
    seps = pieces[1::2]
    if tail:
        parts += tail
        seps.append(" [ ")
    keep = [(p, s) for p, s in zip(parts, [*seps, ""], strict=True) if p]
    return [p for p, _ in keep], [s for _, s in keep][:-1]


def strip_site(ctx: Context, title: str) -> str:
    """The title less the site's name (and a "by Author" part) at either end."""
    parts, seps = split_title(title)
    if len(parts) < 2:
        # "見出し：サイト名", "Headline:Site": a separator without spaces, only before the
        # site's own name (a colon inside a headline stays)
        m = re.match(r"^(?P<head>.+\S)\s*[:：|｜]\s*(?P<site>[^:：|｜]{2,40})$", title)
        if m and is_site(ctx, m.group("site")):
            return m.group("head")
        return title
    lo, hi = 0, len(parts)
    while hi - lo > 1 and (is_site(ctx, parts[hi - 1]) or _BY.match(parts[hi - 1])):
        hi -= 1
    while hi - lo > 1 and is_site(ctx, parts[lo]):
        lo += 1
    out = parts[lo]
    for i in range(lo + 1, hi):
        out += seps[i - 1] + parts[i]
    return out.strip()


def title_targets(ctx: Context) -> dict[str, tuple[str, float]]:
    """Normalized strings a visible headline may equal, with the source and the weight."""
    m = ctx.meta
    out: dict[str, tuple[str, float]] = {}

    def put(text: str | None, source: str, weight: float) -> None:
        if text and len(norm(text)) >= 2:
            k = norm(text)
            if k not in out or out[k][1] < weight:
                out[k] = (source, weight)

    for key in ("ld:headline", "og:title", "twitter:title", "dc.title", "dcterms.title",
                "citation_title", "parsely-title", "sailthru.title", "headline", "ld:name"):  # fmt: skip
        for v in m.get(key)[:1]:
            put(v, key, 3.5)
            put(strip_site(ctx, v), key, 3.5)
    if m.title_tag:
        put(m.title_tag, "<title>", 3.5)
        put(strip_site(ctx, m.title_tag), "<title>", 3.5)
        parts, seps = split_title(m.title_tag)
        for i in range(1, len(parts)):
            prefix = parts[0] + "".join(seps[j - 1] + parts[j] for j in range(1, i))
            put(prefix, "<title>", 2.5)
        for p in parts:
            put(p, "<title>", 2.5 if len(p.split()) >= 2 else 1.5)
    return out


def heading_elements(ctx: Context) -> list[tuple[Any, str, float]]:
    """Elements that look like headings: (element, kind, weight)."""
    out: list[tuple[Any, str, float]] = []
    for el in ctx.index.elements:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        cw = class_words(el)
        if tag in {"h1", "h2", "h3", "h4"}:
            weight = {"h1": 2.5, "h2": 1.5, "h3": 0.8, "h4": 0.3}[tag]
            out.append((el, f"<{tag}>", weight + (0.5 if cw & _HEADING_WORDS else 0.0)))
        elif (el.get("itemprop") or "").lower() in {"headline", "name"} and in_article_scope(
            el, ctx.index
        ):
            out.append((el, "itemprop headline", 2.5))
        elif cw & _HEADING_WORDS and tag in {"div", "span", "p", "a", "header", "strong", "b"}:
            out.append((el, f"<{tag} class={el.get('class') or el.get('id')}>", 1.0))
        elif tag == "font" and re.fullmatch(r"\+?[3-7]", (el.get("size") or "").strip()):
            out.append((el, "<font size>", 1.5))
    return out


def choose_title(ctx: Context) -> FieldChoice:
    ix, m = ctx.index, ctx.meta
    targets = title_targets(ctx)
    cands: list[Scored] = []
    seen: dict[str, Scored] = {}
    where: dict[int, Any] = {}
    parts_of: list[str] = []
    roots = {f"https://{h}" for h in ctx.hosts} | {f"http://{h}" for h in ctx.hosts}
    if m.canonical:
        u = urlsplit(m.canonical)
        roots |= {f"{u.scheme}://{u.netloc}", f"//{u.netloc}"}
    for el, kind, weight in heading_elements(ctx):
        lines = ix.lines(el)
        text = " ".join(lines)
        if not text or len(text) > 300 or not re.search(r"[^\W\d_]", text):
            continue
        options = [text] + ([lines[0]] if len(lines) > 1 and len(lines[0]) >= 3 else [])
        for value in options:
            c = Scored(value, kind)
            where[id(c)] = el
            c.add(f"a {kind} heading", weight)
            if len(options) > 1 and value == text:
                c.add("runs over several lines (a subtitle joined to it)", -0.5)
            hit = targets.get(norm(value))
            if hit:
                c.add(f"the {hit[0]} names it too", hit[1])
            elif any(norm(value) in t and len(norm(value)) < 0.8 * len(t) for t in targets):
                parts_of.append(
                    norm(value)
                )  # a headline split over elements: the declared one is whole
            else:
                best = max((overlap(value, t) for t in targets), default=0.0)
                if best >= 0.7:
                    c.add("nearly the page's declared title", 1.5)
                elif best >= 0.5:
                    c.add("close to the page's declared title", 0.75)
            if ix.body_start is not None:
                if ix.before_body(el) or el is ix.body_start:
                    gap = ix.chars_between(el, ix.body_start)
                    c.add("above the body" if gap <= 3000 else "far above the body",
                          1.5 if gap <= 3000 else 0.3)  # fmt: skip
                else:
                    c.add("inside or below the body (a subheading or a teaser)", -2.5)
            if (reason := ix.furniture(el)) is not None:
                c.add(reason, -3.0)
            if ix.links_home(el, roots):
                c.add("a link to the home page (the site's logo)", -2.5)
            if (class_words(el) & _SITE_WORDS) or any(
                class_words(a) & _SITE_WORDS for a in el.iterancestors() if a.tag == "header"
            ):
                c.add("marked as the site's header or logo", -1.5)
            if is_site(ctx, value):
                c.refused = "the site's name, not a headline"
            if len(value.split()) > 30:
                c.add("too long for a headline", -1.5)
            k = norm(value)
            if k in seen and not seen[k].refused and seen[k].score >= c.score:
                continue
            if k in seen:
                cands.remove(seen[k])
            seen[k] = c
            cands.append(c)
    for key, weight in _DECLARED_TITLES:
        for v in m.get(key)[:1]:
            c = Scored(strip_site(ctx, v), key)
            c.add(f"declared as {key}", weight)
            cands.append(c)
    if m.title_tag:
        c = Scored(strip_site(ctx, m.title_tag), "<title>")
        c.add("the <title>, less the site's name", 1.8)
        cands.append(c)
    declared = {"<title>", *(k for k, _ in _DECLARED_TITLES)}
    for c in cands:
        if (
            c.source in declared
            and isinstance(c.value, str)
            and any(p in norm(c.value) for p in parts_of)
        ):
            c.add("shown in part as the page's heading", 1.5)
    choice = vote("title", cands, minimum=1.0, rule="the headline the page shows and declares")
    if choice.chosen is not None:
        for c in cands:
            if c.value == choice.value and c.source == choice.chosen.source:
                ctx.headline = where.get(id(c))
                break
    return choice


# -- author -------------------------------------------------------------------------------


def clean_names(
    text: str, *, explicit: bool = False, inverted: bool = False, lang: Language | None = None
) -> list[str] | None:
    """'By Jane Doe and John Roe, Senior Writer' -> ['Jane Doe', 'John Roe']; None when the
    text is not a list of names. ``inverted``: 'Doe, Jane' as library catalogues write it.
    With ``lang``, dates and weekday names in the byline are cut first."""
    text = " ".join(text.split())
    if lang is not None:
        for f in reversed(find_dates(text, lang)):
            text = f"{text[: f.start]} | {text[f.end :]}"
        text = " ".join(w for w in text.split() if w.lower().strip(",.") not in lang.weekdays)
    extra: list[str] = []
    if m := _WITH.search(text):
        extra = [p for p in _JOIN.split(m.group("names")) if p.strip()]
        text = (text[: m.start()] + text[m.end() :]).strip()
    text = re.sub(r"\([^)]*\)", " ", text).strip()  # "(http://...)", "(bkuhn)"
    had_by = bool(_BY.match(text))
    text = _BY.sub("", text)
    text = re.sub(r"(?<!\w)@(\w{3,30})", r"\1", text)
    text = _NAME_TAIL.sub("", text)
    text = _NAME_CUT.sub("", text).strip(" ,;:|.-–—")
    if inverted and text.count(",") == 1:
        last, first = (p.strip() for p in text.split(","))
        if last and first and len(first.split()) <= 3 and len(last.split()) <= 3:
            text = f"{first} {last}"
    people = [p.strip(" .,") for p in _JOIN.split(text) if p.strip(" .,")] + extra
    if not people or len(people) > 8:
        return None
    out: list[str] = []
    for person in people:
        person = _NAME_CUT.sub("", person).strip(" ,;:|.")
        tokens = person.split()
        if not 1 <= len(tokens) <= 5 or any(re.search(r"\d|https?:|www\.", t) for t in tokens):
            return None
        if len(tokens) == 1 and not (explicit or had_by) and not re.fullmatch(r"\w{3,30}", person):
            return None
        if len(tokens) > 1 and not all(
            t[0].isupper() or t.lower() in _PARTICLES or not t[0].isalpha() for t in tokens
        ):
            return None
        lowered = [t.lower().strip(".,") for t in tokens]
        if any(_NOT_NAME.fullmatch(t) for t in lowered):
            return None
        if lang is not None and sum(t in lang.stopwords for t in lowered) * 2 > len(tokens):
            return None
        if person.isupper() and len(person) > 3:
            person = " ".join(w.capitalize() for w in tokens)
        if person not in out:
            out.append(person)
    return out


def _author_candidate(ctx: Context, names: list[str] | None, source: str, why: str,
                      weight: float, *, declared: bool, person: bool = False) -> Scored:  # fmt: skip
    """``declared``: from metadata, so it must be shown on the page too; ``person``: marked
    as a person (JSON-LD Person, rel=author), so it may be the site's name (a personal site)."""
    c = Scored(" and ".join(names) if names else None, source)
    c.add(why, weight)
    if not names:
        c.refused = "not a person's name"
        return c
    joined = " and ".join(names)
    if INSTITUTION_WORDS.search(joined):
        c.refused = "names a desk, staff or agency, not a person"
    elif not person and any(is_site(ctx, n) for n in names):
        c.refused = "the site's own name, not a byline"
    elif len(joined) > 150:
        c.refused = "too long for a byline"
    elif declared and not all(ctx.index.shows(n) for n in names):
        shown = [n for n in names if ctx.index.shows(n)]
        if not shown:
            c.refused = "declared but never shown on the page"
        else:
            c.value = " and ".join(shown)
            c.add("some names are not shown on the page", -0.5)
    return c


def choose_author(ctx: Context) -> FieldChoice:
    m, ix = ctx.meta, ctx.index
    cands: list[Scored] = []
    people = [p for p in m.ld_authors if p.kind != "organization"]
    if people:
        c = _author_candidate(ctx, _flatten(clean_names(p.name, explicit=True) for p in people),
                              "ld:author", "the article's JSON-LD author", 3.0, declared=True,
                              person=all(p.kind == "person" for p in people))  # fmt: skip
        cands.append(c)
    elif m.ld_authors:
        c = Scored(" and ".join(p.name for p in m.ld_authors), "ld:author")
        c.refused = "the JSON-LD author is an organization, not a person"
        cands.append(c)
    for key, weight in (("author", 2.5), ("article:author", 2.0), ("og:article:author", 2.0),
                        ("dc.creator", 2.0), ("dcterms.creator", 2.0), ("citation_author", 2.0),
                        ("parsely-author", 2.0), ("sailthru.author", 2.0), ("byl", 2.0),
                        ("byline", 2.0), ("article.author", 2.0)):  # fmt: skip
        values = m.get(key)
        if values:
            inverted = key in {"dc.creator", "dcterms.creator", "citation_author"}
            names = _flatten(clean_names(v, explicit=True, inverted=inverted) for v in values)
            cands.append(_author_candidate(ctx, names, f"meta:{key}", f"meta {key}", weight,
                                           declared=True))  # fmt: skip
    marked: list[tuple[Any, str, bool]] = []
    for el in ix.elements:
        if not isinstance(el.tag, str):
            continue
        rel = (el.get("rel") or "").lower().split()
        itemprop = (el.get("itemprop") or "").lower().split()
        if "author" in itemprop:
            marked.append((el, "itemprop=author", in_article_scope(el, ix)))
        elif "author" in rel:
            marked.append((el, "rel=author", False))
        elif _AUTHOR_HINT.search(class_text(el)):
            marked.append((el, "a byline element", False))
    done: set[Any] = set()
    in_body: list[str] = []
    for el, kind, scoped in marked:  # the outermost first; its parts only if it names no one
        if el in done or len(ix.text(el)) > 200:
            continue
        source = el
        if kind == "itemprop=author":
            inner = el.find(".//*[@itemprop='name']")
            source = inner if inner is not None and ix.text(inner) else el
        explicit = kind != "a byline element"
        names = next(
            (
                n
                for line in ix.lines(source)
                if (n := clean_names(line, explicit=explicit, lang=ctx.lang))
            ),
            None,
        )
        if names is None:
            continue
        done.update(el.iterdescendants())
        where = zone(ctx, el)
        person = scoped and bool(el.xpath("ancestor-or-self::*[contains(@itemtype, 'Person')]"))
        c = _author_candidate(ctx, names, f"<{el.tag}> {kind}", f"marked as {kind}", 2.0,
                              declared=False, person=person)  # fmt: skip
        if scoped:
            c.add("inside the article's microdata", 1.0)
        if where.name == "header":
            c.add(f"in the article's header ({where.why})", 1.5)
        elif where.name in {"sign-off", "body start", "body top"}:
            c.add(f"{where.why}", 1.0)
        elif where.why == "inside the article's text" and not c.refused:
            in_body.extend(n for n in names if n not in in_body)
            c.refused = "inside the article's text (see the bylines of its parts)"
        elif not scoped:
            c.refused = c.refused or f"not beside the article: {where.why}"
        cands.append(c)
    if in_body:
        c = _author_candidate(ctx, in_body, "<body> bylines", "the bylines inside the article", 2.5,
                              declared=False)  # fmt: skip
        cands.append(c)
    for el, where, line in _header_lines(ctx):
        if len(line) > 120:
            continue
        text = line
        mid = None if _BY.match(line) else _MID_BY.search(line)
        if mid is not None and find_dates(line[: mid.start()], ctx.lang):
            text = line[mid.start() :]  # "Posted on March 3, 2026 by Jane Doe"
        if _BY.match(text):
            names = clean_names(text, explicit=True, lang=ctx.lang)
            c = _author_candidate(ctx, names, f"<{el.tag}> 'by' line", "a 'by' line", 2.5,
                                  declared=False)  # fmt: skip
            c.add(f"in the article's {where.name} ({where.why})", 1.0)
            cands.append(c)
    d = ctx.dump.author if ctx.dump else None
    if d is not None and isinstance(d.value, str) and d.value:
        c = _author_candidate(ctx, clean_names(d.value, explicit=True), "visible text",
                              "the byline the text reader found", 1.5 * d.confidence,
                              declared=False)  # fmt: skip
        cands.append(c)
    return vote("author", cands, minimum=2.5, rule="the byline the page shows and declares")


def _flatten(groups: Any) -> list[str] | None:
    out: list[str] = []
    for g in groups:
        if g is None:
            continue
        out.extend(n for n in g if n not in out)
    return out or None


def _header_lines(ctx: Context) -> list[tuple[Any, Zone, str]]:
    """Short lines of visible text in the article's header, body start and sign-off, each
    with the element it begins in."""
    ix = ctx.index
    out: list[tuple[Any, Zone, str]] = []
    if ix.body_start is None:
        return out
    lo = ix.start[ix.body_start] - 5000
    hi = ix.end[ix.body_end] + 1000
    for at, line in ix.line_spans():
        if not lo <= at <= hi or len(line) > 200:
            continue
        el = ix.owner(at)
        if el is None:
            continue
        where = zone(ctx, el)
        if where.name is not None:
            out.append((el, where, line))
    return out


# -- date ---------------------------------------------------------------------------------


def choose_published(ctx: Context) -> FieldChoice:
    m, _ix, lang = ctx.meta, ctx.index, ctx.lang
    cands: list[Scored] = []
    for key, weight in (("ld:datePublished", 3.0), ("ld:dateCreated", 2.0)):
        for raw in m.get(key)[:1]:
            when = parse_when(raw, lang)
            if when is not None:
                c = Scored(when, key)
                c.add(f"the article's JSON-LD {key[3:]}", weight)
                cands.append(c)
    for key, weight in _PUBLISHED_KEYS:
        for raw in m.get(key)[:1]:
            when = parse_when(raw, lang)
            if when is not None:
                c = Scored(when, f"meta:{key}")
                c.add(f"declared as {key}", weight)
                cands.append(c)
    cands.extend(_visible_dates(ctx))
    if m.title_tag:
        parts, _ = split_title(m.title_tag)
        for p in parts[1:]:
            found = find_dates(p, lang)
            if found and len(found[0].text) >= len(p) - 2:
                c = Scored(found[0].value(), "<title>")
                c.add("a date as a part of the <title>", 2.0)
                cands.append(c)
    for u in dict.fromkeys(x for x in (m.canonical, m.first("og:url"), ctx.url) if x):
        if mt := _URL_DATE.search(urlsplit(u).path):
            try:
                url_day = date(int(mt.group(1)), int(mt.group(2)), int(mt.group(3)))
            except ValueError:
                continue
            c = Scored(url_day, "URL")
            c.add("the date in the article's URL", 1.5)
            cands.append(c)
            break
    for c in cands:
        day = day_of(c.value)
        # a day of slack: a page east of here may already be on tomorrow's date
        if day is not None and day > ctx.today + timedelta(days=1):
            c.refused = "in the future"
    _utc_yields(cands)
    guess = parse_when(ctx.declared_date, lang) if ctx.declared_date else None
    for c in cands:  # htmldate (limited to the markup) confirms; alone it is never taken
        if guess is not None and not c.refused and day_of(c.value) == day_of(guess):
            c.add("htmldate's date agrees", 0.5)
    return vote("published", cands, minimum=2.0, family=date_family,
                rule="the date the article's own metadata or header gives")  # fmt: skip


def _utc_yields(cands: list[Scored]) -> None:
    """A timestamp in UTC a day off the date the page shows in its header may be that same
    moment in the page's zone (23:00Z on the 12th is the 13th in the UK): then the page's
    own day wins. Only when some real zone (UTC-12 to UTC+14) makes them one moment; when
    another timestamp on the page gives the zone, that zone decides."""
    zones = {
        c.value.utcoffset()
        for c in cands
        if isinstance(c.value, datetime) and c.value.utcoffset() not in (None, timedelta(0))
    }
    shown = [c for c in cands if c.source.startswith("<") and not c.refused]
    for c in cands:
        if c.refused or not isinstance(c.value, datetime) or c.value.utcoffset() != timedelta(0):
            continue
        moment = c.value
        locals_ = {moment.astimezone(timezone(z)) for z in zones if z is not None}
        if zones and len({t.date() for t in locals_}) == 1:
            local = next(iter(locals_))  # the page's other timestamps give its zone
            if local.date() != moment.date():
                c.value = local
                c.add("in the zone of the page's other timestamps", 0.0)
            continue
        if any(day_of(s.value) == moment.date() for s in shown):
            continue  # the page shows the timestamp's own day too: nothing to correct
        hour = moment.hour + moment.minute / 60
        for s in shown:
            day = day_of(s.value)
            if day is None:
                continue
            ahead = (day - moment.date()).days == 1 and hour >= 10  # UTC+14 at most
            behind = (day - moment.date()).days == -1 and hour < 12  # UTC-12 at most
            if ahead or behind:
                c.refused = f"a UTC timestamp; the page shows the local day {day.isoformat()}"
                s.add("the page's local day of a declared UTC timestamp", 1.0)
                break


def _visible_dates(ctx: Context) -> list[Scored]:
    """Dates the page shows (or marks up) around the article, each judged by where it is."""
    ix, lang = ctx.index, ctx.lang
    if ix.body_start is None:
        return []
    found_at: list[tuple[Any, object, Scored]] = []
    for el in ix.elements:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if not tag:
            continue
        attr = el.get("datetime") or (el.get("title") if tag == "abbr" else None)
        text = ix.text(el)
        shown: list[tuple[date | datetime | None, str, bool, bool, bool]] = []
        if tag in {"time", "abbr"} and attr:
            declared = parse_when(attr, lang)
            seen = find_dates(text, lang) if text and len(text) <= 160 else []
            # the day the element shows is the page's local day; its attribute may be UTC
            declared_day = day_of(declared)
            if seen and (declared_day is None or abs((seen[0].day - declared_day).days) <= 1):
                f = seen[0]
                shown.append((f.value(), f"<{tag}> {f.text!r}", f.published_word,
                              f.updated_word, False))  # fmt: skip
            else:
                shown.append((declared, f"<{tag} {attr}>", False, False, False))
        elif text and re.search(r"\d", text[:160]):
            long = len(text) > 160  # a paragraph: only a dateline opening it is read
            for f in find_dates(text[:160], lang):
                opens = f.start <= 1 and bool(re.match(r"\s*(?:--|—|–|-|:)", text[f.end :]))
                if opens or not long:
                    shown.append((f.value(), f"<{tag}> {f.text!r}", f.published_word,
                                  f.updated_word, opens))  # fmt: skip
        if not shown:
            continue
        itemprop = (el.get("itemprop") or "").lower()
        where = zone(ctx, el)
        marks = class_text(el)
        for value, label, published_word, updated_word, opens in shown:
            if value is None:
                continue
            c = Scored(value, label)
            scoped = itemprop in {"datepublished", "datecreated"} and in_article_scope(el, ix)
            if (
                itemprop == "datemodified"
                or "modified" in marks
                or (updated_word and not published_word)
            ):
                c.refused = "an update date, not the publication date"
            elif scoped:
                c.add("the article's microdata datePublished", 3.0)
            elif where.name == "header":
                c.add(f"in the article's header ({where.why})", 3.5)
            elif where.name == "sign-off":
                c.add(f"in the sign-off {where.why}", 2.0)
            elif opens and where.name in {"body start", "body top", "header"}:
                c.add("a dateline opening a paragraph of the article", 2.5)
            elif where.name == "body top" and byline_like(text, lang):
                c.add("a byline or date line at the top of the body", 2.5)
            elif where.why == "inside the article's text" and _AUTHOR_HINT.search(marks):
                c.add("in a byline inside the article's text", 2.0)
            elif where.name == "body start":
                c.refused = "inside the article's text"
            elif published_word and where.why.startswith(_SOFT):
                c.add(f"labelled as the publication date ({where.why})", 2.0)
            else:
                c.refused = f"not the article's: {where.why}"
            if not c.refused:
                if _DATE_HINT.search(marks) or tag in {"time", "abbr"}:
                    c.add("marked as a date or byline", 0.5)
                if published_word or "publish" in marks or itemprop == "datepublished":
                    c.add("marked as the publication date", 1.0)
            found_at.append((el, key_of(value), c))
    _dated_links(ctx, found_at)
    # an element and its wrapper showing the same date are one candidate, not two sources
    keep: list[Scored] = []
    for el, k, c in found_at:
        if not c.refused and any(
            v == k and e is not el and not x.refused and el in set(e.iterancestors())
            for e, v, x in found_at
        ):
            continue
        keep.append(c)
    live: set[object] = set()
    for c in keep:
        if not c.refused:
            k = key_of(c.value)
            if k in live:
                c.refused = "the same date shown again"
            live.add(k)
    return keep


def _dated_links(ctx: Context, found_at: list[tuple[Any, object, Scored]]) -> None:
    """Dates of a list are the listed pages' dates (an archive, teasers, "more stories"):
    items of one list (``li``, ``tr``, ``article`` cards) or links side by side in one
    part of the page that show two or more different dates are all refused, and so is
    the list around them. One dated link alone (a permalink, a day's archive) stays."""
    ix = ctx.index
    groups: dict[object, list[tuple[Any, Scored]]] = {}
    for el, _, c in found_at:
        if c.refused:
            continue
        item = next(
            (a for a in [el, *el.iterancestors()] if a.tag in {"li", "tr", "article"}), None
        )
        if item is not None and item.getparent() is not None and not ix.contains_body(item):
            groups.setdefault(item.getparent(), []).append((el, c))
            continue
        linked = el.tag == "a" or next(el.iterancestors("a"), None) is not None
        if linked:
            groups.setdefault(("links", zone(ctx, el).name), []).append((el, c))
    refused: list[tuple[Any, object, str]] = []
    for members in groups.values():
        if len({key_of(c.value) for _, c in members}) >= 2:
            for el, c in members:
                c.refused = "one of several dated items or links (an archive or teaser list)"
                refused.append((el, key_of(c.value), c.refused))
    for el, k, c in found_at:  # the list or item around such a date shows it too
        if not c.refused:
            for inner, ik, why in refused:
                if ik == k and el in set(inner.iterancestors()):
                    c.refused = why
                    break


# -- publisher ----------------------------------------------------------------------------


def clean_site(value: str) -> str | None:
    """'Aktuálně.cz - Víte, co se právě děje' keeps both; 'Site | BY: NAME' loses the byline."""
    if URLISH_NAME.match(value):
        return None
    parts = [p.strip() for p in _SEP.split(value)[::2] if p.strip()]
    kept = [p for p in parts if not _BY.match(p)]
    if len(kept) == len(parts):
        return value
    return " | ".join(kept) if kept else None


URLISH_NAME = re.compile(r"^(?:https?:)?//", re.I)


def choose_publisher(ctx: Context) -> FieldChoice:
    m = ctx.meta
    cands: list[Scored] = []
    title_parts = split_title(m.title_tag)[0] if m.title_tag else []
    for key, weight in (("ld:publisher", 3.5), ("og:site_name", 3.0), ("ld:isPartOf", 2.0),
                        ("ld:website", 1.5), ("application-name", 0.5),
                        ("apple-mobile-web-app-title", 0.5)):  # fmt: skip
        for v in m.get(key)[:1]:
            site = clean_site(v)
            if site is None:
                c = Scored(v, key)
                c.refused = "a URL, not a name"
                cands.append(c)
                continue
            parts = [p.strip() for p in site.split(" | ")]
            if len(parts) == 1:
                parts = [p.strip() for p in _SEP.split(site)[::2] if p.strip()]
            if len(parts) > 1 and not (m.title_tag and norm(v) in norm(m.title_tag)):
                # "Name - tagline": the part the <title> or the domain also names
                named = [p for p in parts if any(fold(p) == fold(t) for t in title_parts)
                         or any(fold(p) == fold(h) for h in ctx.hosts)]  # fmt: skip
                site = named[0] if named else site
            c = Scored(site, key)
            c.add(f"declared as {key}", weight)
            cands.append(c)
    if len(title_parts) > 1:
        for p in (title_parts[-1], title_parts[0]):
            if is_site(ctx, p) and len(p.split()) <= 5:
                c = Scored(p, "<title>")
                c.add("the site part of the <title>", 0.5)
                cands.append(c)
                break
    for raw in m.get("copyright")[:1]:
        for c in cands:
            if (
                isinstance(c.value, str)
                and norm(c.value) in norm(raw)
                and c.source != "ld:publisher"
            ):
                c.add("the copyright holder too", 0.3)
    return vote("publisher", cands, minimum=2.0, rule="the site name the page declares")


# -- body ---------------------------------------------------------------------------------


def trim_body(body: str, title: FieldChoice, author: FieldChoice, lang: Language) -> str:
    """The body less the headline, byline and dateline lines it opens with (they are fields,
    not the story's first paragraph)."""
    lines = body.split("\n")
    names = author.text.split(" and ") if author.text else []
    cut = 0
    for line in lines[:4]:
        text = line.strip()
        n = len(text.split())
        if (
            not text
            or (title.text and norm(text) == norm(title.text))
            or (
                n <= 15
                and (names and all(norm(x) in norm(text) for x in names[:1]))
                and (_BY.match(text) or n <= len(" ".join(names).split()) + 6)
            )
            or (n <= 10 and find_dates(text, lang) and not re.search(r"[.!?]$", text))
        ):
            cut += 1
        else:
            break
    return "\n".join(lines[cut:]).lstrip("\n")
