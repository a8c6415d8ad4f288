"""Is a line of a dump part of the article's text? Features of each line and its neighbours.

A line's own shape (words, stopword density, sentence punctuation, capitals, digits,
code characters, furniture, dates) says a lot, its neighbours say the rest: a menu item
stands among short lines, a paragraph among paragraphs, a comment under a "Comments"
heading. Each line gets its own features, the same for the lines up to three above and
below, the share of prose around it, where it stands in the page and against the
densest run of prose (``blocks.layout``). The learned "body" model turns them into a
log-odds per line; ``body_region`` keeps the run of lines with the greatest total.
"""

from __future__ import annotations

import math
import re

from briefing.sources.extract import blocks, learned
from briefing.sources.extract.blocks import Layout, best_run
from briefing.sources.extract.lines import Line

_CODE = re.compile(r"[{}();=<>\[\]\\/*#$_]")
_URL = re.compile(r"https?://|www\.|\.(?:com|org|net)\b")
_SEPARATORS = re.compile(r"\s[|•·]\s|\s[|•·]|[|•·]\s")
_WORD = re.compile(r"[^\W\d_]+")
_COMMENT_WORD = re.compile(
    r"\b(?:comments?|commentaires?|comentarios?|comentários?|kommentare?|commenti|komentáře|"
    r"responses|replies|réponses|respuestas|discussion|discussions?)\b",
    re.I,
)
_LIST_MARK = re.compile(r"^(?:[-+*•◦▪–—]\s|\d{1,2}[.)]\s|\(?[a-z]\)\s)")
WINDOW = 3
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")


def _own(ln: Line) -> dict[str, float]:
    text = ln.text
    words = _WORD.findall(text)
    n = len(words)
    chars = len(text)
    caps = sum(1 for w in words if w[0].isupper())
    letters = len(_LETTER.findall(text))
    digits = len(_DIGIT.findall(text))
    f = {
        "log words": math.log1p(ln.words),
        "log characters": math.log1p(chars),
        "stopword density": ln.stop,
        "reads as prose": float(ln.prose),
        "ends a sentence": float(text[-1:] in ".!?…" or text[-2:-1] in ".!?…"),
        "ends with a colon": float(text.endswith(":")),
        "starts in lower case": float(text[:1].islower()),
        "share of capitalized words": caps / n if n else 0.0,
        "share of digits": digits / chars if chars else 0.0,
        "share of code characters": len(_CODE.findall(text)) / chars if chars else 0.0,
        "no letters": float(letters == 0),
        "a link or address": float(bool(_URL.search(text))),
        "separators (| • ·)": float(bool(_SEPARATORS.search(text))),
        "holds a date": float(bool(ln.dates)),
        "a date line": float(ln.date_only),
        "page furniture": float(ln.furniture is not None),
        "a comments heading": float(ln.boundary == "comments"),
        "a related-stories heading": float(ln.boundary == "related"),
        "a short line repeated in the page": math.log(ln.repeats) if ln.words < 8 else 0.0,
        "a blank line above": float(ln.gap_before),
        "one or two words": float(ln.words <= 2),
        "starts with a list mark": float(bool(_LIST_MARK.match(text))),
    }
    return f


_NEIGHBOUR_KEYS = ("log words", "stopword density", "reads as prose", "page furniture")
_NEIGHBOURS = [
    (d, sign, [(k, f"{k}, {d} {label}") for k in _NEIGHBOUR_KEYS], f"no line {d} {label}")
    for d in range(1, WINDOW + 1)
    for sign, label in ((-1, "above"), (1, "below"))
]


