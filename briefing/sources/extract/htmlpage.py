"""Where things sit on an HTML page: its text in reading order, the article's body, the
header above it, and the blocks around it that are not the article.

``PageIndex`` walks the page once and keeps its visible text as one string (a line break
at every block element, as a browser's ``innerText`` gives it) with the span of every
element in it. Given the body that trafilatura extracted, it finds where that body
starts and ends on the page, so the rest of the HTML path can ask of any element: is it
in the header between the headline and the body, in the lines right under the body, or
elsewhere; and is it inside a block that is not the article (navigation, a sidebar, a
"related" or comments list, the page's footer), judged by tag, ARIA role and the class
and id words every CMS uses. Blocks that contain the body itself are never furniture:
a ``div class="sidebar-layout"`` wrapping the whole page says nothing.

Why one module: ``PageIndex`` (280 lines, one walk of the page) and the tag,
role and class-word lists it judges by, which the formatter sets one word a line.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from typing import Any

BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "center",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
        "br",
        "title",
    ]
)
SKIP_TAGS = frozenset(
    [
        "script",
        "style",
        "noscript",
        "template",
        "head",
        "svg",
        "iframe",
        "select",
        "option",
        "textarea",
        "button",
    ]
)
# Class and id words of blocks that are not the article (whole words of "a-b_c d").
FURNITURE_WORDS = frozenset(
    [
        "comment",
        "comments",
        "commentlist",
        "disqus",
        "reply",
        "replies",
        "respond",
        "related",
        "relatedposts",
        "recommended",
        "recommendations",
        "recirc",
        "promo",
        "promos",
        "teaser",
        "teasers",
        "popular",
        "trending",
        "mostread",
        "sidebar",
        "widget",
        "widgets",
        "rail",
        "nav",
        "navbar",
        "navigation",
        "menu",
        "breadcrumb",
        "breadcrumbs",
        "newsletter",
        "subscribe",
        "signup",
        "share",
        "sharing",
        "social",
        "cookie",
        "cookies",
        "consent",
        "advert",
        "advertisement",
        "ads",
        "sponsored",
        "outbrain",
        "taboola",
        "pagination",
        "pager",
        "infobox",
        "navbox",
        "toc",
    ]
)
FURNITURE_ROLES = frozenset(["navigation", "complementary", "contentinfo", "banner", "search"])
_WORDS = re.compile(r"[a-z0-9]+")
_SPACE = re.compile(r"\s+")


def paragraph_like(line: str) -> bool:
    """Long enough to be one of the body's paragraphs (six words, or 40 characters of a
    language written without spaces)."""
    return len(line.split()) >= 6 or len(line.strip()) >= 40


def snippet_pattern(line: str) -> re.Pattern[str] | None:
    """A pattern finding where a body paragraph begins in the page's text: its first eight
    words, or its first 24 characters when it has few spaces (Japanese, Chinese)."""
    # trafilatura writes table rows as "| cell | cell" and list items as "- item"
    words = [w for w in line.split() if w.strip("|")]
    if words and words[0] in {"-", "*", "•", "–", "—"}:
        words = words[1:]
    if len(words) >= 3:
        return re.compile(r"\s+".join(re.escape(w) for w in words[:8]), re.I)
    text = "".join(words)[:24]
    if len(text) < 12:
        return None
    return re.compile(r"\s*".join(re.escape(c) for c in text), re.I)


def class_words(el: Any) -> set[str]:
    return set(_WORDS.findall(f"{el.get('class') or ''} {el.get('id') or ''}".lower()))


def class_text(el: Any) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''}".lower()


class PageIndex:
    """The page's visible text and each element's place in it."""

    def __init__(self, doc: Any) -> None:
        body = doc.find(".//body")
        self.root = body if body is not None else doc
        self.order: dict[Any, int] = {}
        self.start: dict[Any, int] = {}
        self.end: dict[Any, int] = {}
        self.elements: list[Any] = []
        parts: list[str] = []
        size = 0
        last = "\n"

        def add(text: str | None) -> None:
            nonlocal size, last
            if not text:
                return
            t = _SPACE.sub(" ", text)
            if last in " \n" and t.startswith(" "):
                t = t[1:]
            if t:
                parts.append(t)
                size += len(t)
                last = t[-1]

        def newline(double: bool) -> None:
            nonlocal size, last
            t = "\n\n" if double else "\n"
            parts.append(t)
            size += len(t)
            last = "\n"

        stack: list[tuple[Any, bool]] = [(self.root, False)]
        while stack:
            el, leaving = stack.pop()
            tag = el.tag.lower() if isinstance(el.tag, str) else ""
            if leaving:
                if tag in BLOCK_TAGS:
                    newline(tag == "p")
                self.end[el] = size
                add(el.tail)
                continue
            if not tag:  # a comment or processing instruction: only its tail is text
                add(el.tail)
                continue
            self.order[el] = len(self.elements)
            self.elements.append(el)
            self.start[el] = size
            if tag in SKIP_TAGS:
                self.end[el] = size
                add(el.tail)
                continue
            if tag in BLOCK_TAGS:
                newline(tag == "p")
            add(el.text)
            stack.append((el, True))
            stack.extend((child, False) for child in reversed(el))
        self.flat = "".join(parts)
        self._starts = [self.start[e] for e in self.elements]
        self.lower = self.flat.lower()
        self.headline: Any = None  # the headline's element, once the title is chosen
        self.body_start: Any = None
        self.body_end: Any = None
        self._body_chain: set[Any] = set()

    # -- text ---------------------------------------------------------------------------

    def text(self, el: Any) -> str:
        """The element's visible text on one line."""
        if el not in self.start:
            return ""
        return " ".join(self.flat[self.start[el] : self.end[el]].split())

    def lines(self, el: Any) -> list[str]:
        if el not in self.start:
            return []
        raw = self.flat[self.start[el] : self.end[el]].split("\n")
        return [" ".join(line.split()) for line in raw if line.strip()]

    def visible_text(self) -> str:
        return "\n".join(line.strip() for line in self.flat.split("\n"))

    def shows(self, phrase: str) -> bool:
        """Is the phrase part of the page's visible text (case and spacing aside)?"""
        words = phrase.lower().split()
        if not words:
            return False
        pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)"
        return re.search(pattern, self.lower) is not None

    def chars_between(self, a: Any, b: Any) -> int:
        """Characters of visible text from the end of ``a`` to the start of ``b`` (0 if b is not after)."""
        return max(0, self.start.get(b, 0) - self.end.get(a, 0))

    # -- the body -----------------------------------------------------------------------

    def locate(self, snippet: str, *, last: bool = False) -> Any:
        """The deepest block element where ``snippet`` (a body paragraph's first words) begins."""
        pattern = snippet_pattern(snippet)
        if pattern is None:
            return None
        matches = list(pattern.finditer(self.flat))
        if not matches:
            return None
        for m in reversed(matches) if last else matches:
            best = self.owner(m.start())
            while best is not None and best.tag.lower() not in BLOCK_TAGS - {"br"}:
                best = best.getparent()
            if best is not None and best.tag.lower() not in {"h1", "h2", "h3"}:
                return best  # a paragraph, not the headline that trafilatura kept
        return None

    def owner(self, offset: int) -> Any:
        """The deepest element whose text holds the character at ``offset``."""
        i = bisect_right(self._starts, offset) - 1
        el = self.elements[i] if i >= 0 else None
        while el is not None and not (self.start.get(el, 0) <= offset < self.end.get(el, 0)):
            el = el.getparent()
        return el

    def line_spans(self) -> Iterator[tuple[int, str]]:
        """Each non-empty line of the visible text, with the offset where its text begins."""
        at = 0
        for raw in self.flat.split("\n"):
            text = raw.strip()
            if text:
                yield at + (len(raw) - len(raw.lstrip())), text
            at += len(raw) + 1

    def set_body(self, body: str, skip: Callable[[str], bool] | None = None) -> None:
        """Find trafilatura's body on the page: where its first paragraph (not a line that
        ``skip`` rejects, such as a byline it kept) begins and where its last one does."""
        paras = [p for p in body.split("\n") if paragraph_like(p)]
        for p in [p for p in paras if skip is None or not skip(p)][:8]:
            self.body_start = self.locate(p)
            if self.body_start is not None:
                break
        for p in reversed(paras[-8:]):
            self.body_end = self.locate(p, last=True)
            if self.body_end is not None:
                break
        if self.body_start is not None and self.body_end is not None:
            if self.order[self.body_end] < self.order[self.body_start]:
                self.body_end = self.body_start
        elif self.body_start is not None:
            self.body_end = self.body_start
        self._body_chain = set()
        if self.body_start is not None:
            self._body_chain = {self.body_start, *self.body_start.iterancestors()}

    def reanchor(
        self, body: str, after: Any, skip: Callable[[str], bool] | None = None
    ) -> str | None:
        """Move the body's start below ``after`` (the headline) when trafilatura's body began
        above it, or far below it (a teaser, a sidebar or a menu it kept first): the story
        starts under its headline, at the nearest of the body's first paragraphs. Returns
        that paragraph when the start moved."""
        if self.body_start is None or after not in self.order:
            return None
        if self.order[self.body_start] > self.order[after] and (
            self.start[self.body_start] - self.end[after] <= 1500
        ):
            return None
        best: int | None = None
        para: str | None = None
        paras = [p for p in body.split("\n") if paragraph_like(p)]
        for p in [p for p in paras if skip is None or not skip(p)][:12]:
            pattern = snippet_pattern(p)
            if pattern is None:
                continue
            m = pattern.search(self.flat, self.end[after])
            if m is not None and (best is None or m.start() < best):
                best, para = m.start(), p
        if best is None or best - self.end[after] > 3000:
            return None
        if self.order[self.body_start] > self.order[after] and best >= self.start[self.body_start]:
            return None  # the body already starts at the nearest paragraph below the headline
        el = self.owner(best)
        while el is not None and el.tag.lower() not in BLOCK_TAGS - {"br"}:
            el = el.getparent()
        if el is None:
            return None
        self.body_start = el
        if self.order[self.body_end] < self.order[el]:
            self.body_end = el
        self._body_chain = {el, *el.iterancestors()}
        return para

    def contains_body(self, el: Any) -> bool:
        return el in self._body_chain

    def before_body(self, el: Any) -> bool:
        return self.body_start is not None and self.order.get(el, 0) < self.order[self.body_start]

    def in_body(self, el: Any) -> bool:
        if self.body_start is None or el not in self.order:
            return False
        return (
            self.order[self.body_start] <= self.order[el]
            and self.end[el] <= self.end[self.body_end]
        )

    def after_body(self, el: Any) -> bool:
        return self.body_end is not None and self.start.get(el, 0) >= self.end[self.body_end]

    # -- furniture ----------------------------------------------------------------------

    def furniture(self, el: Any) -> str | None:
        """Why ``el`` sits in a block that is not the article, or None."""
        for a in self._up(el):
            tag = a.tag.lower() if isinstance(a.tag, str) else ""
            if tag in {"nav", "menu"}:
                return f"in a <{tag}>"
            role = (a.get("role") or "").lower()
            if role in FURNITURE_ROLES and not self._small(a):
                return f"in a block with role {role}"
            if tag == "aside" and not self._small(a):
                return "in an <aside> block"
            hit = sorted(class_words(a) & FURNITURE_WORDS)
            if hit:
                return f"in a '{hit[0]}' block"
            if (tag == "footer" or "footer" in class_words(a)) and not (
                self._small(a) or self._article_footer(a)
            ):
                return "in the page's footer"
            if tag == "header" and self.headline is not None and self._site_header(a):
                return "in the site's header"
        return None

    def _up(self, el: Any) -> Iterator[Any]:
        """``el`` and its ancestors, up to (not including) the first that contains the body."""
        a = el
        while a is not None and a is not self.root:
            if self.contains_body(a):
                return
            yield a
            a = a.getparent()

    def _small(self, el: Any) -> bool:
        """A short block with few links: an article's own footer or aside, not the page's."""
        links = sum(1 for _ in el.iter("a"))
        return len(self.text(el)) <= 300 and links <= 6

    def _article_footer(self, el: Any) -> bool:
        """A footer starting right under the body, of modest size: the post's own footer."""
        if self.body_end is None:
            return False
        gap = self.start.get(el, 0) - self.end[self.body_end]
        return 0 <= gap <= 600 and len(self.text(el)) <= 1500

    def _site_header(self, el: Any) -> bool:
        """A <header> with the site's menus (many links), not the article's own header (the
        one that holds the headline)."""
        if self.headline is not None and (
            el is self.headline or el in set(self.headline.iterancestors())
        ):
            return False
        return sum(1 for _ in el.iter("a")) > 8

    def data_table_cell(self, el: Any) -> bool:
        """Inside a table row that has a label cell (<th>): an infobox or data table."""
        for a in [el, *el.iterancestors()]:
            tag = a.tag.lower() if isinstance(a.tag, str) else ""
            if tag == "tr":
                return a.find("th") is not None and a.find("td") is not None
            if tag in {"table", "body"}:
                return False
        return False

    def links_home(self, el: Any, site_roots: set[str]) -> bool:
        """The element is, or is inside, a link to the site's home page (a logo, a masthead)."""
        for a in [*el.iter("a"), *el.iterancestors("a")]:
            href = (a.get("href") or "").strip().lower()
            if href in {"/", "./", "../", "index.html", "/index.html", "#"} or (
                href.rstrip("/") in site_roots
            ):
                return True
        return False
