"""The text-dump path: a browser's text of a page in, an ``Extraction`` out.

Steps: lines and their features (``lines.py``) -> the body region and the header above
it (``blocks.py``) -> bylines (``byline.py``) -> the title (``headline.py``), author,
date (``dateline.py``) and publisher (``masthead.py``), each scored with its reasons ->
the body without furniture, or "no article" with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from briefing.clock import utcnow
from briefing.sources import page
from briefing.sources.extract import blocks, byline, dateline, headline, linefeat, masthead
from briefing.sources.extract.language import Language
from briefing.sources.extract.lines import Line, read_dump
from briefing.sources.extract.model import Extraction, FieldChoice, nothing

MIN_BODY_WORDS = 40
DROP_INSIDE = -1.5  # log-odds under which a line inside the body's run is left out  # below this the page holds no story worth sending
_URL_LINE = re.compile(r"(?i)^(?:(?:url|source|link|original|canonical)\s*:\s*)?(https?://\S+)$")


def boilerplate_pattern(extra: Iterable[str] = ()) -> re.Pattern[str]:
    patterns = [*page.DEFAULT_BOILERPLATE, *extra]
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)


_DEFAULT = boilerplate_pattern()


@dataclass
class Reading:
    """A dump read up to the choices: its lines, the body's run, the bylines."""

    lines: list[Line]
    lang: Language
    url: str | None
    logits: list[float] | None  # the body model's log-odds per line
    lay: blocks.Layout | None
    bylines: list[byline.Byline] = field(default_factory=list)
    metas: set[int] = field(default_factory=set)  # bylines, dates, reading times
    names: set[int] = field(default_factory=set)  # bare names beside a date
    ctx: headline.Context | None = None
    opening: list[tuple[int, set[str]]] = field(default_factory=list)


def read(text: str, boilerplate: re.Pattern[str] | None = None) -> Reading:
    dump = read_dump(text, boilerplate or _DEFAULT)
    lines, lang = dump.lines, dump.lang
    logits = linefeat.body_logits(lines)
    lay = blocks.layout(lines, logits)
    r = Reading(lines, lang, _url(lines), logits, lay)
    if lay is None:
        return r
    r.bylines = byline.find_bylines(lines, lay, lang)
    r.metas = byline.meta_lines(lines, r.bylines)
    r.names = {b.at for b in r.bylines if not b.explicit and _beside_date(lines, b.at)}
    signed = frozenset(b.at for b in r.bylines if b.names)
    r.ctx = headline.Context(lines, lay, frozenset(r.metas), frozenset(r.names), logits, signed)
    r.opening = headline.opening_words(lines, lay, lang.stopwords)
    return r


