"""The publisher of a text dump: the site's name as the page shows it.

Site names show in a few kinds of places: the short line a logo leaves at the top, one
side of a "Headline | Site" line, "Follow X", "About X", "More from X", "Published in
X", the holder of the copyright line and "a registered trademark of X". Every name found
so is one candidate, however often it shows; the learned "publisher" model weighs where
and how often it was seen, its shape (one word, capitals, a domain, a legal suffix) and
whether it is a menu word, the headline or the author, and may find none of them likely
enough (about a third of real pages name no site the reader would call the publisher).
A copyright holder ("Hearst Communications", "Cable News Network") loses to a masthead
the page shows, since the model learns that the copyright line is weak evidence alone.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from briefing.sources import page
from briefing.sources.extract import learned
from briefing.sources.extract.lines import Line
from briefing.sources.extract.model import FieldChoice, nothing
from briefing.sources.extract.scoring import Scored, choose_learned

_SITE_SPLIT = re.compile(r"\s+(?:\||–|—|-|::|»|·|/)\s+|\s*\|\s*")
_LEGAL = re.compile(
    r"\b(?:inc|llc|ltd|limited|gmbh|ag|s\.?a|s\.?l|plc|corp|corporation|company|co|group|"
    r"communications|holdings|media|network|enterprises|publishing|foundation)\b\.?",
    re.I,
)
_NAMED = re.compile(
    r"^(?:follow|about|more from|more on|discover|welcome to|join|subscribe to|sign up for|"
    r"visit|support|read more on|the best of|news from|über|à propos de|suivre|siga|síguenos en)"
    r"\s+(?:us on\s+)?(?!us\b|me\b|this\b|the author\b)(?P<name>[^\W_][^|•·:;!?]{1,60}?)[\s.!:]*$",
    re.I,
)
_TRADEMARK = re.compile(
    r"trademarks? of (?:the )?(?P<name>[^\W_][^;]{1,60}?)(?:,? a\b|[.;]|$)", re.I
)
_DOMAIN = re.compile(r"\.(?:com|org|net|fr|de|es|it|cz|co|io|uk|jp|info|news|blog)\b", re.I)
_MARKS = re.compile(r"[®™©]")
TOP = 12  # the logo's text stands in the first lines


@dataclass
class _Seen:
    value: str
    first: int  # first line it was seen on
    kinds: set[str] = field(default_factory=set)
    lines: set[int] = field(default_factory=set)


def clean(text: str) -> str:
    text = _MARKS.sub("", text)
    text = re.sub(r"(?i)\s+(?:home|homepage|startseite|accueil|inicio|beta|followed|following)$",
                  "", text.strip())  # fmt: skip
    abbreviation = re.search(r"(?i)\b(?:inc|ltd|co|corp|jr|sr|st|bros)\.$", text)
    text = text.strip(" .,:;|-–—»«\"'") + ("." if abbreviation else "")
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) > 4 and all(ch.isupper() for ch in letters) and len(text.split()) > 1:
        return text.title()
    return text


def _ok(name: str) -> bool:
    words = name.split()
    return 1 <= len(words) <= 6 and len(name) <= 60 and bool(re.search(r"[^\W\d_]{2}", name))


def candidates(
    lines: list[Line],
    title_at: int | None,
    title: str | None,
    lowered: str,
    author: str | None = None,
    logits: list[float] | None = None,
) -> list[Scored]:
    """Every site name the page shows, once each, with the features the model weighs."""
    seen: dict[str, _Seen] = {}

    def add(raw: str, at: int, kind: str) -> None:
        name = clean(raw)
        if not _ok(name):
            return
        key = " ".join(name.lower().split())
        s = seen.setdefault(key, _Seen(name, at))
        s.kinds.add(kind)
        s.lines.add(at)
        s.first = min(s.first, at)

    n = len(lines)
    for ln in lines:
        i, t = ln.at, ln.text
        parts = [p for p in _SITE_SPLIT.split(t) if p.strip()] if ln.words <= 16 else []
        if ln.words <= 5 and not ln.dates and i != title_at and not _MENU.fullmatch(t) \
                and len(parts) < 2:  # fmt: skip
            add(t, i, "top line" if i < TOP else "short line")
        near = i < 30 or (title_at is not None and abs(i - title_at) <= 2)
        if near and len(parts) >= 2:
            for p in parts:
                add(p, i, "beside the headline" if i == title_at else "one side of a separator")
        if ln.words <= 12 and (m := _NAMED.match(t)):
            add(m.group("name"), i, "follow/about/more from")
        if found := page.PUBLISHED_IN.search(t):
            add(found.group("name"), i, "published in")
        if ln.furniture == "copyright line" and (cr := page.copyright_line(t)) and cr.holder:
            add(re.sub(r"^[\d\s,–-]+", "", cr.holder), i, "copyright holder")
        if ln.words <= 120 and (tm := _TRADEMARK.search(t)):
            name = tm.group("name")
            if t[tm.end("name") : tm.end("name") + 1] == "." and re.search(
                r"(?i)\b(?:inc|ltd|co)$", name
            ):
                name += "."  # "the Wikimedia Foundation, Inc., a non-profit"
            add(name, i, "trademark holder")
    holders = [
        set(re.findall(r"[^\W_]{3,}", k)) for k, v in seen.items() if "copyright holder" in v.kinds
    ]
    tops = [set(re.findall(r"[^\W_]{3,}", k)) for k, v in seen.items() if "top line" in v.kinds]
    title_key = " ".join((title or "").lower().split())
    author_key = " ".join((author or "").lower().split())
    masthead = _masthead(lines, title_at)
    counter = _Words(lowered)
    out: list[Scored] = []
    for key, s in seen.items():
        if len(s.kinds) == 1 and "short line" in s.kinds and len(s.lines) < 2:
            continue  # a short line seen once below the top: a label, not a masthead
        c = Scored(s.value, f"line {lines[s.first].number}", line=lines[s.first].number)
        holder_only = s.kinds == {"copyright holder"} and bool(_LEGAL.search(s.value))
        if holder_only and masthead and not set(key.split()) & set(masthead.lower().split()):
            c.refused = f"a copyright holder, and the page names its masthead ({masthead!r})"
        for kind in ("top line", "short line", "beside the headline", "one side of a separator",
                     "follow/about/more from", "published in", "copyright holder",
                     "trademark holder"):  # fmt: skip
            c.set(f"seen as {kind}", kind in s.kinds)
        c.set("kinds of places it was seen", len(s.kinds))
        c.set("lines it was seen on (log)", math.log1p(len(s.lines)))
        c.set("times the page names it (log)", math.log1p(counter.times(key)))
        c.set("first seen on line (log)", math.log1p(s.first))
        c.set("the first line of the page", s.first == 0)
        words = s.value.split()
        c.set("one word", len(words) == 1)
        c.set("words", len(words))
        letters = [ch for ch in s.value if ch.isalpha()]
        c.set("all capitals", bool(letters) and all(ch.isupper() for ch in letters))
        c.set("starts in lower case", s.value[:1].islower())
        c.set("a domain name", bool(_DOMAIN.search(s.value)))
        c.set("a company's legal name", bool(_LEGAL.search(s.value)))
        c.set("a menu word", key in page.NAV_WORDS or bool(_MENU.fullmatch(key)))
        c.set("the headline", key == title_key)
        c.set("part of the headline", bool(title_key) and key in title_key and key != title_key)
        c.set("the author's name", bool(author_key) and key == author_key)
        c.set("holds digits", any(ch.isdigit() for ch in s.value))
        mine = set(re.findall(r"[^\W_]{3,}", key)) - {"the"}
        c.set("shares a word with the copyright holder",
              "copyright holder" not in s.kinds and any(mine & h for h in holders))  # fmt: skip
        c.set("shares a word with a line at the top",
              "top line" not in s.kinds and any(mine & t for t in tops))  # fmt: skip
        c.set("a line of its own more than once", len(s.lines) >= 2 and bool(
            s.kinds & {"top line", "short line"}))  # fmt: skip
        if logits is not None:
            c.set("the body model's log-odds at its first line",
                  max(-6.0, min(6.0, logits[s.first])))  # fmt: skip
        out.append(c)
    del n
    return out


class _Words:
    """The page's words, and where each stands, to count a name as whole words."""

    def __init__(self, lowered: str) -> None:
        self.words = re.findall(r"[^\W_]+", lowered)
        self.at: dict[str, list[int]] = {}
        for i, w in enumerate(self.words):
            self.at.setdefault(w, []).append(i)

    def times(self, key: str) -> int:
        """How often the page names it ("Go" is not in "Google")."""
        name = re.findall(r"[^\W_]+", key)[:3]
        if not name:
            return 0
        rest, words = name[1:], self.words
        return sum(1 for i in self.at.get(name[0], []) if words[i + 1 : i + 1 + len(rest)] == rest)


def _masthead(lines: list[Line], title_at: int | None) -> str | None:
    """The logo's text: the page's first line that is not furniture, when it is a short
    capitalized name and not a menu item or the headline."""
    first = next((ln for ln in lines[:6] if not ln.furniture and not ln.boundary), None)
    if first is None or first.at == title_at or first.dates or not 1 <= first.words <= 6:
        return None
    text = clean(first.text)
    if not text[:1].isupper() or _MENU.fullmatch(text) or text.lower() in page.NAV_WORDS:
        return None
    return text


_MENU = re.compile("|".join(f"(?:{p})" for p in page.DEFAULT_BOILERPLATE), re.I)


def publisher(
    lines: list[Line],
    title_at: int | None,
    title: str | None,
    lowered: str,
    author: str | None = None,
    logits: list[float] | None = None,
) -> FieldChoice:
    found = candidates(lines, title_at, title, lowered, author, logits)
    m = learned.model("publisher")
    if m is None:
        return nothing("publisher", "no publisher model")
    return choose_learned("publisher", found, m, abstain=True,
                          rule="the site's name as the page shows it")  # fmt: skip
