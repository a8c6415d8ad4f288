"""The author of a text dump: bylines near the headline, in the page's language.

A byline is "By NAME" in any language we read ("par", "por", "von", "door", ...),
the word alone on one line with the names on the next, or a person's name standing
beside a date. Names are cut from what follows them (a date, "| 4 min read", a role,
a handle) and joined with "and". A byline that names a desk, staff or a wire ("By
AsiaBrief Staff") means no personal author. Candidates in the menus above the header,
or in teaser lists and comments below the body, are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from briefing.sources import page
from briefing.sources.extract.blocks import Layout
from briefing.sources.extract.language import Language
from briefing.sources.extract.lines import Line
from briefing.sources.extract.model import FieldChoice
from briefing.sources.extract.scoring import Scored, choose

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
_ROLE = page.ROLE
_NAME_WORD = r"(?:[^\W\d_][^\W\d_'’-]*(?:[-'’][^\W\d_]+)*|[^\W\d_]\.)"
_BARE_NAME = re.compile(
    rf"{_NAME_WORD}(?:\s+{_NAME_WORD}){{1,3}}(?:\s*(?:,|&|and|et|y|e|und)\s*{_NAME_WORD}(?:\s+{_NAME_WORD}){{1,3}})*"
)


@dataclass(frozen=True)
class Byline:
    names: str | None  # "A and B"; None for an institutional byline
    explicit: bool  # it had a "by" word
    at: int


@lru_cache(maxsize=64)
def _by_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"^[\W_]*(?:{alts})\b\s*:?\s*(?P<rest>.*)$", re.I)


def _names(text: str, *, explicit: bool) -> str | None:
    """'Alexandre Hervaud et Jérémy Piette' -> 'Alexandre Hervaud and Jérémy Piette'."""
    text = _HANDLE.sub("", text).strip(" ,;:|")
    text = _CUT.sub("", text).strip(" ,;:|")
    people = [p.strip(" .") for p in _JOIN.split(text) if p.strip(" .")]
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
    return " and ".join(out)


def parse_byline(ln: Line, lang: Language, following: Line | None) -> Byline | None:
    text = ln.text
    for f in reversed(ln.dates):
        text = (text[: f.start] + " " + text[f.end :]).strip()
    m = _by_pattern(lang.by_words).match(text)
    if m:
        rest = m.group("rest").strip()
        if not rest and following is not None and following.words <= 6:
            rest = following.text  # "por" alone, the names on the next line
        if not rest:
            return None
        if INSTITUTION_WORDS.search(rest) and page.word_count(rest) <= 6:
            return Byline(None, True, ln.at)
        who = _names(rest, explicit=True)
        return Byline(who, True, ln.at) if who else None
    if ln.words > 12 or ln.prose or ln.furniture or ln.boundary:
        return None
    bare = _CUT.sub("", _HANDLE.sub("", text)).strip(" ,;:|")
    if not _BARE_NAME.fullmatch(bare):
        return None  # a bare name: two to four capitalized words, no digits, no sentence
    words = re.findall(r"[^\W\d_]+", bare.lower())
    if any(w in lang.stopwords and w not in _PARTICLES for w in words) or _ROLE.search(text):
        return None
    who = _names(bare, explicit=False)
    if who and 2 <= len(who.split()) <= 8:
        return Byline(who, False, ln.at)
    return None


def find_bylines(lines: list[Line], lay: Layout, lang: Language) -> list[Byline]:
    lo, hi = lay.header_start, min(len(lines), lay.end + 12)
    out = []
    for i in range(lo, hi):
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        b = parse_byline(lines[i], lang, nxt)
        if b is not None:
            out.append(b)
    return out


def author(
    lines: list[Line],
    lay: Layout,
    bylines: list[Byline],
    site: str | None,
    title_at: int | None,
) -> FieldChoice:
    candidates: list[Scored] = []
    counts: dict[str, int] = {}
    for b in bylines:
        if b.names:
            counts[b.names.lower()] = counts.get(b.names.lower(), 0) + 1
    for b in bylines:
        ln = lines[b.at]
        c = Scored(b.names, f"line {ln.number}", line=lines[b.at].number)
        near_date = bool(ln.dates) or any(
            lines[j].date_only or bool(lines[j].dates)
            for j in range(max(0, b.at - 2), min(len(lines), b.at + 3))
        )
        if b.explicit:
            c.add("a byline word before the names", 4.0)
        else:
            c.add("a person's name on its own", 1.0)
            if not near_date and not (title_at is not None and 0 < b.at - title_at <= 3):
                c.refused = "a name with no date or headline beside it"
        if title_at is not None and 0 < b.at - title_at <= 3:
            c.add("right under the headline", 1.5)
        if near_date:
            c.add("beside a date", 2.0)
        if b.at < lay.start:
            c.add("in the header above the body", 2.0)
        elif b.at <= lay.start + 3:
            c.add("at the top of the body", 1.0)
        elif b.at > lay.end:
            if lay.tail_at is not None and b.at > lay.tail_at:
                c.refused = f"below the {lay.tail_kind} heading"
            elif not b.explicit and not (ln.dates and b.at <= lay.end + 6):
                c.refused = "a name below the article (teasers, comments)"
            else:
                c.add("a sign-off under the article", 0.5)
        else:
            c.refused = "inside the article text"
        if c.refused and not b.explicit:
            c.parts.clear()
        if b.names and counts.get(b.names.lower(), 0) >= 2:
            c.add("the same name twice (avatar and byline)", 1.0)
        if b.names and site and b.names.lower() == site.lower():
            c.add("the site's own name", -3.0)
        if b.names is None:
            c.add("names a desk, staff or agency", 0.5)
        candidates.append(c)
    choice = choose("author", candidates, minimum=3.5, rule="the byline nearest the headline")
    if choice.value is None and choice.chosen is not None:
        return choice
    return choice


def meta_lines(lines: list[Line], bylines: list[Byline]) -> set[int]:
    """Lines that are a byline, a date or a reading time (with the "by" word alone)."""
    out = {b.at for b in bylines if b.explicit}
    for ln in lines:
        if ln.date_only or page.READING_TIME.match(ln.text):
            out.add(ln.at)
    return out
