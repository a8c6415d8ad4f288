"""The HTML path's publisher: the article's JSON-LD publisher, then ``og:site_name``,
others confirming (see the package docstring)."""

from __future__ import annotations

from briefing.sources.extract.htmlfields.shared import (
    _BY,
    _SEP,
    URLISH_NAME,
    Context,
    fold,
    is_site,
    norm,
    vote,
)
from briefing.sources.extract.htmlfields.title import split_title
from briefing.sources.extract.model import FieldChoice
from briefing.sources.extract.scoring import Scored


def clean_site(value: str) -> str | None:
    """'Aktuálně.cz - Víte, co se právě děje' keeps both; 'Site | BY: NAME' loses the byline."""
    if URLISH_NAME.match(value):
        return None
    parts = [p.strip() for p in _SEP.split(value)[::2] if p.strip()]
    kept = [p for p in parts if not _BY.match(p)]
    if len(kept) == len(parts):
        return value
    return " | ".join(kept) if kept else None


def choose_publisher(ctx: Context) -> FieldChoice:
    m = ctx.meta
    cands: list[Scored] = []
    title_parts = split_title(m.title_tag)[0] if m.title_tag else []
    for key, weight in (("ld:publisher", 3.5), ("og:site_name", 3.0), ("ld:isPartOf", 2.0),
                        ("ld:website", 1.5), ("application-name", 0.5),
                        ("apple-mobile-web-app-title", 0.5)):  # fmt: skip
        for v in m.get(key)[:1]:
            site = clean_site(v)
            if site is None:
                c = Scored(v, key)
                c.refused = "a URL, not a name"
                cands.append(c)
                continue
            parts = [p.strip() for p in site.split(" | ")]
            if len(parts) == 1:
                parts = [p.strip() for p in _SEP.split(site)[::2] if p.strip()]
            if len(parts) > 1 and not (m.title_tag and norm(v) in norm(m.title_tag)):
                # "Name - tagline": the part the <title> or the domain also names
                named = [p for p in parts if any(fold(p) == fold(t) for t in title_parts)
                         or any(fold(p) == fold(h) for h in ctx.hosts)]  # fmt: skip
                site = named[0] if named else site
            c = Scored(site, key)
            c.add(f"declared as {key}", weight)
            cands.append(c)
    if len(title_parts) > 1:
        for p in (title_parts[-1], title_parts[0]):
            if is_site(ctx, p) and len(p.split()) <= 5:
                c = Scored(p, "<title>")
                c.add("the site part of the <title>", 0.5)
                cands.append(c)
                break
    for raw in m.get("copyright")[:1]:
        for c in cands:
            if (
                isinstance(c.value, str)
                and norm(c.value) in norm(raw)
                and c.source != "ld:publisher"
            ):
                c.add("the copyright holder too", 0.3)
    return vote("publisher", cands, minimum=2.0, rule="the site name the page declares")
