"""Seed files: plain-text dumps of web pages turned into articles.

A dump is whatever a browser's "select all, copy" or a text-mode browser gives:
site navigation, ad slots, share bars, cookie banners, "Related Posts" lists and
copyright lines around the article. The parser works on lines with generic
heuristics (what a headline, a byline, a date line, a label or a paragraph looks
like) plus a list of boilerplate patterns that the config can extend. It knows no
particular site.

Optional front matter, TOML between ``+++`` lines at the very top, lets an editor
set or override ``url``, ``publisher``, ``author``, ``published``, ``ai_generated``
(and ``title``, ``summary``, ``labels``, ``ai_disclosure``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes

from briefing.errors import SeedError
from briefing.models import Article
from briefing.normalize import canonical_url, clean_text, find_ai_disclosure, stable_id
from briefing.sources.dates import DateMatch, find_date, parse_front_matter_date

MAX_SEED_BYTES = 5_000_000
FRONT_MATTER_KEYS = frozenset(
    {
        "url",
        "publisher",
        "author",
        "published",
        "ai_generated",
        "ai_disclosure",
        "title",
        "summary",
        "labels",
    }
)

# Whole lines that are page furniture, never article text (case-insensitive, full match).
DEFAULT_BOILERPLATE: tuple[str, ...] = (
    r"(?:top|bottom) of (?:the )?page",
    r"(?:back|return|go) to (?:the )?top",
    r"skip to (?:main )?(?:content|navigation|main)",
    r"(?:main )?menu|navigation|search|home|close|open menu|toggle navigation",
    r"advertise(?:ment| with us| here)?|sponsored(?: content)?|ad|ads|promoted|paid (?:post|content)",
    r"story continues below(?: this)? advert(?:isement)?|continue reading(?: below)?",
    r"\[?email\s*(?:&#160;|\s)?protected\]?",
    r".*@.*\.(?:com|org|net|io|news)",
    r"(?:sign|log) ?(?:in|up|out)|register|my account|account|subscribe(?: now| today)?",
    r"(?:sign up|subscribe) (?:for|to) (?:our|the) .*(?:newsletter|briefing|updates).*",
    r"get (?:our|the) .*newsletter.*|newsletter",
    r"(?:share|share this|share (?:this )?(?:article|story|post)|share on \w+|tweet|pin it|copy link|link copied|print|email|save|bookmark|listen|listen to (?:this )?article|gift (?:this )?article)",
    r"(?:follow us|follow) (?:on .*)?",
    r"source|sources|thoughts|comments?|\d+ comments?|leave a (?:comment|reply)|reply|like|likes|\d+ likes?|\d+ views?",
    r"(?:all rights reserved\.?|terms(?: of (?:use|service))?|privacy(?: policy)?|cookie(?: policy| settings| preferences)?|contact(?: us)?|about(?: us)?|careers|imprint|accessibility|sitemap|faq|help)",
    r"(?:accept|reject|decline)(?: all)?(?: cookies)?|manage (?:cookies|preferences|consent)|got it|ok|i agree|agree",
    r"loading\.*|please wait\.*|javascript (?:is )?(?:required|disabled).*",
    r"(?:image|photo|photograph|illustration|video)(?: credit)?s?\s*[:(].{0,80}",
    r"(?:updated|published|posted|last updated)\s*:?",
    r"(?:read|see) (?:more|also|next)(?:\s*[:>»›].*)?|more|load more|view all|see all|show more",
    r"previous(?: (?:article|post|story))?|next(?: (?:article|post|story))?|older posts?|newer posts?",
    r"tags?\s*:.*|filed under\s*:?.*|categor(?:y|ies)\s*:.*|topics?\s*:.*",
)

# A line with one of these words beside "cookie(s)" is a consent banner.
_COOKIE_BANNER = re.compile(
    r"\bcookies?\b.*\b(?:we use|uses|accept|consent|privacy|experience|personali[sz]e|partners|"
    r"settings|preferences|analytics|tracking)\b|\b(?:we use|this (?:site|website) uses)\b.*\bcookies?\b",
    re.I,
)
_SHARE_WORDS = frozenset(
    [
        "share",
        "shares",
        "tweet",
        "email",
        "e-mail",
        "print",
        "copy",
        "link",
        "facebook",
        "twitter",
        "x",
        "linkedin",
        "whatsapp",
        "telegram",
        "reddit",
        "pinterest",
        "threads",
        "bluesky",
        "mastodon",
        "flipboard",
        "pocket",
        "messenger",
        "line",
        "sms",
        "more",
        "save",
        "this",
        "article",
        "story",
        "post",
        "on",
        "via",
        "gift",
        "comment",
        "comments",
    ]
)
# Headings that open a list of other stories or comments: what follows is skipped
# until real prose comes back.
_ASIDE_HEADING = re.compile(
    r"(?:related(?: posts| articles| stories| content| news| reading| coverage)?|"
    r"most (?:read|popular|viewed|shared|commented)(?: (?:stories|articles|this week|today|now))?|"
    r"trending(?: now| stories| articles)?|popular(?: now| stories| articles| posts)?|"
    r"recommended(?: for you| stories| articles| reading)?|you (?:may|might) (?:also )?(?:like|enjoy)|"
    r"read (?:next|more|also)|also read|more (?:from|on|in|stories|news|like this|to read)\b.*|"
    r"latest(?: news| stories| articles| posts)?|further reading|editor'?s picks|top stories|"
    r"comments?|\d+ comments?|thoughts|leave a (?:comment|reply)|join the (?:conversation|discussion)|"
    r"what to read next|in (?:other|related) news|don'?t miss|sponsored (?:stories|links|content)|"
    r"around the web|from our partners|recent posts|archives?)\s*:?",
    re.I,
)
_READING_TIME = re.compile(
    r"^(?:reading time\s*:?\s*)?(?:about\s+|~\s*)?(\d{1,3})[\s-]*(?:min(?:ute)?s?\.?)(?:\s+(?:read|reading|to read)|\s+read\w*)?",
    re.I,
)
_READING_TIME_ALONE = re.compile(r"^(?:reading time|read time)\s*:?\s*(\d{1,3})\s*min", re.I)
_COPYRIGHT = re.compile(
    r"^(?:(?:©|\(c\)|copyright)\s*)+(?:(?P<y1>(?:19|20)\d{2})(?:\s*[-–—]\s*(?P<y2>(?:19|20)\d{2}))?)?[,.]?\s*"
    r"(?:by\s+)?(?P<holder>[^|•·]*?)[\s.,]*(?:all rights reserved\.?)?[\s.]*$",
    re.I,
)
_COPYRIGHT_TRAILING = re.compile(
    r"^(?P<holder>[^©|]{2,60}?)\s*(?:©|\(c\)|copyright)\s*(?P<y1>(?:19|20)\d{2})(?:\s*[-–—]\s*(?P<y2>(?:19|20)\d{2}))?[\s.,]*(?:all rights reserved\.?)?$",
    re.I,
)
_BYLINE = re.compile(
    r"^(?:by|written by|words by|reporting by|author\s*:|authors\s*:|posted by|story by)\s+(?P<names>.+)$",
    re.I,
)
_NAME_TOKEN = re.compile(
    r"^(?:[A-Z][\w'’.-]*|[A-Z]\.|de|da|del|van|von|der|den|la|le|al|el|bin|ibn|y|du|di)$"
)
_META_SPLIT = re.compile(r"\s*(?:\||•|·|—|–|\s-\s|/\s)\s*")
_BREADCRUMB_SPLIT = re.compile(r"\s*(?:>|›|»|→|/|\\)\s*")
_SENTENCE_PUNCT = re.compile(r"[.!?…:;][\"'”’)\]]*$")
_DATELINE = re.compile(r"^[A-Z][A-Z .,'-]{2,40}(?:\([^)]*\))?\s*[—–-]\s")
_GLUED = re.compile(r"(?<=[a-z]{3})(?=[A-Z])")
_NAV_WORDS = frozenset({"home", "menu", "news", "search", "index", "main", "start", "homepage"})


@dataclass
class _Line:
    text: str
    index: int
    gap_before: int  # blank lines before it
    kind: str = "text"  # text | drop | title | dek | meta | label | aside
    value: Any = None


@dataclass
class _Meta:
    title: str | None = None
    publisher: str | None = None
    author: str | None = None
    date: DateMatch | None = None
    updated: DateMatch | None = None
    copyright_year: int | None = None
    copyright_holder: str | None = None
    site_names: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    section: str | None = None
    reading_time: int | None = None
    dek: str | None = None
    ai_disclosure: str | None = None


class SeedParser:
    """Parses page dumps; ``extra_boilerplate`` comes from ``seeds.boilerplate`` in the config."""

    def __init__(self, extra_boilerplate: Iterable[str] = ()) -> None:
        patterns = [*DEFAULT_BOILERPLATE, *extra_boilerplate]
        self._boilerplate = re.compile("|".join(f"(?:{p})" for p in patterns), re.I)

    # -- files ------------------------------------------------------------------------------

    def parse_file(self, path: Path, *, source: str | None = None) -> Article:
        """Read, decode and parse one seed file. Raises SeedError naming the file."""
        name = source or f"seed:{path.name}"
        try:
            size = path.stat().st_size
            if size > MAX_SEED_BYTES:
                raise SeedError(
                    str(path),
                    f"file is {size:,} bytes, over the {MAX_SEED_BYTES:,} limit for a seed",
                )
            data = path.read_bytes()
        except PermissionError as exc:
            raise SeedError(
                str(path), "permission denied", "make the file readable (chmod a+r)"
            ) from exc
        except IsADirectoryError as exc:
            raise SeedError(str(path), "is a folder, not a file") from exc
        except OSError as exc:
            raise SeedError(str(path), f"cannot be read: {exc.strerror or exc}") from exc
        text, encoding = decode_seed(data, str(path))
        article = self.parse_text(text, source=name, path_hint=path.name)
        if encoding not in {"utf_8", "utf-8", "ascii"}:
            notes = (*article.notes, f"decoded as {encoding} (not UTF-8)")
            article = _replace(article, notes=notes)
        return article

    # -- text -------------------------------------------------------------------------------

    def parse_text(self, text: str, *, source: str, path_hint: str = "") -> Article:
        front, text = split_front_matter(text, source)
        text = clean_text(text)
        lines = _to_lines(text)
        if not lines:
            raise SeedError(
                source,
                "has no text" + (" after its front matter" if front else ""),
                "put the page's text in the file, or delete it",
            )
        meta = _Meta()
        self._first_pass(lines, meta)
        self._find_title(lines, meta, front.get("title"))
        if meta.title is None:
            raise SeedError(
                source,
                "no headline found (no line looks like a title)",
                'add `title = "..."` in +++ front matter at the top of the file',
            )
        self._header(lines, meta)
        self._asides(lines)
        self._brand_lines(lines, meta)
        body_lines = [ln.text for ln in lines if ln.kind == "text"]
        return self._article(meta, front, body_lines, source, path_hint)

    # -- passes -----------------------------------------------------------------------------

    def _first_pass(self, lines: list[_Line], meta: _Meta) -> None:
        """Mark furniture everywhere: boilerplate, banners, share bars, copyright, disclosures."""
        for ln in lines:
            t = ln.text
            if not re.search(r"\w", t):
                ln.kind = "drop"  # lone punctuation such as "}" from a broken template
                continue
            if self._boilerplate.fullmatch(t) or _is_cookie_banner(t) or _is_share_bar(t):
                ln.kind = "drop"
                continue
            cr = _COPYRIGHT.match(t) or _COPYRIGHT_TRAILING.match(t)
            if cr and (cr.group("y1") or re.match(r"(?i)^(©|\(c\)|copyright)", t)) and len(t) < 160:
                ln.kind = "drop"
                year = cr.group("y2") or cr.group("y1")
                if year:
                    meta.copyright_year = max(meta.copyright_year or 0, int(year))
                holder = _clean_holder(cr.group("holder") or "")
                if holder and not meta.copyright_holder:
                    meta.copyright_holder = holder
                continue
            if _is_breadcrumb(t):
                ln.kind = "drop"
                crumbs = [
                    c for c in _BREADCRUMB_SPLIT.split(t) if c and c.lower() not in _NAV_WORDS
                ]
                if crumbs and not meta.labels:
                    meta.labels.extend(crumbs)
                continue
            if len(t.split()) <= 80:
                disclosure = find_ai_disclosure(t)
                if disclosure and len(t.split()) <= 80 and _is_notice(t, disclosure):
                    ln.kind = "drop"
                    meta.ai_disclosure = meta.ai_disclosure or disclosure

    def _find_title(self, lines: list[_Line], meta: _Meta, forced: Any) -> None:
        candidates = [ln for ln in lines[:40] if ln.kind == "text"]
        # A site bar "Site Home | Publisher" or "Headline | Publisher" on top.
        for ln in candidates[:3]:
            if "|" in ln.text and not self._meta_line(
                _Line(ln.text, ln.index, 0), _Meta(), strict=False
            ):
                parts = [p.strip() for p in ln.text.split("|") if p.strip()]
                if 2 <= len(parts) <= 6 and all(len(p.split()) <= 12 for p in parts):
                    ln.kind = "drop"
                    ln.value = parts
                    meta.site_names.extend(parts)
        if isinstance(forced, str) and forced.strip():
            meta.title = forced.strip()
            for ln in candidates:
                if ln.text == meta.title:
                    ln.kind = "title"
            return
        candidates = [ln for ln in candidates if ln.kind == "text"]
        texts = [ln.text for ln in candidates]
        headline_like = [ln for ln in candidates if _headline_like(ln.text)]
        # A headline repeated near the top (page <title> and <h1>) is the surest sign.
        repeated = [ln for ln in headline_like[:12] if texts.count(ln.text) > 1]
        title_line = repeated[0] if repeated else None
        if title_line is None:
            for ln in headline_like[:8]:
                if len(ln.text.split()) >= 3 and not find_date(ln.text, whole=True):
                    title_line = ln
                    break
        if title_line is None:
            return
        meta.title = title_line.text
        for ln in candidates:
            if ln.text == meta.title:
                ln.kind = "title"
        # The headline as the first part of a site bar names the site in its last part.
        for ln in lines[:5]:
            if ln.kind == "drop" and isinstance(ln.value, list) and ln.value[0] == meta.title:
                meta.site_names = [p for p in meta.site_names if p != meta.title]

    def _header(self, lines: list[_Line], meta: _Meta) -> None:
        """Between the top and the first paragraph: kickers, labels, byline, date, reading
        time, and the dek (standfirst)."""
        title_at = next(i for i, ln in enumerate(lines) if ln.kind == "title")
        first_prose = next(
            (
                i
                for i, ln in enumerate(lines)
                if ln.kind == "text" and i > title_at and _prose_like(ln.text)
            ),
            len(lines),
        )
        for i, ln in enumerate(lines):
            if ln.kind != "text":
                continue
            in_header = i < first_prose
            if self._meta_line(ln, meta, strict=not in_header):
                continue
            if in_header and not _prose_like(ln.text) and len(ln.text.split()) <= 6:
                # Kickers and section labels ("PoliticsAI Analysis" is two labels glued).
                ln.kind = "label"
                for part in _META_SPLIT.split(ln.text):
                    meta.labels.extend(
                        _GLUED.split(part.strip())
                        if " " not in part.strip()[:3]
                        else _split_glued(part)
                    )
        # The dek: a short first paragraph straight after the header, when more prose follows.
        prose = [ln for ln in lines if ln.kind == "text"]
        if len(prose) >= 3:
            first = prose[0]
            words = len(first.text.split())
            if (
                (first.index <= lines[first_prose].index if first_prose < len(lines) else True)
                and 8 <= words <= 70
                and not _DATELINE.match(first.text)
                and _prose_like(prose[1].text)
            ):
                first.kind = "dek"
                meta.dek = first.text
        meta.labels = _unique([lab.strip(" :") for lab in meta.labels if lab.strip(" :")])
        if meta.labels:
            meta.section = meta.labels[0]

    def _meta_line(self, ln: _Line, meta: _Meta, *, strict: bool) -> bool:
        """A byline, a date, a reading time, or a line of them joined by separators."""
        parts = [p for p in _META_SPLIT.split(ln.text) if p]
        if strict and len(ln.text.split()) > 12:
            return False
        found: list[str] = []
        for part in parts:
            kind = self._meta_part(part, meta, strict=strict)
            if kind is None:
                if strict or len(parts) == 1:
                    return False
                continue
            found.append(kind)
        if not found:
            return False
        ln.kind = "meta"
        return True

    def _meta_part(self, part: str, meta: _Meta, *, strict: bool) -> str | None:
        part = part.strip()
        rt = _READING_TIME.match(part) or _READING_TIME_ALONE.match(part)
        if rt:
            rest = part[rt.end() :].strip()
            if len(rest.split()) <= 2:  # "3 min readSource": a link label glued on
                meta.reading_time = meta.reading_time or int(rt.group(1))
                return "reading_time"
        by = _BYLINE.match(part)
        if by:
            names, when = _split_names_and_date(by.group("names"))
            if names:
                meta.author = meta.author or names
                if when:
                    self._take_date(when, meta)
                return "author"
        match = find_date(part, whole=True)
        if match:
            self._take_date(match, meta)
            return "date"
        return None

    @staticmethod
    def _take_date(match: DateMatch, meta: _Meta) -> None:
        if match.updated and meta.date is not None:
            meta.updated = meta.updated or match
        elif meta.date is None:
            meta.date = match

    def _asides(self, lines: list[_Line]) -> None:
        """'Most read', 'Related Posts', comments: skip the list that follows the heading."""
        skipping = False
        for ln in lines:
            if ln.kind in {"title", "dek", "meta", "label"}:
                continue
            if ln.kind in {"text", "drop"} and _ASIDE_HEADING.fullmatch(ln.text):
                ln.kind = "aside"
                skipping = True
                continue
            if not skipping or ln.kind != "text":
                continue
            if _prose_like(ln.text) and len(ln.text.split()) >= 20:
                skipping = False
            else:
                ln.kind = "aside"

    def _brand_lines(self, lines: list[_Line], meta: _Meta) -> None:
        """A line that is just the site's name (a logo, an ad slot's label) is furniture."""
        names = [n for n in (*meta.site_names, meta.copyright_holder) if n]
        brands = set()
        for n in names:
            words = n.split()
            for k in range(1, len(words) + 1):
                brands.add(" ".join(words[:k]).lower())
        for ln in lines:
            if ln.kind == "text" and len(ln.text.split()) <= 4 and ln.text.lower() in brands:
                ln.kind = "drop"

    # -- result -----------------------------------------------------------------------------

    def _article(
        self, meta: _Meta, front: dict[str, Any], body_lines: list[str], source: str, path_hint: str
    ) -> Article:
        publisher = _pick_publisher(meta)
        published: date | datetime | None = None
        if meta.date is not None:
            published = meta.date.resolve(meta.copyright_year)
        notes: list[str] = []
        if meta.date is not None and published is None:
            notes.append(f"date {meta.date.text!r} has no year and the page gives none: left empty")
        if "published" in front:
            published = parse_front_matter_date(front["published"], source)
        body = "\n\n".join(body_lines)
        summary = str(front.get("summary") or meta.dek or (body_lines[0] if body_lines else ""))
        ai_disclosure = front.get("ai_disclosure", meta.ai_disclosure)
        ai_generated = bool(front.get("ai_generated", ai_disclosure is not None))
        if not ai_generated:
            ai_disclosure = None
        url = canonical_url(front.get("url")) if front.get("url") else None
        if front.get("url") and url is None:
            raise SeedError(source, f"front matter url {front['url']!r} is not an http(s) URL")
        labels = front.get("labels", meta.labels)
        title = str(meta.title)
        return Article(
            id=stable_id(guid=None if url else source, url=url, scope="seed", content=title + body),
            source_kind="seed",
            source=source,
            title=title,
            url=url,
            guid=None,
            publisher=str(front.get("publisher") or publisher or "") or None,
            author=str(front.get("author") or meta.author or "") or None,
            published=published,
            updated=meta.updated.resolve_datetime(meta.copyright_year) if meta.updated else None,
            summary=summary,
            body=body,
            body_html=None,
            section=meta.section if "labels" not in front else (labels[0] if labels else None),
            labels=tuple(str(lab) for lab in labels),
            reading_time_min=meta.reading_time,
            ai_generated=ai_generated,
            ai_disclosure=str(ai_disclosure) if ai_disclosure else None,
            notes=tuple(notes),
        )


# -- helpers ---------------------------------------------------------------------------------


def decode_seed(data: bytes, name: str) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else the encoding charset-normalizer detects."""
    if not data.strip():
        raise SeedError(name, "is empty", "put the page's text in the file, or delete it")
    try:
        return data.decode("utf-8-sig"), "utf_8"
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        best_binary = from_bytes(data[:65536]).best()
        if best_binary is None or not best_binary.encoding.startswith("utf_16"):
            raise SeedError(
                name, "is a binary file, not text", "seeds are plain-text page dumps (.txt)"
            )
    best = from_bytes(data).best()
    if best is None:
        raise SeedError(
            name,
            "is not text in any encoding we can detect",
            "save the file as UTF-8 and ingest again",
        )
    return str(best), best.encoding