def extract_text(
    text: str,
    *,
    name: str,
    boilerplate: re.Pattern[str] | None = None,
    today: date | None = None,
) -> Extraction:
    """Read one text dump (no front matter). Never raises for odd content: a page with
    no article comes back with ``no_article`` set and the reason."""
    r = read(text, boilerplate)
    lines, lang, url, lay, logits = r.lines, r.lang, r.url, r.lay, r.logits
    if lay is None or r.ctx is None:
        return _no_article(name, "the page has no paragraph of text", lang.code, url)
    bylines, metas, names, ctx, opening = r.bylines, r.metas, r.names, r.ctx, r.opening
    title = headline.title(ctx, opening, lang.stopwords)
    at_of = {ln.number: ln.at for ln in lines}
    title_at = _line_of(title, at_of)
    lowered = "\n".join(ln.text.lower() for ln in lines)
    site = masthead.publisher(lines, title_at, title.text, lowered)
    who = byline.author(lines, lay, bylines, site.text, title_at, logits)
    when = dateline.published(
        lines,
        lay,
        title_at,
        _line_of(who, at_of),
        today=today or utcnow().date(),
        lang=lang,
        year=_copyright_year(lines),
        logits=logits,
    )
    used = {i for i in (title_at, _line_of(who, at_of), _line_of(when, at_of)) if i is not None}
    body_lines = _body(lines, lay, used | metas | names, logits, used)
    body = "\n\n".join(ln.text for ln in body_lines)
    dropped = blocks.dropped_blocks(lines, lay, used)
    words = len(body.split())
    prose = sum(1 for ln in body_lines if ln.prose)
    reason = None
    if words < MIN_BODY_WORDS:
        reason = f"the body has {words} words (under {MIN_BODY_WORDS}): no article text"
    elif prose < 2 and words < 150:
        reason = "no run of paragraphs: the page is a list of links or a notice"
    elif title.value is None:
        reason = "no line reads as the article's headline"
    reading = next(
        (int(m.group(1)) for ln in lines[lay.header_start : lay.start + 3]
         if (m := page.READING_TIME.match(ln.text))),
        None,
    )  # fmt: skip
    return Extraction(
        name=name,
        kind="text",
        title=title,
        author=who,
        published=when,
        publisher=site,
        body=body if reason is None else "",
        no_article=reason,
        url=url,
        lang=lang.code,
        reading_time_min=reading,
        dropped=tuple(dropped),
        extra={
            "body_lines": [ln.at for ln in body_lines] if reason is None else [],
            "lines": len(lines),
        },
    )


def _line_of(choice: FieldChoice, at_of: dict[int, int]) -> int | None:
    """Which of the dump's lines the chosen value came from."""
    if choice.value is None or choice.chosen is None or choice.chosen.line is None:
        return None
    return at_of.get(choice.chosen.line)


def _copyright_year(lines: list[Line]) -> int | None:
    years = [
        cr.year
        for ln in lines
        if ln.furniture == "copyright line" and (cr := page.copyright_line(ln.text)) and cr.year
    ]
    return max(years) if years else None


def _beside_date(lines: list[Line], at: int) -> bool:
    return any(lines[j].dates for j in range(max(0, at - 2), min(len(lines), at + 3)))


def _url(lines: list[Line]) -> str | None:
    for ln in [*lines[:5], *lines[-5:]]:
        if m := _URL_LINE.match(ln.text):
            return m.group(1)
    return None


def _body(
    lines: list[Line],
    lay: blocks.Layout,
    header: set[int],
    logits: list[float] | None,
    used: set[int] = frozenset(),  # type: ignore[assignment]
) -> list[Line]:
    """The body region less furniture, the header lines and any list that opens inside it."""
    out: list[Line] = []
    skipping = False
    numbers = {lines[i].number for i in header if 0 <= i < len(lines)} if header else set()
    if logits is not None:
        for ln in lines[lay.start : lay.end + 1]:
            score = logits[ln.at]
            if score < DROP_INSIDE or (ln.furniture and score < 0):
                continue  # a line inside the run that the body model takes for furniture
            if ln.at in used and not ln.prose:
                continue  # the headline, byline or date chosen
            if ln.at in header and ln.at <= lay.start + 4:
                continue  # a byline, date or reading time on top of the text
            out.append(ln)
        return out
    for ln in lines[lay.start : lay.end + 1]:
        if ln.boundary == "comments":
            break
        if ln.boundary == "related":
            skipping = True
            continue
        if skipping:
            if ln.prose:
                skipping = False
            else:
                continue
        if ln.furniture:
            continue
        if ln.number in numbers and (ln.at <= lay.start + 4 or not ln.prose):
            continue
        out.append(ln)
    return out


def _no_article(name: str, reason: str, lang: str, url: str | None) -> Extraction:
    empty = "the page holds no article"
    return Extraction(
        name=name,
        kind="text",
        title=nothing("title", empty),
        author=nothing("author", empty),
        published=nothing("published", empty),
        publisher=nothing("publisher", empty),
        no_article=reason,
        url=url,
        lang=lang,
    )
