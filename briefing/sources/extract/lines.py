"""The lines of a text dump with the features every later step reads.

A browser's ``innerText`` of a page without CSS gives one line per block element:
menu items, buttons, headings, paragraphs. Each ``Line`` knows its words, how much of
it is stopwords (prose has many, menus few), the full dates in it, whether it is page
furniture (the classifiers of ``page.py``: boilerplate, share bars, cookie banners,
copyright lines, breadcrumbs, promo lines) and whether it is a heading that opens
comments or a list of other stories.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from briefing.sources import page
from briefing.sources.extract.language import Language, guess_language, stopword_density, tokens
from briefing.sources.extract.when import Found, find_dates, is_date_line, settle_order

# Headings that open comments or a list of other stories, in the languages we read
# (page.py's English patterns first).
_COMMENTS = re.compile(
    r"(?:\d+\s+)?(?:comments?|commentaires?|comentarios?|comentários?|kommentare?|commenti|"
    r"reacties|komentáře|komentarze|kommentarer|responses?|réactions?|reacciones|discussion|"
    r"leave a (?:comment|reply)|laisser un commentaire|deja un comentario|deixe um comentário|"
    r"\d+ thoughts? on .*|join the (?:conversation|discussion)|reader comments|"
    r"(?:show|view|load|read) (?:all )?\d* ?comments?)\s*[:(]?\d*\)?",
    re.I,
)
_RELATED = re.compile(
    r"(?:related(?: \w+)?|voir aussi|à lire aussi|lire aussi|sur le même sujet|"
    r"(?:noticias|artículos|notas) relacionad[ao]s|relacionad[ao]s|leia também|veja também|"
    r"mais lidas|lo más leído|más leídas|les plus lus|ähnliche artikel|mehr zum thema|das könnte sie auch interessieren|"
    r"související(?: články)?|mohlo by vás zajímat|leggi anche|articoli correlati|gerelateerd|"
    r"you (?:may|might) (?:also )?(?:like|enjoy)|more (?:stories|articles|posts) (?:from|by|like this).*|"
    r"popular (?:on|in) .{2,30}|more from .{2,40})\s*:?",
    re.I,
)
_SENTENCE_END = re.compile(r"(?:[.!?…:;]|[.!?…][»”\"')\]]+)$")
_LINK_WORDS = re.compile(
    r"(?:go to )?permalink|(?:show|hide) (?:replies|more)|expand|collapse", re.I
)
_NUMBERS_ONLY = re.compile(r"^[\W\d_]+$")
_DIGIT = re.compile(r"\d")


@dataclass
class Line:
    text: str
    at: int  # position among the dump's non-empty lines
    number: int  # 1-based line number in the file, for explanations
    gap_before: bool  # a blank line stands above it (a <p> or a heading in innerText)
    words: int
    stop: float  # stopword density
    dates: list[Found] = field(default_factory=list)
    date_only: bool = False
    furniture: str | None = None  # why the line is page furniture
    boundary: str | None = None  # "comments" or "related": a heading that opens them
    repeats: int = 1  # how often the same text stands in the dump

    @property
    def prose(self) -> bool:
        """A paragraph of running text, not a menu item, heading, name or button."""
        if self.words >= 25:
            return self.stop >= 0.1
        if self.words >= 8:
            return self.stop >= 0.2 and bool(_SENTENCE_END.search(self.text))
        return False


@dataclass
class Dump:
    lines: list[Line]
    lang: Language


def read_dump(text: str, boilerplate: re.Pattern[str]) -> Dump:
    raw: list[tuple[str, int, bool]] = []
    gap = True
    for number, line in enumerate(text.split("\n"), start=1):
        t = page.deglue(" ".join(line.split()))
        if not t:
            gap = True
            continue
        raw.append((t, number, gap))
        gap = False
    words_all: list[str] = []
    for t, _, _ in raw:
        if len(t.split()) >= 6:
            words_all.extend(tokens(t))
    lang = guess_language(words_all)
    counts = Counter(t for t, _, _ in raw)
    lines: list[Line] = []
    for at, (t, number, gap_before) in enumerate(raw):
        label = raw[at - 1][0] if at and len(raw[at - 1][0]) <= 30 else ""
        dates = find_dates(t, lang, label) if _DIGIT.search(t) else []
        ln = Line(
            text=t,
            at=at,
            number=number,
            gap_before=gap_before,
            words=len(t.split()),
            stop=stopword_density(t, lang),
            dates=dates,
            date_only=bool(dates) and is_date_line(t, dates, lang),
            repeats=counts[t],
        )
        ln.furniture = furniture(t, boilerplate) if not ln.date_only else None
        if ln.words <= 8 and not ln.prose:
            if _COMMENTS.fullmatch(t) or (page.ARTICLE_END.fullmatch(t) and ln.words <= 4):
                ln.boundary = "comments"
            elif _RELATED.fullmatch(t) or page.ASIDE_HEADING.fullmatch(t):
                ln.boundary = "related"
        lines.append(ln)
    numeric = [f for ln in lines for f in ln.dates if f.order]
    if len(numeric) >= 2:  # one page writes its dates in one order
        for ln in lines:
            if any(f.order for f in ln.dates):
                ln.dates = settle_order_line(ln.dates, numeric)
    return Dump(lines, lang)


def settle_order_line(dates: list[Found], page_dates: list[Found]) -> list[Found]:
    settled = settle_order([*dates, *page_dates])
    return settled[: len(dates)]


def furniture(text: str, boilerplate: re.Pattern[str]) -> str | None:
    """Why a line is page furniture wherever it stands, or None."""
    if text.count(" ") >= 60:  # a paragraph: only a boilerplate pattern can make it furniture
        return "boilerplate (menu, button or label words)" if boilerplate.fullmatch(text) else None
    if _NUMBERS_ONLY.match(text):
        return "no words (a counter, a symbol)"
    if boilerplate.fullmatch(text) or _LINK_WORDS.fullmatch(text):
        return "boilerplate (menu, button or label words)"
    if page.is_cookie_banner(text):
        return "cookie banner"
    if page.is_share_bar(text):
        return "share buttons"
    parts = page.glued_parts(text)
    if len(parts) > 1 and all(boilerplate.fullmatch(p) for p in parts):
        return "buttons glued together"
    if page.word_count(text) <= 40 and page.PROMO_LINE.search(text):
        return "a call to subscribe or click"
    if page.copyright_line(text) is not None:
        return "copyright line"
    if page.is_breadcrumb(text) and not re.search(r"[<(){}=\"]", text):
        return "breadcrumb"
    return None
