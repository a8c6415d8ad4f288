"""The passes after the header: what ends the article (comments, a sign-off, an end mark),
promo boxes, story lists ("Related Posts"), lines that are only the site's name, and what
trails the last paragraph."""

from __future__ import annotations

import re

from briefing.sources import page
from briefing.sources.seed.lines import _Line, _Meta


def _trim_tail(body: list[str], author: str | None) -> list[str]:
    """Drop what trails the last paragraph: tag lists, follow buttons, the author's bio."""
    while body and not page.prose_like(body[-1]):
        body.pop()  # a subheading is always followed by prose; these lines are not
    if author and body:
        first = author.split(" and ")[0].split(",")[0].strip()
        if first and re.match(rf"{re.escape(first)} (?:is|was|writes|covers|has been)\b", body[-1]):
            body.pop()
    return body


def _tail(lines: list[_Line], title_at: int) -> None:
    """Once the article has started, nothing after the comments, a sign-off ("Reporting by
    ..."), an end mark ("###") or an author bio heading is the article."""
    started = False
    ending = False
    for ln in lines:
        if ln.index <= title_at:
            continue
        if ln.kind == "text" and page.prose_like(ln.text):
            started = True
        if (
            not ending
            and started
            and ln.kind in {"text", "drop"}
            and (page.ARTICLE_END.fullmatch(ln.text) or page.PUBLISHED_IN.fullmatch(ln.text))
        ):
            ending = True
        elif ending:
            ln.weak = ln.kind == "text"
        if ending:
            ln.kind = "end"


def _promo_boxes(lines: list[_Line], boilerplate: re.Pattern[str]) -> None:
    """'Get the X newsletter / Every Friday. / Sign up': the lines above a call to action."""
    for at, ln in enumerate(lines):
        if ln.kind not in {"text", "drop"} or not page.CALL_TO_ACTION.fullmatch(ln.text):
            continue
        ln.kind = "drop"
        back = at - 1
        taken = 0
        while back >= 0 and taken < 4:
            prev = lines[back]
            back -= 1
            if prev.kind == "drop":
                continue
            if prev.kind != "text":
                break
            promo = page.PROMO_WORDS.search(prev.text) and page.word_count(prev.text) <= 40
            short_heading = (
                page.word_count(prev.text) <= 8 and page.headline_like(prev.text) and taken == 0
            )
            if not (promo or short_heading):
                break
            prev.kind = "drop"
            taken += 1


def _asides(lines: list[_Line]) -> None:
    """'Most read', 'Related Posts': skip the list of headlines after the heading."""
    skipping = False
    for ln in lines:
        if ln.kind in {"text", "drop"} and page.ASIDE_HEADING.fullmatch(ln.text):
            ln.kind = "aside"
            skipping = True
            continue
        if not skipping or ln.kind != "text":
            continue
        if page.statement_like(ln.text):
            skipping = False
        else:
            ln.kind = "aside"


def _brand_lines(lines: list[_Line], meta: _Meta) -> None:
    """A line that is just the site's name (a logo, an ad slot's label) is furniture."""
    brands: set[str] = set()
    for name in (*meta.site_names, meta.copyright_holder):
        words = (name or "").split()
        brands.update(" ".join(words[:k]).lower() for k in range(1, len(words) + 1))
    for ln in lines:
        if ln.kind == "text" and page.word_count(ln.text) <= 4 and ln.text.lower() in brands:
            ln.kind = "drop"
