"""The title of a text dump: the headline-like line that best heads the body.

Candidates are the lines above the body (and its first few lines), and the first lines
of the dump. Each is described by features that the learned "title" model weighs: how
close it stands to the body's first paragraph, a byline or date right under it, its
length against the menu lines around it, the same line shown twice (the page's title
bar and its <h1>), a line elsewhere that holds it beside the site's name, how many of
its words the opening paragraphs use, its case and punctuation, and the body model's
own opinion of it. A line that is a date, a byline or a name is not a headline.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from briefing.sources import page
from briefing.sources.extract import learned
from briefing.sources.extract.blocks import Layout
from briefing.sources.extract.lines import Line
from briefing.sources.extract.model import FieldChoice, nothing
from briefing.sources.extract.scoring import Scored, choose_learned

_WORD = re.compile(r"[^\W_]+")
_SITE_SPLIT = re.compile(r"\s+(?:\||–|—|-|::|»|·|>|›|/|>>|<|«)\s+|\s*\|\s*")
TOP_LINES = 8  # the first lines of a page are candidates wherever the body starts
ABOVE = 80  # lines above the body's start that are candidates


@dataclass(frozen=True)
class Context:
    lines: list[Line]
    lay: Layout
    bylines: frozenset[int]  # lines that are bylines, dates or reading times
    names: frozenset[int]  # lines that are a bare person's name
    logits: list[float] | None = None  # the body model's log-odds per line
    signed: frozenset[int] = frozenset()  # bylines that name someone ("By Jane Doe")


def opening_words(
    lines: list[Line], lay: Layout, stop: frozenset[str]
) -> list[tuple[int, set[str]]]:
    """The content words of the body's first paragraphs, each with its line."""
    prose = [ln for ln in lines[lay.start : lay.end + 1] if ln.prose][:5]
    return [(ln.at, {w for w in _WORD.findall(ln.text.lower()) if w not in stop}) for ln in prose]


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def candidates(
    ctx: Context, paragraphs: list[tuple[int, set[str]]], stop: frozenset[str]
) -> list[Scored]:
    """Every line that could be the headline, with its features."""
    lines, lay = ctx.lines, ctx.lay
    n = len(lines)
    first = max(0, lay.start - ABOVE)
    # inside the body's run, only lines with a byline or date under them
    signed = {
        i
        for i in range(lay.start + 4, min(n, lay.end + 1))
        if any(j in ctx.signed for j in _next_lines(lines, i, 3))
    }
    pool = sorted({*range(min(TOP_LINES, n)), *range(first, min(n, lay.start + 4)), *signed})
    # parts of lines split at separators ("Headline | Site", breadcrumbs), for "shown elsewhere"
    parts_of: dict[str, int] = {}
    for ln in lines[: lay.start + 4]:
        pieces = [p for p in _SITE_SPLIT.split(ln.text) if p.strip()]
        if len(pieces) >= 2:
            for p in pieces:
                parts_of[_norm(p)] = parts_of.get(_norm(p), 0) + 1
    texts = [_norm(ln.text) for ln in lines]
    seen: dict[str, int] = {}
    for t in texts:
        seen[t] = seen.get(t, 0) + 1
    eligible = [i for i in pool if _eligible(lines[i]) and i not in ctx.bylines]
    pool_texts = {texts[i] for i in eligible if lines[i].words >= 2}
    opening = set().union(*(w for _, w in paragraphs)) if paragraphs else set()
    counts: dict[str, int] = {}  # content words of the body's run, how often
    for ln in lines[lay.start : lay.end + 1]:
        for w in _WORD.findall(ln.text.lower()):
            if w not in stop:
                counts[w] = counts.get(w, 0) + 1
    # the headline-like line nearest above each byline or date (past names and short labels)
    heads: dict[int, int] = {}  # line -> how many bylines it heads (the first one counts 2)
    candidate_set = set(eligible)
    for k, m_at in enumerate(sorted(ctx.bylines | ctx.names)):
        for j in range(m_at - 1, max(-1, m_at - 8), -1):
            if j in candidate_set and lines[j].words >= 3 and j not in ctx.names:
                heads[j] = heads.get(j, 0) + (2 if k == 0 else 1)
                break
    # lines that count as "between" a candidate and the body, as a running total
    counted = [
        0 if (ln.furniture or ln.at in ctx.bylines or ln.at in ctx.names) else 1 for ln in lines
    ]
    upto = [0]
    for k in counted:
        upto.append(upto[-1] + k)
    out: list[Scored] = []
    rank = 0
    for i in reversed(eligible):
        ln = lines[i]
        c = Scored(ln.text, f"line {ln.number}", line=ln.number)
        between = max(0, upto[lay.start] - upto[i + 1])
        if i < lay.start:
            c.set("lines between it and the body (log)", math.log1p(between))
            c.set("the nearest candidate above the body", rank == 0)
            c.set("the second nearest above the body", rank == 1)
            rank += 1
        else:
            c.set("inside the body's run", 1.0)
        c.set("read as a person's name", i in ctx.names)
        c.set("the headline-like line nearest above a byline or date", heads.get(i, 0) > 0)
        c.set("... above the page's first byline or date", heads.get(i, 0) >= 2)
        c.set("among the first lines of the page", i < TOP_LINES)
        c.set("the first line of the page", i == 0)
        below = _next_lines(lines, i, 4)
        meta_below = [k for k, j in enumerate(below) if j in ctx.bylines or j in ctx.names]
        c.set("a byline or date right under it", bool(meta_below) and meta_below[0] == 0)
        c.set("a byline or date 2-4 lines under it", bool(meta_below) and meta_below[0] > 0)
        prev = _prev_lines(lines, i, 3)
        c.set("a byline or date right above it", any(j in ctx.bylines for j in prev[:1]))
        nxt = below[0] if below else None
        if nxt is not None:
            c.set("the next line is longer (a standfirst?)",
                  lines[nxt].words > ln.words and lines[nxt].stop >= 0.25)  # fmt: skip
            c.set("the next line reads as prose", lines[nxt].prose)
        if prev:
            above = lines[prev[0]]
            c.set("under a shorter headline-like line",
                  _eligible(above) and 3 <= above.words < ln.words and not above.prose
                  and prev[0] not in ctx.bylines)  # fmt: skip
        mine = texts[i]
        c.set("holds another candidate's text",
              any(t != mine and len(t) >= 8 and t in mine for t in pool_texts))  # fmt: skip
        c.set("another line holds its text",
              ln.words >= 2 and any(t != mine and mine in t for t in pool_texts))  # fmt: skip
        c.set("shown twice", ln.repeats >= 2)
        c.set("shown elsewhere beside the site's name", _norm(ln.text) in parts_of)
        c.set("holds separators itself (a site bar?)",
              len([p for p in _SITE_SPLIT.split(ln.text) if p.strip()]) >= 2)  # fmt: skip
        if seen[texts[i]] >= 2 and ln.words <= 2:
            c.set("a short line repeated (a menu item)", 1.0)
        words = [w for w in _WORD.findall(ln.text.lower()) if w not in stop]
        if words and opening:
            c.set("share of its words in the opening paragraphs",
                  sum(1 for w in words if w in opening) / len(words))  # fmt: skip
        if words:
            own = {w: words.count(w) for w in words}
            inside = [
                counts.get(w, 0) - (own[w] if lay.start <= i <= lay.end else 0) for w in words
            ]
            c.set(
                "share of its words used in the body", sum(1 for k in inside if k > 0) / len(words)
            )
            c.set("how often the body uses its words (log)",
                  sum(math.log1p(max(0, k)) for k in inside) / len(words))  # fmt: skip
        c.set("log words", math.log1p(ln.words))
        c.set("one word", ln.words == 1)
        c.set("two words", ln.words == 2)
        c.set("more than 20 words", ln.words > 20)
        c.set("stopword density", ln.stop)
        letters = [ch for ch in ln.text if ch.isalpha()]
        c.set(
            "all capitals",
            bool(letters) and all(ch.isupper() for ch in letters) and len(letters) > 3,
        )
        c.set("starts in lower case", ln.text[:1].islower())
        tokens = ln.text.split()
        c.set("share of capitalized words", sum(1 for t in tokens if t[:1].isupper()) / len(tokens))
        c.set("ends with a period", ln.text.endswith(".") and not ln.text.endswith("..."))
        c.set("ends with a colon", ln.text.endswith(":"))
        c.set("ends with ? or !", ln.text.endswith(("?", "!")))
        c.set("reads as a paragraph", ln.prose)
        c.set("stands apart (a blank line above)", ln.gap_before)
        c.set("page furniture", ln.furniture is not None)
        c.set(
            "names a job (fellow, editor, ...)", ln.words <= 8 and bool(page.ROLE.search(ln.text))
        )
        c.set("holds digits", any(ch.isdigit() for ch in ln.text))
        short = sum(
            1 for j in range(max(0, i - 3), min(n, i + 4)) if j != i and lines[j].words <= 3
        )
        c.set("short lines around it", short / 6)
        if ctx.logits is not None:
            c.set("the body model's log-odds", max(-6.0, min(6.0, ctx.logits[i])))
        out.append(c)
    return out


def title(
    ctx: Context, paragraphs: list[tuple[int, set[str]]], stop: frozenset[str]
) -> FieldChoice:
    found = candidates(ctx, paragraphs, stop)
    m = learned.model("title")
    if m is None or not found:
        return nothing("title", "no line reads as the article's headline")
    return choose_learned("title", found, m, abstain=False,
                          rule="the headline-like line that best heads the body")  # fmt: skip


def _eligible(ln: Line) -> bool:
    if ln.date_only or ln.boundary:
        return False
    if not 1 <= ln.words <= 40 or len(ln.text) > 300:
        return False
    return bool(re.search(r"[^\W\d_]{2}", ln.text))


def _next_lines(lines: list[Line], i: int, n: int) -> list[int]:
    """The next ``n`` lines that are not furniture."""
    return [j for j in range(i + 1, min(len(lines), i + 12)) if not lines[j].furniture][:n]


def _prev_lines(lines: list[Line], i: int, n: int) -> list[int]:
    return [j for j in range(i - 1, max(-1, i - 12), -1) if not lines[j].furniture][:n]
