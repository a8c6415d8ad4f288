"""The title of a text dump: the headline-like line that best heads the body.

Candidates are the lines of the header window (above the body) and the first lines of
the dump. Features: closeness to the body's first paragraph, a byline or date right
under it, length against the menu lines around it, the same line shown twice (the
page's title bar and its <h1>), how many of its words the opening paragraphs use, and
its case and punctuation. A line that is a date, a byline, a name, furniture or a
full sentence is not a headline.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from briefing.sources.extract.blocks import Layout
from briefing.sources.extract.lines import Line
from briefing.sources.extract.model import FieldChoice
from briefing.sources.extract.scoring import Scored, choose

_WORD = re.compile(r"[^\W_]+")
_SITE_SPLIT = re.compile(r"\s+(?:\||–|—|-|::|»|·)\s+")


@dataclass(frozen=True)
class Context:
    lines: list[Line]
    lay: Layout
    bylines: frozenset[int]  # lines that are bylines, dates or reading times
    names: frozenset[int]  # lines that are a bare person's name


def opening_words(
    lines: list[Line], lay: Layout, stop: frozenset[str]
) -> list[tuple[int, set[str]]]:
    """The content words of the body's first paragraphs, each with its line."""
    prose = [ln for ln in lines[lay.start : lay.end + 1] if ln.prose][:5]
    return [(ln.at, {w for w in _WORD.findall(ln.text.lower()) if w not in stop}) for ln in prose]


def title(
    ctx: Context, paragraphs: list[tuple[int, set[str]]], stop: frozenset[str]
) -> FieldChoice:
    lines, lay = ctx.lines, ctx.lay
    window = list(range(lay.header_start, min(lay.start + 3, lay.end + 1)))
    top = [i for i in range(min(6, len(lines))) if i not in window]
    header_words = [lines[i].words for i in window if not lines[i].furniture] or [1]
    median = statistics.median(header_words)
    candidates: list[Scored] = []
    for i in [*top, *window]:
        ln = lines[i]
        c = Scored(ln.text, f"line {ln.number}", line=lines[i].number)
        if not _headline_like(ln) or i in ctx.bylines or i in ctx.names:
            continue
        # distance to the body, counted in lines that are not furniture or byline
        between = [
            j
            for j in range(min(i + 1, lay.start), lay.start)
            if not lines[j].furniture and j not in ctx.bylines and j not in ctx.names
        ]
        if i in top:
            c.add("among the first lines of the page", 0.5)
        if i < lay.start:
            c.add("close to the body's first paragraph", max(-3.0, 3.0 - 0.35 * len(between)))
        else:
            c.add("inside the body region", -1.0 if not ln.prose else -3.0)
        below = _next_lines(lines, i, 5)
        meta_below = [k for k, j in enumerate(below) if j in ctx.bylines or j in ctx.names]
        if meta_below:
            c.add("a byline or date right under it", 2.5 if meta_below[0] <= 1 else 1.2)
        nxt = below[0] if below else None
        if (
            nxt is not None
            and nxt not in ctx.bylines
            and _headline_like(lines[nxt])
            and lines[nxt].words > ln.words >= 5
            and lines[nxt].words >= 10
            and lines[nxt].stop >= 0.25
        ):
            c.add("a longer standfirst straight under it", 1.5)
        prev = _prev_line(lines, i)
        if prev is not None and 3 <= lines[prev].words < ln.words and _headline_like(lines[prev]) \
                and prev not in ctx.bylines and lines[prev].gap_before:  # fmt: skip
            c.add("under a shorter headline-like line (a standfirst?)", -1.0)
        above = [j for j in range(max(0, i - 3), i)]
        if any(j in ctx.bylines for j in above):
            c.add("a byline or date right above it", 1.0)
        if ln.words >= 3 and ln.repeats >= 2:
            c.add("shown twice (title bar and headline)", 2.0)
        words = [w for w in _WORD.findall(ln.text.lower()) if w not in stop]
        opening = set().union(*(w for at, w in paragraphs if at != i)) if paragraphs else set()
        if words and opening:
            share = sum(1 for w in words if w in opening) / len(words)
            c.add("its words recur in the opening paragraphs", round(4.0 * share, 2))
        c.add("longer than the menu lines around it", max(-1.0, min(2.0, (ln.words - median) / 3)))
        if ln.words <= 2:
            c.add("one or two words", -3.0)
        elif ln.words == 3:
            c.add("three words", -1.0)
        elif ln.words > 22:
            c.add("long for a headline", -0.3 * (ln.words - 22))
        letters = [ch for ch in ln.text if ch.isalpha()]
        if letters and all(ch.isupper() for ch in letters) and len(letters) > 3:
            c.add("all capitals", -1.0)
        if letters and ln.text[0].islower():
            c.add("starts in lower case", -2.0)
        if ln.text.endswith(":"):
            c.add("ends with a colon (a label)", -2.0)
        if ln.prose:
            c.add("reads as a paragraph", -2.0)
        if ln.gap_before:
            c.add("stands apart (a heading)", 0.3)
        candidates.append(c)
    _site_title_parts(candidates, lines)
    return choose("title", candidates, minimum=1.0,
                  rule="the headline-like line that best heads the body")  # fmt: skip


def _next_lines(lines: list[Line], i: int, n: int) -> list[int]:
    """The next ``n`` lines that are not furniture."""
    return [j for j in range(i + 1, min(len(lines), i + 12)) if not lines[j].furniture][:n]


def _prev_line(lines: list[Line], i: int) -> int | None:
    return next((j for j in range(i - 1, max(-1, i - 6), -1) if not lines[j].furniture), None)


def _headline_like(ln: Line) -> bool:
    if ln.furniture or ln.boundary or ln.date_only:
        return False
    if not 2 <= ln.words <= 35 or len(ln.text) > 260:
        return False
    if ln.text.endswith(".") and not ln.text.endswith("...") and ln.words > 6:
        return False  # a sentence
    parts = [p for p in re.split(r"\s*[|•·]\s*", ln.text) if p.strip()]
    if len(parts) >= 3 and all(len(p.split()) <= 3 for p in parts):
        return False  # "Features | Security | East Asia": a row of section links
    return bool(re.search(r"[^\W\d_]", ln.text))


def _site_title_parts(candidates: list[Scored], lines: list[Line]) -> None:
    """'Headline | Site' at the top: the part that is another candidate's text wins weight."""
    texts = {" ".join(c.value.lower().split()) for c in candidates if isinstance(c.value, str)}
    for c in candidates:
        if not isinstance(c.value, str):
            continue
        parts = _SITE_SPLIT.split(c.value)
        if len(parts) >= 2 and any(" ".join(p.lower().split()) in texts for p in parts):
            c.add("holds another candidate and a site name", -4.0)
    del lines
