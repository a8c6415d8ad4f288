"""The HTML path's author: names, not URLs, desks, staff or the site's name; a name the page
declares but never shows is not a byline (see the package docstring)."""

from __future__ import annotations

import re
from typing import Any

from briefing.sources.extract.byline import INSTITUTION_WORDS
from briefing.sources.extract.htmlfields.shared import (
    _AUTHOR_HINT,
    _BY,
    Context,
    Zone,
    find_dates,
    in_article_scope,
    is_site,
    vote,
    zone,
)
from briefing.sources.extract.htmlpage import class_text
from briefing.sources.extract.language import PUBLISHED_WORDS, UPDATED_WORDS, Language
from briefing.sources.extract.model import FieldChoice
from briefing.sources.extract.scoring import Scored

_MID_BY = re.compile(r"(?<=\s)(?:by|par|por|von|door|di|av|af)\s+(?=\S)", re.I)
_WITH = re.compile(r"\((?:with|avec|con|mit|com|met|s)\s+(?P<names>[^)]+)\)", re.I)
_JOIN = re.compile(r"\s*(?:,|;|&|\band\b|\bet\b|\by\b|\be\b|\bund\b|\ba\b|\bi\b|\bog\b|\boch\b)\s*")
_NAME_CUT = re.compile(
    r"\s*(?:\||•|·|—|–|/|::)(?:\s+.*)?$|\s+-\s+.*$|\s+(?:on|at|le|el|em|am|il|op|dne|den)\s+\S.*$|"
    r",\s*(?:[^,]*\d.*|(?:senior|chief|staff|contributing|special|deputy|managing|executive)\b.*|"
    r"[^,]*\b(?:engineer|editor|reporter|writer|correspondent|columnist|analyst|director|"
    r"manager|professor|fellow|contributor|producer|developer)\b.*)$",
    re.I,
)
_NAME_TAIL = re.compile(r"\s+(?:on|at|le|el|em|am|il|op|dne|den|the)\s+\S.*$", re.I)
_NOT_NAME = re.compile(
    rf"(?:{PUBLISHED_WORDS}|{UPDATED_WORDS}|comments?|share|follow|read|min|minutes|views|"
    r"authoring|authors?|contributors?|posts?|subscribe|sign|email|print|home|menu)",
    re.I,
)
_PARTICLES = frozenset(
    [
        "de",
        "da",
        "del",
        "della",
        "di",
        "van",
        "von",
        "der",
        "den",
        "la",
        "le",
        "al",
        "el",
        "bin",
        "ibn",
        "du",
        "dos",
        "das",
    ]
)


def clean_names(
    text: str, *, explicit: bool = False, inverted: bool = False, lang: Language | None = None
) -> list[str] | None:
    """'By Jane Doe and John Roe, Senior Writer' -> ['Jane Doe', 'John Roe']; None when the
    text is not a list of names. ``inverted``: 'Doe, Jane' as library catalogues write it.
    With ``lang``, dates and weekday names in the byline are cut first."""
    text = " ".join(text.split())
    if lang is not None:
        for f in reversed(find_dates(text, lang)):
            text = f"{text[: f.start]} | {text[f.end :]}"
        text = " ".join(w for w in text.split() if w.lower().strip(",.") not in lang.weekdays)
    extra: list[str] = []
    if m := _WITH.search(text):
        extra = [p for p in _JOIN.split(m.group("names")) if p.strip()]
        text = (text[: m.start()] + text[m.end() :]).strip()
    text = re.sub(r"\([^)]*\)", " ", text).strip()  # "(http://...)", "(bkuhn)"
    had_by = bool(_BY.match(text))
    text = _BY.sub("", text)
    text = re.sub(r"(?<!\w)@(\w{3,30})", r"\1", text)
    text = _NAME_TAIL.sub("", text)
    text = _NAME_CUT.sub("", text).strip(" ,;:|.-–—")
    if inverted and text.count(",") == 1:
        last, first = (p.strip() for p in text.split(","))
        if last and first and len(first.split()) <= 3 and len(last.split()) <= 3:
            text = f"{first} {last}"
    people = [p.strip(" .,") for p in _JOIN.split(text) if p.strip(" .,")] + extra
    if not people or len(people) > 8:
        return None
    out: list[str] = []
    for person in people:
        person = _NAME_CUT.sub("", person).strip(" ,;:|.")
        tokens = person.split()
        if not 1 <= len(tokens) <= 5 or any(re.search(r"\d|https?:|www\.", t) for t in tokens):
            return None
        if len(tokens) == 1 and not (explicit or had_by) and not re.fullmatch(r"\w{3,30}", person):
            return None
        if len(tokens) > 1 and not all(
            t[0].isupper() or t.lower() in _PARTICLES or not t[0].isalpha() for t in tokens
        ):
            return None
        lowered = [t.lower().strip(".,") for t in tokens]
        if any(_NOT_NAME.fullmatch(t) for t in lowered):
            return None
        if lang is not None and sum(t in lang.stopwords for t in lowered) * 2 > len(tokens):
            return None
        if person.isupper() and len(person) > 3:
            person = " ".join(w.capitalize() for w in tokens)
        if person not in out:
            out.append(person)
    return out


