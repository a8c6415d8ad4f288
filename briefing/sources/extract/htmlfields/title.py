"""The HTML path's title: the visible headline, found as the heading above the body that the
page's declarations name too (see the package docstring)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from briefing.sources.extract.htmlfields.shared import (
    _BY,
    _SEP,
    Context,
    in_article_scope,
    is_site,
    norm,
    overlap,
    vote,
)
from briefing.sources.extract.htmlpage import class_words
from briefing.sources.extract.model import FieldChoice
from briefing.sources.extract.scoring import Scored

_BRACKET_SITE = re.compile(r"^(?P<title>.*\S)\s*\[(?P<site>[^\]]{2,60})\]$")


_HEADING_WORDS = frozenset(["title", "headline", "heading", "hed", "h1", "posttitle"])
_SITE_WORDS = frozenset(["site", "logo", "brand", "masthead", "blogtitle", "sitename", "header"])


_DECLARED_TITLES = (("ld:headline", 2.5), ("og:title", 2.0), ("twitter:title", 1.0),
                    ("dc.title", 1.5), ("citation_title", 1.5), ("parsely-title", 1.5))  # fmt: skip


def split_title(title: str) -> tuple[list[str], list[str]]:
    """'Headline | Section | Site' -> parts and the separators between them."""
    bracket = _BRACKET_SITE.match(title)
    tail: list[str] = []
    if bracket:
        title, tail = bracket.group("title"), [bracket.group("site")]
    pieces = _SEP.split(title)
    parts = [p.strip() for p in pieces[::2]]
    seps = pieces[1::2]
    if tail:
        parts += tail
        seps.append(" [ ")
    keep = [(p, s) for p, s in zip(parts, [*seps, ""], strict=True) if p]
    return [p for p, _ in keep], [s for _, s in keep][:-1]


def strip_site(ctx: Context, title: str) -> str:
    """The title less the site's name (and a "by Author" part) at either end."""
    parts, seps = split_title(title)
    if len(parts) < 2:
        # "見出し：サイト名", "Headline:Site": a separator without spaces, only before the
        # site's own name (a colon inside a headline stays)
        m = re.match(r"^(?P<head>.+\S)\s*[:：|｜]\s*(?P<site>[^:：|｜]{2,40})$", title)
        if m and is_site(ctx, m.group("site")):
            return m.group("head")
        return title
    lo, hi = 0, len(parts)
    while hi - lo > 1 and (is_site(ctx, parts[hi - 1]) or _BY.match(parts[hi - 1])):
        hi -= 1
    while hi - lo > 1 and is_site(ctx, parts[lo]):
        lo += 1
    out = parts[lo]
    for i in range(lo + 1, hi):
        out += seps[i - 1] + parts[i]
    return out.strip()


def title_targets(ctx: Context) -> dict[str, tuple[str, float]]:
    """Normalized strings a visible headline may equal, with the source and the weight."""
    m = ctx.meta
    out: dict[str, tuple[str, float]] = {}

    def put(text: str | None, source: str, weight: float) -> None:
        if text and len(norm(text)) >= 2:
            k = norm(text)
            if k not in out or out[k][1] < weight:
                out[k] = (source, weight)

    for key in ("ld:headline", "og:title", "twitter:title", "dc.title", "dcterms.title",
                "citation_title", "parsely-title", "sailthru.title", "headline", "ld:name"):  # fmt: skip
        for v in m.get(key)[:1]:
            put(v, key, 3.5)
            put(strip_site(ctx, v), key, 3.5)
    if m.title_tag:
        put(m.title_tag, "<title>", 3.5)
        put(strip_site(ctx, m.title_tag), "<title>", 3.5)
        parts, seps = split_title(m.title_tag)
        for i in range(1, len(parts)):
            prefix = parts[0] + "".join(seps[j - 1] + parts[j] for j in range(1, i))
            put(prefix, "<title>", 2.5)
        for p in parts:
            put(p, "<title>", 2.5 if len(p.split()) >= 2 else 1.5)
    return out


