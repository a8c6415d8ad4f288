"""Where the article is in a dump: the body region, and what lies around it.

The body is found the way Finn's Body Text Extraction finds it in markup: every line
scores (paragraphs of prose gain their words, menu items, buttons and short labels cost
a little, a heading that opens comments or "Related" costs a lot) and the body is the
run of lines with the greatest total. So the long menus on top, the teaser lists and
the comments below fall outside it, whatever words they use. What lies above the body
(up to the previous run of menu lines) is the header: the title, byline and date are
looked for there. Every run of lines left out is reported with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from briefing.sources.extract.lines import Line
from briefing.sources.extract.model import Block

HEADER_SPAN = 30  # lines above the body where the headline, byline and date may stand
_BOUNDARY_COST = 30.0
_SHORT_COST = 2.0
_FURNITURE_COST = 3.0
BRIDGE = 1.5


@dataclass(frozen=True)
class Layout:
    start: int  # first line of the body region (index into lines)
    end: int  # last line of the body region, inclusive
    header_start: int  # first line of the header window above the body
    tail_kind: str  # what follows the body: "comments", "related" or "footer"
    tail_at: int | None  # the heading that opened it


def line_score(ln: Line) -> float:
    if ln.boundary:
        return -_BOUNDARY_COST
    if ln.furniture:
        return -_FURNITURE_COST
    if ln.prose:
        return ln.words * (0.6 + ln.stop)
    if ln.words >= 3 and ln.stop >= 0.3 and ln.text[-1:] in ".!?:;":
        return 0.5  # a short sentence
    return -_SHORT_COST


def best_run(scores: list[float]) -> tuple[int, int, float]:
    """The contiguous run with the greatest sum (Kadane): (start, end inclusive, total)."""
    best = (0, -1, 0.0)
    total, start = 0.0, 0
    for i, s in enumerate(scores):
        if total <= 0:
            total, start = s, i
        else:
            total += s
        if total > best[2]:
            best = (start, i, total)
    return best


def layout(lines: list[Line], scores: list[float] | None = None) -> Layout | None:
    """The body region and header window, or None when no line is worth keeping.
    ``scores`` are each line's log-odds of being body text (the learned body model); the
    hand-set ``line_score`` without them."""
    if not lines:
        return None
    learned = scores is not None
    if scores is None:
        scores = [line_score(ln) for ln in lines]
    else:
        # a lone "Advertisement" or share button inside the article must not cut it in two:
        # short lines and furniture cost at most BRIDGE to step over (a menu, many of them,
        # still costs a lot); they are left out of the body afterwards
        scores = [
            max(s, -BRIDGE) if (ln.words <= 3 or ln.furniture) else s
            for s, ln in zip(scores, lines, strict=True)
        ]
    start, end, total = best_run(scores)
    if end < start or total <= 0:
        return None
    if not learned:
        # The run may open on a short sentence or subheading; the body starts at its first
        # prose or list line, and ends on its last line that is not furniture.
        while end > start and (lines[end].furniture or not _keeps(lines[end])):
            end -= 1
        while start < end and not lines[start].prose:
            start += 1  # headline-like lines at its top belong to the header
    return _around(lines, start, end)


def _around(lines: list[Line], start: int, end: int) -> Layout:
    header_start, counted = start, 0
    while header_start > 0 and counted < HEADER_SPAN:  # counted in lines that are not furniture
        header_start -= 1
        counted += not lines[header_start].furniture
    tail_kind, tail_at = "footer", None
    for ln in lines[end + 1 : end + 40]:
        if ln.boundary:
            tail_kind, tail_at = ln.boundary, ln.at
            break
    return Layout(start, end, header_start, tail_kind, tail_at)


def _keeps(ln: Line) -> bool:
    return ln.prose or (ln.words >= 4 and ln.stop >= 0.3)


def dropped_blocks(lines: list[Line], lay: Layout, header_used: set[int]) -> list[Block]:
    """The runs of lines outside the body, each with what it was taken for."""
    out: list[Block] = []

    def add(first: int, last: int, kind: str, reason: str) -> None:
        if last < first:
            return
        preview = " / ".join(ln.text[:40] for ln in lines[first : min(last + 1, first + 3)])
        out.append(Block(lines[first].number, lines[last].number, kind, reason, preview))

    if lay.header_start > 0:
        add(0, lay.header_start - 1, "navigation",
            "short lines (menus, links, labels) above the article's header")  # fmt: skip
    if lay.start > lay.header_start:
        kept = ", ".join(sorted({f"line {lines[i].number}" for i in header_used})) or "nothing"
        add(lay.header_start, lay.start - 1, "header",
            f"above the body: the title, byline and date were read from it ({kept})")  # fmt: skip
    inside = [ln for ln in lines[lay.start : lay.end + 1] if ln.furniture]
    for ln in inside:
        add(ln.at, ln.at, "furniture", ln.furniture or "")
    if lay.end + 1 < len(lines):
        if lay.tail_kind == "footer":
            reason = "after the last paragraph: no run of prose follows"
        else:
            reason = f"after the body: a {lay.tail_kind} heading and what follows it"
        add(lay.end + 1, len(lines) - 1, lay.tail_kind, reason)
    return out