def _author_candidate(ctx: Context, names: list[str] | None, source: str, why: str,
                      weight: float, *, declared: bool, person: bool = False) -> Scored:  # fmt: skip
    """``declared``: from metadata, so it must be shown on the page too; ``person``: marked
    as a person (JSON-LD Person, rel=author), so it may be the site's name (a personal site)."""
    c = Scored(" and ".join(names) if names else None, source)
    c.add(why, weight)
    if not names:
        c.refused = "not a person's name"
        return c
    joined = " and ".join(names)
    if INSTITUTION_WORDS.search(joined):
        c.refused = "names a desk, staff or agency, not a person"
    elif not person and any(is_site(ctx, n) for n in names):
        c.refused = "the site's own name, not a byline"
    elif len(joined) > 150:
        c.refused = "too long for a byline"
    elif declared and not all(ctx.index.shows(n) for n in names):
        shown = [n for n in names if ctx.index.shows(n)]
        if not shown:
            c.refused = "declared but never shown on the page"
        else:
            c.value = " and ".join(shown)
            c.add("some names are not shown on the page", -0.5)
    return c


def choose_author(ctx: Context) -> FieldChoice:
    m, ix = ctx.meta, ctx.index
    cands: list[Scored] = []
    people = [p for p in m.ld_authors if p.kind != "organization"]
    if people:
        c = _author_candidate(ctx, _flatten(clean_names(p.name, explicit=True) for p in people),
                              "ld:author", "the article's JSON-LD author", 3.0, declared=True,
                              person=all(p.kind == "person" for p in people))  # fmt: skip
        cands.append(c)
    elif m.ld_authors:
        c = Scored(" and ".join(p.name for p in m.ld_authors), "ld:author")
        c.refused = "the JSON-LD author is an organization, not a person"
        cands.append(c)
    for key, weight in (("author", 2.5), ("article:author", 2.0), ("og:article:author", 2.0),
                        ("dc.creator", 2.0), ("dcterms.creator", 2.0), ("citation_author", 2.0),
                        ("parsely-author", 2.0), ("sailthru.author", 2.0), ("byl", 2.0),
                        ("byline", 2.0), ("article.author", 2.0)):  # fmt: skip
        values = m.get(key)
        if values:
            inverted = key in {"dc.creator", "dcterms.creator", "citation_author"}
            names = _flatten(clean_names(v, explicit=True, inverted=inverted) for v in values)
            cands.append(_author_candidate(ctx, names, f"meta:{key}", f"meta {key}", weight,
                                           declared=True))  # fmt: skip
    marked: list[tuple[Any, str, bool]] = []
    for el in ix.elements:
        if not isinstance(el.tag, str):
            continue
        rel = (el.get("rel") or "").lower().split()
        itemprop = (el.get("itemprop") or "").lower().split()
        if "author" in itemprop:
            marked.append((el, "itemprop=author", in_article_scope(el, ix)))
        elif "author" in rel:
            marked.append((el, "rel=author", False))
        elif _AUTHOR_HINT.search(class_text(el)):
            marked.append((el, "a byline element", False))
    done: set[Any] = set()
    in_body: list[str] = []
    for el, kind, scoped in marked:  # the outermost first; its parts only if it names no one
        if el in done or len(ix.text(el)) > 200:
            continue
        source = el
        if kind == "itemprop=author":
            inner = el.find(".//*[@itemprop='name']")
            source = inner if inner is not None and ix.text(inner) else el
        explicit = kind != "a byline element"
        names = next(
            (
                n
                for line in ix.lines(source)
                if (n := clean_names(line, explicit=explicit, lang=ctx.lang))
            ),
            None,
        )
        if names is None:
            continue
        done.update(el.iterdescendants())
        where = zone(ctx, el)
        person = scoped and bool(el.xpath("ancestor-or-self::*[contains(@itemtype, 'Person')]"))
        c = _author_candidate(ctx, names, f"<{el.tag}> {kind}", f"marked as {kind}", 2.0,
                              declared=False, person=person)  # fmt: skip
        if scoped:
            c.add("inside the article's microdata", 1.0)
        if where.name == "header":
            c.add(f"in the article's header ({where.why})", 1.5)
        elif where.name in {"sign-off", "body start", "body top"}:
            c.add(f"{where.why}", 1.0)
        elif where.why == "inside the article's text" and not c.refused:
            in_body.extend(n for n in names if n not in in_body)
            c.refused = "inside the article's text (see the bylines of its parts)"
        elif not scoped:
            c.refused = c.refused or f"not beside the article: {where.why}"
        cands.append(c)
    if in_body:
        c = _author_candidate(ctx, in_body, "<body> bylines", "the bylines inside the article", 2.5,
                              declared=False)  # fmt: skip
        cands.append(c)
    for el, where, line in _header_lines(ctx):
        if len(line) > 120:
            continue
        text = line
        mid = None if _BY.match(line) else _MID_BY.search(line)
        if mid is not None and find_dates(line[: mid.start()], ctx.lang):
            text = line[mid.start() :]  # "Posted on March 3, 2026 by Jane Doe"
        if _BY.match(text):
            names = clean_names(text, explicit=True, lang=ctx.lang)
            c = _author_candidate(ctx, names, f"<{el.tag}> 'by' line", "a 'by' line", 2.5,
                                  declared=False)  # fmt: skip
            c.add(f"in the article's {where.name} ({where.why})", 1.0)
            cands.append(c)
    d = ctx.dump.author if ctx.dump else None
    if d is not None and isinstance(d.value, str) and d.value:
        c = _author_candidate(ctx, clean_names(d.value, explicit=True), "visible text",
                              "the byline the text reader found", 1.5 * d.confidence,
                              declared=False)  # fmt: skip
        cands.append(c)
    return vote("author", cands, minimum=2.5, rule="the byline the page shows and declares")


def _flatten(groups: Any) -> list[str] | None:
    out: list[str] = []
    for g in groups:
        if g is None:
            continue
        out.extend(n for n in g if n not in out)
    return out or None


def _header_lines(ctx: Context) -> list[tuple[Any, Zone, str]]:
    """Short lines of visible text in the article's header, body start and sign-off, each
    with the element it begins in."""
    ix = ctx.index
    out: list[tuple[Any, Zone, str]] = []
    if ix.body_start is None:
        return out
    lo = ix.start[ix.body_start] - 5000
    hi = ix.end[ix.body_end] + 1000
    for at, line in ix.line_spans():
        if not lo <= at <= hi or len(line) > 200:
            continue
        el = ix.owner(at)
        if el is None:
            continue
        where = zone(ctx, el)
        if where.name is not None:
            out.append((el, where, line))
    return out