def split_front_matter(text: str, source: str) -> tuple[dict[str, Any], str]:
    stripped = text.lstrip("\ufeff")
    if not stripped.startswith("+++"):
        return {}, text
    lines = stripped.split("\n")
    if lines[0].strip() != "+++":
        return {}, text
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "+++")
    except StopIteration as exc:
        raise SeedError(
            source,
            "front matter opened with +++ on line 1 is never closed",
            "add a line with +++ after the front matter",
        ) from exc
    try:
        front = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as exc:
        raise SeedError(
            source,
            f"front matter is not valid TOML: {exc}",
            "fix the front matter between the +++ lines",
        ) from exc
    unknown = sorted(set(front) - FRONT_MATTER_KEYS)
    if unknown:
        raise SeedError(
            source,
            f"front matter has unknown key(s): {', '.join(unknown)}",
            f"use only: {', '.join(sorted(FRONT_MATTER_KEYS))}",
        )
    if "ai_generated" in front and not isinstance(front["ai_generated"], bool):
        raise SeedError(source, "front matter ai_generated must be true or false")
    if "labels" in front and not (
        isinstance(front["labels"], list) and all(isinstance(x, str) for x in front["labels"])
    ):
        raise SeedError(source, "front matter labels must be a list of strings")
    return front, "\n".join(lines[end + 1 :])