def _blocks(lines: list[Line]) -> list[dict[str, float]]:
    """Features of the block each line belongs to: the run of lines between blank lines
    (innerText leaves a blank line around paragraphs and headings, none between the items
    of a menu or a list, nor inside hard-wrapped text)."""
    out: list[dict[str, float]] = []
    i, n = 0, len(lines)
    while i < n:
        j = i + 1
        while j < n and not lines[j].gap_before:
            j += 1
        run = lines[i:j]
        words = sum(ln.words for ln in run)
        stop = sum(ln.stop * ln.words for ln in run) / (words or 1)
        f = {
            "block words (log)": math.log1p(words),
            "block lines (log)": math.log1p(len(run)),
            "block words per line (log)": math.log1p(words / len(run)),
            "block stopword density": stop,
            "block ends a sentence": float(run[-1].text[-1:] in ".!?…:;\"'”)"),
        }
        out.extend(f for _ in run)
        i = j
    return out


def line_features(lines: list[Line], lay: Layout | None) -> list[dict[str, float]]:
    """The features of every line, for the body model."""
    own = [_own(ln) for ln in lines]
    block = _blocks(lines)
    n = len(lines)
    total_words = sum(ln.words for ln in lines) or 1
    prose = [float(ln.prose) for ln in lines]
    # lines under a comments heading that stands below the start of the prose
    first_prose = next((i for i, ln in enumerate(lines) if ln.prose), n)
    below_comments = [0.0] * n
    below_related = [0.0] * n
    seen_c, last_related = False, -100
    for i, ln in enumerate(lines):
        if i > first_prose and (
            ln.boundary == "comments" or (ln.words <= 8 and _COMMENT_WORD.search(ln.text))
        ):
            seen_c = True
        if ln.boundary == "related" and i > first_prose:
            last_related = i
        below_comments[i] = float(seen_c)
        below_related[i] = float(0 < i - last_related <= 12)
    dated = [float(bool(ln.dates)) for ln in lines]
    short_repeats = [float(ln.repeats >= 3 and ln.words <= 3) for ln in lines]
    out: list[dict[str, float]] = []
    seen_words = 0
    for i, ln in enumerate(lines):
        f = dict(own[i])
        f.update(block[i])
        for d, sign, names, missing in _NEIGHBOURS:
            j = i + sign * d
            if 0 <= j < n:
                nb = own[j]
                for key, name in names:
                    f[name] = nb[key]
            else:
                f[missing] = 1.0
        lo, hi = max(0, i - 5), min(n, i + 6)
        f["share of prose within 5 lines"] = sum(prose[lo:hi]) / (hi - lo)
        f["words per line within 5 lines (log)"] = math.log1p(
            sum(lines[k].words for k in range(lo, hi)) / (hi - lo)
        )
        f["stopword density within 5 lines"] = sum(lines[k].stop for k in range(lo, hi)) / (hi - lo)
        lo, hi = max(0, i - 10), min(n, i + 11)
        f["dated lines within 10 lines (log)"] = math.log1p(sum(dated[lo:hi]) - dated[i])
        f["short repeated lines within 10 lines (log)"] = math.log1p(sum(short_repeats[lo:hi]))
        f["position in the page"] = i / n
        f["share of the page's words above"] = seen_words / total_words
        seen_words += ln.words
        f["under a comments heading"] = below_comments[i]
        f["under a related-stories heading"] = below_related[i]
        if lay is not None:
            inside = lay.start <= i <= lay.end
            f["inside the densest run of prose"] = float(inside)
            if i < lay.start:
                f["lines above the densest run (log)"] = math.log1p(lay.start - i)
            elif i > lay.end:
                f["lines below the densest run (log)"] = math.log1p(i - lay.end)
        out.append(f)
    return out


def body_logits(lines: list[Line]) -> list[float] | None:
    """Each line's log-odds of being the article's text, by the learned "body" model
    (None when no model is shipped)."""
    m = learned.model("body")
    if m is None:
        return None
    feats = line_features(lines, blocks.layout(lines))
    return [m.logit(f) for f in feats]


def body_region(logits: list[float]) -> tuple[int, int]:
    """The run of lines with the greatest total log-odds: (first, last), inclusive;
    (0, -1) when no line is more likely body than not."""
    start, end, total = best_run(logits)
    if end < start or total <= 0:
        return 0, -1
    return start, end
