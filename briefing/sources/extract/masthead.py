"""The publisher of a text dump: the site's name as the page shows it.

Candidates: the short line a logo leaves at the very top (the masthead), the site part
of a "Headline | Site" line, "Published in X", and the holder of the copyright line.
A masthead seen again lower on the page (in the copyright line, "Follow X") gains
weight. A copyright holder ("Hearst Communications", "Cable News Network") is not the
publisher when the page names its masthead: then it is refused.
"""

from __future__ import annotations

import re

from briefing.sources import page
from briefing.sources.extract.lines import Line
from briefing.sources.extract.model import FieldChoice
from briefing.sources.extract.scoring import Scored, choose

_SITE_SPLIT = re.compile(r"\s+(?:\||–|—|-|::|»|·)\s+")
_LEGAL = re.compile(
    r"\b(?:inc|llc|ltd|limited|gmbh|ag|s\.?a|s\.?l|plc|corp|corporation|company|co|group|"
    r"communications|holdings|media|network|enterprises|publishing|foundation)\b\.?",
    re.I,
)


def publisher(
    lines: list[Line], title_at: int | None, title: str | None, lowered: str
) -> FieldChoice:
    candidates: list[Scored] = []
    mastheads: list[Scored] = []
    for ln in lines[:5]:
        if ln.at == title_at or ln.furniture or ln.boundary or ln.dates:
            continue
        parts = [p.strip() for p in ln.text.split("|") if p.strip()]
        named = [p for p in parts if p.split()[-1].lower() not in page.NAV_WORDS]
        text = named[-1] if len(parts) > 1 and named else ln.text  # "Site Home|Publisher"
        if (
            not 1 <= len(text.split()) <= 6
            or not text[0].isupper()
            or text.endswith((".", ":", "?"))
        ):
            continue
        if ln.stop > 0.5:
            continue  # "Hi, I'm Nicolas." is a greeting, not a logo
        c = Scored(_clean(text), f"line {ln.number}", line=ln.number)
        c.add("a short line at the top (the logo's text)", 2.0 - 0.5 * ln.at)
        again = lowered.count(ln.text.lower()) - ln.repeats
        if again >= 1:
            c.add("named again lower on the page", 1.5)
        if ln.words == 1 and ln.text.lower() in page.NAV_WORDS:
            c.add("a menu word", -4.0)
        mastheads.append(c)
        candidates.append(c)
    if title:
        for ln in lines[: (title_at or 0) + 3]:
            parts = _SITE_SPLIT.split(ln.text)
            if len(parts) >= 2 and any(p.strip().lower() == title.lower() for p in parts):
                for p in parts:
                    if p.strip().lower() != title.lower() and 1 <= page.word_count(p) <= 6:
                        c = Scored(_clean(p), f"line {ln.number}", line=ln.number)
                        c.add("the site part of 'Headline | Site'", 4.0)
                        candidates.append(c)
    live_masthead = any(m.score >= 2.0 for m in mastheads)
    for ln in lines:
        if found := page.PUBLISHED_IN.fullmatch(ln.text):
            c = Scored(_clean(found.group("name")), f"line {ln.number}", line=ln.number)
            c.add("'Published in' names it", 4.0)
            candidates.append(c)
        cr = page.copyright_line(ln.text) if ln.furniture == "copyright line" else None
        if cr is not None and cr.holder:
            c = Scored(_clean(cr.holder), f"line {ln.number} (copyright)", line=ln.number)
            c.add("holds the copyright", 2.0)
            shared = [m for m in mastheads if _shares_words(str(m.value), cr.holder)]
            for m in shared:
                m.add("the copyright line names it too", 1.5)
                common = _common_prefix(str(m.value), cr.holder)
                if common:  # "THE KANTO SHIMBUN ENGLISH EDITION" over "The Kanto Shimbun Company"
                    m.value = common
            if live_masthead and not shared:
                c.refused = "a copyright holder, and the page names its masthead"
            elif _LEGAL.search(cr.holder) and shared:
                c.refused = "the company behind the masthead"
            candidates.append(c)
    return choose("publisher", candidates, minimum=2.0,
                  rule="the site's name as the page shows it")  # fmt: skip


def _clean(text: str) -> str:
    text = re.sub(r"(?i)\s+home$", "", text.strip(" .,:;|-–—"))
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) > 4 and all(ch.isupper() for ch in letters) and len(text.split()) > 1:
        return text.title()
    return text


def _shares_words(a: str, b: str) -> bool:
    wa = {w for w in re.findall(r"[^\W_]{3,}", a.lower()) if w not in {"the"}}
    wb = {w for w in re.findall(r"[^\W_]{3,}", b.lower())}
    return bool(wa & wb)


def _common_prefix(a: str, b: str) -> str | None:
    out = []
    for x, y in zip(a.split(), b.split(), strict=False):
        if x.lower() != y.lower():
            break
        out.append(y)
    significant = [w for w in out if w.lower() not in {"the", "a", "an"}]
    return " ".join(out) if len(significant) >= 2 else None