def _to_lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    gap = 0
    for raw in text.split("\n"):
        t = " ".join(raw.split())
        if not t:
            gap += 1
            continue
        out.append(_Line(text=t, index=len(out), gap_before=gap))
        gap = 0
    return out


def _headline_like(text: str) -> bool:
    words = text.split()
    if not 1 <= len(words) <= 30 or len(text) > 250:
        return False
    if text.endswith(".") and not text.endswith("..."):
        return False
    return bool(re.search(r"[A-Za-z\u00c0-\uffff]", text))


def _prose_like(text: str) -> bool:
    """A paragraph of the article, not a heading, label or list item."""
    words = len(text.split())
    return words >= 25 or (words >= 8 and bool(_SENTENCE_PUNCT.search(text)))


def _is_cookie_banner(text: str) -> bool:
    return len(text.split()) <= 60 and bool(_COOKIE_BANNER.search(text))


def _is_share_bar(text: str) -> bool:
    tokens = [t for t in re.split(r"[\s|•·,/:]+", text.lower()) if t]
    return (
        bool(tokens)
        and len(tokens) <= 14
        and all(t in _SHARE_WORDS for t in tokens)
        and (
            len(tokens) >= 2
            or tokens[0] in {"facebook", "twitter", "linkedin", "whatsapp", "reddit"}
        )
    )


