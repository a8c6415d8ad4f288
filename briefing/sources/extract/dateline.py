"""The publication date of a text dump, never guessed.

Every full date in the dump is a candidate, and most are refused by a rule: dates in
the menus above the header, inside the article's text, in a teaser list or comments
below it, in a run of dated links, in the future, or marked "Updated" are never the
article's date. What is left scores by its closeness to the headline and the byline
and by a "Published" word before it. A date without a time stays that calendar date.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from briefing.sources.extract.blocks import Layout
from briefing.sources.extract.language import Language
from briefing.sources.extract.lines import Line
from briefing.sources.extract.model import FieldChoice
from briefing.sources.extract.scoring import Scored, choose
from briefing.sources.extract.when import Found, find_dates, is_date_line


def published(
    lines: list[Line],
    lay: Layout,
    title_at: int | None,
    byline_at: int | None,
    *,
    today: date,
    lang: Language,
    year: int | None = None,
) -> FieldChoice:
    candidates: list[Scored] = []
    anchor = title_at if title_at is not None else lay.start
    dated = [ln.at for ln in lines if ln.dates]
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
            if ln.at < lay.header_start:
                c.refused = "in the navigation above the article"
                continue
            if lay.tail_at is not None and ln.at > lay.tail_at:
                c.refused = f"below the {lay.tail_kind} heading"
                continue
            if lay.start + 3 < ln.at <= lay.end and not (own_line or f.published_word):
                c.refused = "inside the article text"
                continue
            if ln.at > lay.end + 6:
                c.refused = "below the article (teasers, footer)"
                continue
            near = [a for a in dated if a != ln.at and abs(a - ln.at) <= 4 and lines[a].date_only]
            if ln.date_only and len(near) >= 2 and ln.at < lay.start:
                c.refused = "in a list of dated links"
                continue
            if (
                title_at is not None
                and lay.header_start <= ln.at < title_at - 10
                and not f.published_word
            ):
                c.refused = "well above the headline"
                continue
            if not (
                own_line
                or f.published_word
                or (byline_at is not None and abs(ln.at - byline_at) <= 1)
            ):
                c.refused = "inside other text, not a dateline or byline"
                continue
            distance = abs(ln.at - anchor)
            c.add("close to the headline", max(0.0, 4.0 - 0.4 * distance))
            if byline_at is not None and abs(ln.at - byline_at) <= 2:
                c.add("in or beside the byline", 2.0)
            if f.published_word:
                c.add("a 'published' word before it", 2.0)
            if own_line:
                c.add("a line of its own", 1.0)
            if ln.at > lay.end:
                c.add("below the article", -1.0)
            if f.ambiguous:
                c.add("day and month could be swapped", -1.0)
            if isinstance(c.value, datetime):
                c.add("with a time", 0.5)
    for c in candidates:
        if c.source.endswith("(year from the copyright line)") and not c.refused:
            c.add("its year comes from the copyright line", -0.5)
    # the same date seen twice (byline and footer) must not count as a runner-up
    return choose("published", candidates, minimum=1.5,
                  rule="the date in the article's header, next to the headline or byline")  # fmt: skip


def _yearless(ln: Line, lay: Layout, lang: Language, year: int | None) -> list[Found]:
    """ "Jan 7" on a line of its own in the header, given the year of the page's copyright
    line; nothing without one."""
    if year is None or not (lay.header_start <= ln.at <= lay.start + 3) or ln.words > 4:
        return []
    text = f"{ln.text} {year}"
    found = [f for f in find_dates(text, lang) if f.end == len(text)]
    return found if found and is_date_line(text, found, lang) else []