def heading_elements(ctx: Context) -> list[tuple[Any, str, float]]:
    """Elements that look like headings: (element, kind, weight)."""
    out: list[tuple[Any, str, float]] = []
    for el in ctx.index.elements:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        cw = class_words(el)
        if tag in {"h1", "h2", "h3", "h4"}:
            weight = {"h1": 2.5, "h2": 1.5, "h3": 0.8, "h4": 0.3}[tag]
            out.append((el, f"<{tag}>", weight + (0.5 if cw & _HEADING_WORDS else 0.0)))
        elif (el.get("itemprop") or "").lower() in {"headline", "name"} and in_article_scope(
            el, ctx.index
        ):
            out.append((el, "itemprop headline", 2.5))
        elif cw & _HEADING_WORDS and tag in {"div", "span", "p", "a", "header", "strong", "b"}:
            out.append((el, f"<{tag} class={el.get('class') or el.get('id')}>", 1.0))
        elif tag == "font" and re.fullmatch(r"\+?[3-7]", (el.get("size") or "").strip()):
            out.append((el, "<font size>", 1.5))
    return out


def choose_title(ctx: Context) -> FieldChoice:
    ix, m = ctx.index, ctx.meta
    targets = title_targets(ctx)
    cands: list[Scored] = []
    seen: dict[str, Scored] = {}
    where: dict[int, Any] = {}
    parts_of: list[str] = []
    roots = {f"https://{h}" for h in ctx.hosts} | {f"http://{h}" for h in ctx.hosts}
    if m.canonical:
        u = urlsplit(m.canonical)
        roots |= {f"{u.scheme}://{u.netloc}", f"//{u.netloc}"}
    for el, kind, weight in heading_elements(ctx):
        lines = ix.lines(el)
        text = " ".join(lines)
        if not text or len(text) > 300 or not re.search(r"[^\W\d_]", text):
            continue
        options = [text] + ([lines[0]] if len(lines) > 1 and len(lines[0]) >= 3 else [])
        for value in options:
            c = Scored(value, kind)
            where[id(c)] = el
            c.add(f"a {kind} heading", weight)
            if len(options) > 1 and value == text:
                c.add("runs over several lines (a subtitle joined to it)", -0.5)
            hit = targets.get(norm(value))
            if hit:
                c.add(f"the {hit[0]} names it too", hit[1])
            elif any(norm(value) in t and len(norm(value)) < 0.8 * len(t) for t in targets):
                parts_of.append(
                    norm(value)
                )  # a headline split over elements: the declared one is whole
            else:
                best = max((overlap(value, t) for t in targets), default=0.0)
                if best >= 0.7:
                    c.add("nearly the page's declared title", 1.5)
                elif best >= 0.5:
                    c.add("close to the page's declared title", 0.75)
            if ix.body_start is not None:
                if ix.before_body(el) or el is ix.body_start:
                    gap = ix.chars_between(el, ix.body_start)
                    c.add("above the body" if gap <= 3000 else "far above the body",
                          1.5 if gap <= 3000 else 0.3)  # fmt: skip
                else:
                    c.add("inside or below the body (a subheading or a teaser)", -2.5)
            if (reason := ix.furniture(el)) is not None:
                c.add(reason, -3.0)
            if ix.links_home(el, roots):
                c.add("a link to the home page (the site's logo)", -2.5)
            if (class_words(el) & _SITE_WORDS) or any(
                class_words(a) & _SITE_WORDS for a in el.iterancestors() if a.tag == "header"
            ):
                c.add("marked as the site's header or logo", -1.5)
            if is_site(ctx, value):
                c.refused = "the site's name, not a headline"
            if len(value.split()) > 30:
                c.add("too long for a headline", -1.5)
            k = norm(value)
            if k in seen and not seen[k].refused and seen[k].score >= c.score:
                continue
            if k in seen:
                cands.remove(seen[k])
            seen[k] = c
            cands.append(c)
    for key, weight in _DECLARED_TITLES:
        for v in m.get(key)[:1]:
            c = Scored(strip_site(ctx, v), key)
            c.add(f"declared as {key}", weight)
            cands.append(c)
    if m.title_tag:
        c = Scored(strip_site(ctx, m.title_tag), "<title>")
        c.add("the <title>, less the site's name", 1.8)
        cands.append(c)
    declared = {"<title>", *(k for k, _ in _DECLARED_TITLES)}
    for c in cands:
        if (
            c.source in declared
            and isinstance(c.value, str)
            and any(p in norm(c.value) for p in parts_of)
        ):
            c.add("shown in part as the page's heading", 1.5)
    choice = vote("title", cands, minimum=1.0, rule="the headline the page shows and declares")
    if choice.chosen is not None:
        for c in cands:
            if c.value == choice.value and c.source == choice.chosen.source:
                ctx.headline = where.get(id(c))
                break
    return choice