def _is_breadcrumb(text: str) -> bool:
    if not re.search(r"[>›»→]| / ", text):
        return False
    crumbs = [c for c in _BREADCRUMB_SPLIT.split(text) if c.strip()]
    return (
        2 <= len(crumbs) <= 8
        and all(len(c.split()) <= 4 for c in crumbs)
        and not _SENTENCE_PUNCT.search(text)
    )


def _is_notice(line: str, disclosure: str) -> bool:
    """The disclosure stands as a notice of its own rather than inside a paragraph of reporting."""
    return len(line.split()) <= 80


def _split_glued(part: str) -> list[str]:
    # "PoliticsAI Analysis" -> "Politics", "AI Analysis"; "World News" stays whole.
    return [p for p in _GLUED.split(part) if p.strip()]


def _clean_holder(holder: str) -> str | None:
    holder = re.sub(r"(?i)\ball rights reserved\b\.?", "", holder)
    holder = holder.strip(" .,;:-–—")
    if not holder or len(holder.split()) > 8 or not re.search(r"[A-Za-z]", holder):
        return None
    return holder


def _split_names_and_date(text: str) -> tuple[str | None, DateMatch | None]:
    """'Jane Doe and John Roe, Reuters March 3, 2026' -> ('Jane Doe and John Roe', date)."""
    when = find_date(text, whole=False)
    if when:
        text = (text[: when.start] + " " + text[when.end :]).strip()
    text = re.sub(r"(?i)\s+(?:on|at|updated|published)\s*$", "", text).strip(" ,;")
    text = re.split(r"\s*,\s*(?=[A-Z][\w.]*(?:\s+[A-Z][\w.]*)*\s*$)", text)[0]  # drop ", Reuters"
    tokens = text.replace(",", " , ").replace("&", " and ").split()
    name_tokens = [t for t in tokens if t not in {",", "and"}]
    if not name_tokens or len(name_tokens) > 12:
        return None, when
    if not all(_NAME_TOKEN.match(t) for t in name_tokens):
        return None, when
    return " ".join(text.split()), when


def _pick_publisher(meta: _Meta) -> str | None:
    site = [s for s in meta.site_names if s.split() and s.split()[-1].lower() not in _NAV_WORDS]
    if site:
        return site[-1]
    if meta.copyright_holder:
        return meta.copyright_holder
    if meta.site_names:
        return meta.site_names[-1]
    return None


def _unique(items: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        key = item.lower()
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _replace(article: Article, **changes: Any) -> Article:
    from dataclasses import replace

    return replace(article, **changes)


def parse_seed_file(path: Path, extra_boilerplate: Iterable[str] = ()) -> Article:
    return SeedParser(extra_boilerplate).parse_file(path)


__all__ = [
    "DEFAULT_BOILERPLATE",
    "SeedParser",
    "decode_seed",
    "parse_seed_file",
    "split_front_matter",
]

_ = timezone  # re-exported for callers that build datetimes alongside seeds
