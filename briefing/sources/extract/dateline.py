"""The publication date of a text dump, never guessed.

Every full date in the dump is a candidate, and most are refused by a rule: dates in
the menus above the header, inside the article's text, in a teaser list or comments
below it, in a run of dated links, in the future, or marked "Updated" are never the
article's date. What is left scores by its closeness to the headline and the byline
and by a "Published" word before it. A date without a time stays that calendar date.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from briefing.sources.extract import learned
from briefing.sources.extract.blocks import Layout
from briefing.sources.extract.language import Language
from briefing.sources.extract.lines import Line
from briefing.sources.extract.model import FieldChoice, nothing
from briefing.sources.extract.scoring import Scored, choose_learned
from briefing.sources.extract.when import Found, find_dates, is_date_line


def date_candidates(
    lines: list[Line],
    lay: Layout,
    title_at: int | None,
    byline_at: int | None,
    *,
    today: date,
    lang: Language,
    year: int | None = None,
    logits: list[float] | None = None,
) -> list[Scored]:
    """Every full date of the dump, refused by the rules that never bend (the future, an
    update date, a comment's or a related story's date, a list of dated links), the others
    described by features for the learned "date" model."""
    candidates: list[Scored] = []
    anchor = title_at if title_at is not None else lay.start
    dated = [ln.at for ln in lines if ln.dates]
    n = len(lines)
    seen: dict[date, int] = {}
    for ln in lines:
        for f in ln.dates:
            seen[f.day] = seen.get(f.day, 0) + 1
    for ln in lines:
        yearless = not ln.dates
        for f in ln.dates or _yearless(ln, lay, lang, year):
            label = f"line {ln.number}: {f.text!r}" + (
                " (year from the copyright line)" if yearless else ""
            )
            c = Scored(f.value(), label, line=ln.number)
            own_line = ln.date_only or yearless  # _yearless takes only date lines
            candidates.append(c)
            if f.day > today + timedelta(days=400):
                c.refused = "more than a year in the future"
                continue
            if f.updated_word and not f.published_word:
                c.refused = "an update date, not the publication date"
                continue
            if f.expiry_word:
                c.refused = "an expiry date, not the publication date"
                continue
            if lay.tail_at is not None and ln.at > lay.tail_at:
                c.refused = f"below the {lay.tail_kind} heading"
                continue
            near = [a for a in dated if a != ln.at and abs(a - ln.at) <= 4 and lines[a].date_only]
            if (
                ln.date_only
                and len(near) >= 2
                and not (title_at is not None and abs(ln.at - title_at) <= 3)
            ):
                c.refused = "in a list of dated links"
                continue
            d = ln.at - anchor
            c.set("the line under the headline", d == 1)
            c.set("2-3 lines under the headline", 2 <= d <= 3)
            c.set("4-10 lines under the headline", 4 <= d <= 10)
            c.set("1-3 lines above the headline", -3 <= d <= -1)
            c.set("far above the headline", d < -3)
            c.set("far below the headline", d > 10)
            c.set("on the headline's line", d == 0)
            c.set("lines from the headline (log)", math.log1p(abs(d)))
            if byline_at is not None:
                c.set("on the byline's line", ln.at == byline_at)
                c.set("beside the byline", 1 <= abs(ln.at - byline_at) <= 2)
            c.set("a 'published' word before it", f.published_word)
            c.set("'updated' and 'published' both", f.updated_word and f.published_word)
            c.set("a line of its own", own_line)
            c.set("with a time", f.clock is not None)
            c.set("written in digits", f.numeric)
            c.set("day and month could be swapped", f.ambiguous)
            c.set("its year comes from the copyright line", yearless)
            c.set("above the header", ln.at < lay.header_start)
            c.set("in the header", lay.header_start <= ln.at < lay.start)
            c.set("at the top of the body", lay.start <= ln.at <= lay.start + 3)
            c.set("inside the body", lay.start + 3 < ln.at <= lay.end)
            c.set("inside a paragraph", ln.prose)
            c.set("below the body", ln.at > lay.end)
            c.set("well below the body", ln.at > lay.end + 6)
            c.set("the same date elsewhere on the page", seen.get(f.day, 0) >= 2)
            c.set("dated lines within 5 lines (log)",
                  math.log1p(sum(1 for a in dated if a != ln.at and abs(a - ln.at) <= 5)))  # fmt: skip
            c.set("dates on the page (log)", math.log1p(len(seen)))
            c.set("its line's words (log)", math.log1p(ln.words))
            c.set("the copyright year", year is not None and f.day.year == year)
            c.set("in the future", f.day > today)
            if logits is not None:
                c.set("the body model's log-odds", max(-6.0, min(6.0, logits[ln.at])))
    del n
    return candidates


def published(
    lines: list[Line],
    lay: Layout,
    title_at: int | None,
    byline_at: int | None,
    *,
    today: date,
    lang: Language,
    year: int | None = None,
    logits: list[float] | None = None,
) -> FieldChoice:
    found = date_candidates(lines, lay, title_at, byline_at, today=today, lang=lang,
                            year=year, logits=logits)  # fmt: skip
    m = learned.model("date")
    if m is None:
        return nothing("published", "no date model")
    return choose_learned("published", found, m, abstain=True,
                          rule="the date in the article's header, next to the headline or byline")  # fmt: skip


def _yearless(ln: Line, lay: Layout, lang: Language, year: int | None) -> list[Found]:
    """ "Jan 7" on a line of its own in the header, given the year of the page's copyright
    line; nothing without one."""
    if year is None or not (lay.header_start <= ln.at <= lay.start + 3) or ln.words > 4:
        return []
    text = f"{ln.text} {year}"
    found = [f for f in find_dates(text, lang) if f.end == len(text)]
    return found if found and is_date_line(text, found, lang) else []
