"""The author of a text dump: bylines near the headline, in the page's language.

A byline is "By NAME" in any language we read ("par", "por", "von", "door", ...),
the word alone on one line with the names on the next, or a person's name standing
beside a date. Names are cut from what follows them (a date, "| 4 min read", a role,
a handle) and joined with "and". A byline that names a desk, staff or a wire ("By
AsiaBrief Staff") means no personal author. Candidates in the menus above the header,
or in teaser lists and comments below the body, are refused.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from briefing.sources import page
from briefing.sources.extract import learned
from briefing.sources.extract.blocks import Layout
from briefing.sources.extract.language import PUBLISHED_WORDS, Language
from briefing.sources.extract.lines import Line
from briefing.sources.extract.model import FieldChoice, nothing
from briefing.sources.extract.scoring import Scored, choose_learned

_CUT = re.compile(
    r"\s*(?:\||•|·|—|–|/|::)(?:\s+.*)?$|\s+-\s+.*$|\s*,\s*@.*$|\s+@\w.*$|\s*\(@.*$|"
    r"\s+(?:on|at|in|le|el|em|am|il|op|le|dne|den)\s+\S.*$|,\s*(?=[^,]*\d).*$",
    re.I,
)
_JOIN = re.compile(
    r"\s*(?:,|&|\band\b|\bet\b|\by\b|\be\b|\bund\b|\ba\b|\bi\b|\bog\b|\boch\b|\ben\b)\s*"
)
_HANDLE = re.compile(r"@\w+")
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
INSTITUTION_WORDS = re.compile(
    r"\b(?:staff|desk|team|editors?|editorial|newsroom|redac\w+|redak\w+|rédaction|redacción|"
    r"agenc\w+|agencies|wires?|bureau|press|afp|reuters|ap|dpa|efe|ansa|čtk)\b",
    re.I,
)
_ROLE = re.compile(
    rf"{page.ROLE.pattern}|\b(?:engineer|manager|developer|designer|founder|co-founder|ceo|cto|"
    r"scientist|student|intern|producer|host|photographer|strategist|consultant|officer|"
    r"president|lead|architect|evangelist|advocate)\b",
    re.I,
)
_NAME_WORD = r"(?:[^\W\d_][^\W\d_'’-]*(?:[-'’][^\W\d_]+)*|[^\W\d_]\.)"
_BARE_NAME = re.compile(
    rf"{_NAME_WORD}(?:\s+{_NAME_WORD}){{1,3}}(?:\s*(?:,|&|and|et|y|e|und)\s*{_NAME_WORD}(?:\s+{_NAME_WORD}){{1,3}})*"
)


@dataclass(frozen=True)
class Byline:
    names: str | None  # "A and B"; None for an institutional byline
    explicit: bool  # it had a "by" word
    at: int
    own_line: bool = True  # the names are most of their line (not one part of a meta line)
    via: str = "byline"  # byline | name | copyright


@lru_cache(maxsize=64)
def _by_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    # the by-word may follow a date or "Posted" ("on March 10, 2015 by Nikhil Marathe")
    lead = (
        rf"(?:{PUBLISHED_WORDS}|on|le|el|em|am|il|op|dne|den|the|this|article|story|text|"
        r"written|geschrieben|verfasst|artikel|beitrag|écrit|escrito|scritto|napsal\w*)"
    )
    return re.compile(rf"^[\W_]*(?:{lead}\b[\W_]*){{0,3}}(?:{alts})\b\s*:?\s*(?P<rest>.*)$", re.I)


_LETTERS = re.compile(r"[^\W\d_]+")
_JOB_AFTER = re.compile(
    r"\s*/\s*(?=[^/]*\b(?:staff|writer|reporter|correspondent|editor|fellow)\b)|"
    r"\s*,\s*(?=[^,]*\b(?:staff|writer|reporter|correspondent|editor|fellow)\b)",
    re.I,
)
_WITH = re.compile(
    r"\s*\(\s*(?:with|avec|con|mit|com|met|con la colaboración de)\s+([^)]*)\)", re.I
)
_TRAILING_NUMBER = re.compile(r"[\s,;:|]+\d[\d\s]*$")
_PART = re.compile(r"\s+[|•·]\s+|\s+[|•·]|[|•·]\s+")


def _names(text: str, *, explicit: bool) -> str | None:
    """'Alexandre Hervaud et Jérémy Piette' -> 'Alexandre Hervaud and Jérémy Piette';
    three or more as 'A, B and C'."""
    handle = _HANDLE.search(text)
    text = _WITH.sub(r" and \1", text)
    text = _HANDLE.sub("", text).strip(" ,;:|")
    text = _CUT.sub("", text).strip(" ,;:|")
    text = _TRAILING_NUMBER.sub("", text).strip(" ,;:|")
    if not text and explicit and handle:
        return handle.group(0)[1:]  # "by @lazharichir": the handle is all the page gives
    people = [p.strip(" .") for p in _JOIN.split(text) if p.strip(" .")]
    people = [
        p for p in people if not (_ROLE.search(p) and len(people) > 1)
    ]  # ", Software Engineer"
    if not people or len(people) > 6:
        return None
    out = []
    for person in people:
        tokens = person.split()
        if not 1 <= len(tokens) <= 5:
            return None
        caps = all(t[0].isupper() or t.lower() in _PARTICLES or t[0] == "." for t in tokens)
        if not caps and not (
            explicit and len(tokens) == 1 and re.fullmatch(r"[\w.-]{3,30}", person)
        ):
            return None
        if len(tokens) == 1 and not explicit:
            return None
        out.append(" ".join(w.capitalize() if w.isupper() and len(w) > 2 else w for w in tokens))
    return out[0] if len(out) == 1 else ", ".join(out[:-1]) + " and " + out[-1]


def _without_dates(ln: Line, lang: Language) -> str:
    text = ln.text
    for f in reversed(ln.dates):
        text = (text[: f.start] + " " + text[f.end :]).strip()
    if ln.dates:  # "Joe Wee Monday, @": the weekday and the time's leftovers go too
        words = [w for w in text.split() if w.lower().strip(",.") not in lang.weekdays]
        text = " ".join(words).strip(" ,@|-–—")
    return text


def parse_byline(ln: Line, lang: Language, following: Line | None) -> Byline | None:
    text = _without_dates(ln, lang)
    parts = [p for p in _PART.split(text) if p.strip()] if ln.words <= 24 else [text]
    if len(parts) > 1:  # "Le Monde | 04.05.2015 | Par Martin Untersinger": one part is the byline
        for part in parts:
            m = _by_pattern(lang.by_words).match(part.strip())
            if m and m.group("rest").strip():
                found = _explicit(m.group("rest").strip(), ln, following, own=False)
                if found is not None:
                    return found
    m = _by_pattern(lang.by_words).match(text) if ln.words <= 16 else None
    if m:
        return _explicit(m.group("rest").strip(), ln, following, own=True)
    if ln.words > 12 or ln.prose or ln.furniture or ln.boundary:
        return None
    bare = _TRAILING_NUMBER.sub("", _CUT.sub("", _HANDLE.sub("", text))).strip(" ,;:|")
    if not _BARE_NAME.fullmatch(bare) or page.GLUED.search(bare):
        return None  # a bare name: two to four capitalized words, no digits, no sentence
    words = re.findall(r"[^\W\d_]+", bare.lower())
    if any(w in lang.stopwords and w not in _PARTICLES for w in words) or _ROLE.search(text):
        return None
    who = _names(bare, explicit=False)
    if who and 2 <= len(who.split()) <= 8:
        return Byline(who, False, ln.at, via="name")
    return None


def _explicit(rest: str, ln: Line, following: Line | None, *, own: bool) -> Byline | None:
    if not rest and following is not None and following.words <= 6:
        rest = following.text  # "por" alone, the names on the next line
    if not rest:
        return None
    rest = _JOB_AFTER.split(rest)[0]  # "TOMOKO OTAKE/ Staff Writer": the job is not a desk
    if INSTITUTION_WORDS.search(rest) and page.word_count(rest) <= 6:
        return Byline(None, True, ln.at, own)
    who = _names(rest, explicit=True)
    return Byline(who, True, ln.at, own) if who else None


def find_bylines(lines: list[Line], lay: Layout, lang: Language) -> list[Byline]:
    """Every byline and bare name of the page (where it stands is for the model to weigh)."""
    out = []
    for i, ln in enumerate(lines):
        if ln.words > 24:
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        b = parse_byline(ln, lang, nxt)
        if b is not None:
            out.append(b)
        elif (
            ln.furniture == "copyright line" and (cr := page.copyright_line(ln.text)) and cr.holder
        ):
            who = _names(re.sub(r"^[\d\s,–-]+", "", cr.holder), explicit=False)
            if who and not INSTITUTION_WORDS.search(cr.holder) and not _LEGAL.search(cr.holder):
                out.append(Byline(who, False, ln.at, via="copyright"))
    del lay
    return out


_LEGAL = re.compile(
    r"\b(?:inc|llc|ltd|limited|gmbh|ag|s\.?a|plc|corp|corporation|company|group|media|"
    r"network|foundation|trust|university|institute)\b\.?",
    re.I,
)


def author_candidates(
    lines: list[Line],
    lay: Layout,
    bylines: list[Byline],
    site: str | None,
    title_at: int | None,
    logits: list[float] | None = None,
) -> list[Scored]:
    """Each byline with the features the learned "author" model weighs."""
    candidates: list[Scored] = []
    counts: dict[str, int] = {}
    for b in bylines:
        if b.names:
            counts[b.names.lower()] = counts.get(b.names.lower(), 0) + 1
    institutional = any(b.names is None and b.at < lay.start + 5 for b in bylines)
    explicit = sum(1 for b in bylines if b.explicit and b.names)
    n = len(lines)
    body_words: set[str] = set()
    for ln in lines[lay.start : lay.end + 1]:
        if ln.prose:
            body_words.update(_LETTERS.findall(ln.text.lower()))
    many = math.log1p(sum(1 for b in bylines if b.names))
    for b in bylines:
        if b.names is None:
            continue
        ln = lines[b.at]
        c = Scored(b.names, f"line {ln.number}", line=ln.number)
        if lay.tail_at is not None and b.at > lay.tail_at:
            c.refused = f"below the {lay.tail_kind} heading"
        near = range(max(0, b.at - 2), min(n, b.at + 3))
        c.set("a byline word before the names", b.explicit)
        c.set("a person's name on its own", b.via == "name")
        c.set("the holder of the copyright", b.via == "copyright")
        c.set("one part of a line of separators", not b.own_line)
        c.set("a date on the same line", bool(ln.dates))
        c.set("a date within two lines", any(lines[j].dates for j in near if j != b.at))
        if title_at is not None:
            d = b.at - title_at
            c.set("the line under the headline", d == 1)
            c.set("2-3 lines under the headline", 2 <= d <= 3)
            c.set("4-10 lines under the headline", 3 < d <= 10)
            c.set("1-3 lines above the headline", -3 <= d < 0)
            c.set("far above the headline", d < -3)
            c.set("far below the headline", d > 10)
            c.set("lines from the headline (log)", math.log1p(abs(d)))
        words = re.findall(r"[^\W\d_]+", b.names.lower())
        if words:
            c.set("share of its words in the body's paragraphs",
                  sum(1 for w in words if w in body_words) / len(words))  # fmt: skip
        c.set("a bare name on a page with a 'By' byline", not b.explicit and explicit > 0)
        c.set("bylines and names on the page (log)", many)
        c.set("a date on the line above or below", any(
            lines[j].dates for j in (b.at - 1, b.at + 1) if 0 <= j < n))  # fmt: skip
        c.set("in the header above the body", lay.header_start <= b.at < lay.start)
        c.set("above the header", b.at < lay.header_start)
        c.set("at the top of the body", lay.start <= b.at <= lay.start + 3)
        c.set("inside the body", lay.start + 3 < b.at <= lay.end)
        c.set("below the body", b.at > lay.end)
        c.set("the same names more than once", counts.get(b.names.lower(), 0) >= 2)
        c.set("several people", " and " in b.names)
        c.set("one word", len(b.names.split()) == 1)
        c.set("the site's own name", bool(site) and b.names.lower() == str(site).lower())
        c.set("the page also has a staff or agency byline", institutional)
        c.set("a job under it", b.at + 1 < n and bool(_ROLE.search(lines[b.at + 1].text))
              and lines[b.at + 1].words <= 10)  # fmt: skip
        c.set("its line's words (log)", math.log1p(ln.words))
        if logits is not None:
            c.set("the body model's log-odds", max(-6.0, min(6.0, logits[b.at])))
        candidates.append(c)
    return candidates


def author(
    lines: list[Line],
    lay: Layout,
    bylines: list[Byline],
    site: str | None,
    title_at: int | None,
    logits: list[float] | None = None,
) -> FieldChoice:
    found = author_candidates(lines, lay, bylines, site, title_at, logits)
    m = learned.model("author")
    if m is None:
        return nothing("author", "no author model")
    return choose_learned("author", found, m, abstain=True,
                          rule="the byline the model finds most likely")  # fmt: skip


def meta_lines(lines: list[Line], bylines: list[Byline]) -> set[int]:
    """Lines that are a byline, a date or a reading time (with the "by" word alone)."""
    out = {b.at for b in bylines if b.explicit}
    for ln in lines:
        if ln.date_only or page.READING_TIME.match(ln.text):
            out.add(ln.at)
    return out
