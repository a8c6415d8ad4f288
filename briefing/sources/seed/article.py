"""The article the line heuristics read: its fields from the header (``_Meta``) and the
front matter, its publisher among the site's names."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from briefing.errors import SeedError
from briefing.models import Article
from briefing.normalize import canonical_url, sentences, stable_id
from briefing.sources import page
from briefing.sources.dates import parse_front_matter_date
from briefing.sources.seed.lines import _Meta


def _article(meta: _Meta, front: dict[str, Any], body: list[str], source: str) -> Article:
    notes = list(meta.notes)
    when = meta.date or meta.updated
    published: date | datetime | None = when.resolve(meta.copyright_year) if when else None
    if when is not None and published is None:
        notes.append(f"date {when.text!r} has no year and the page gives none: left empty")
    if "published" in front:
        published = parse_front_matter_date(front["published"], source)
    dek = front.get("dek", meta.dek)
    summary = str(front.get("summary") or dek or (_first_sentences(body[0]) if body else ""))
    disclosure = front.get("ai_disclosure", meta.ai_disclosure)
    ai_generated = bool(front.get("ai_generated", disclosure is not None))
    url = None
    if front.get("url"):
        url = canonical_url(str(front["url"]))
        if url is None:
            raise SeedError(
                source,
                f"front matter url {front['url']!r} is not an http(s) URL",
                'write it as url = "https://..."',
            )
    labels = [str(x) for x in front.get("labels", meta.labels)]
    title = str(meta.title)
    text = "\n\n".join(body)
    return Article(
        id=stable_id(guid=None if url else source, url=url, scope="seed", content=title + text),
        source_kind="seed",
        source=source,
        title=title,
        url=url,
        publisher=str(front.get("publisher") or _publisher(meta) or "") or None,
        author=str(front.get("author") or meta.author or "") or None,
        published=published,
        updated=meta.updated.resolve_datetime(meta.copyright_year)
        if meta.updated and meta.date
        else None,
        dek=str(dek) if dek else None,
        summary=summary,
        body=text,
        section=labels[0] if labels else None,
        labels=tuple(labels),
        reading_time_min=meta.reading_time,
        ai_generated=ai_generated,
        ai_disclosure=str(disclosure) if ai_generated and disclosure else None,
        notes=tuple(notes),
    )


def _publisher(meta: _Meta) -> str | None:
    named = [
        s for s in meta.site_names if s.split() and s.split()[-1].lower() not in page.NAV_WORDS
    ]
    if named:
        return named[-1]
    holder = meta.copyright_holder
    if holder and meta.mastheads:
        if holder == meta.author:
            return meta.mastheads[0]  # a newsletter whose copyright is in its author's name
        for masthead in meta.mastheads:
            common = _common_prefix(masthead, holder)
            if common:  # "KOREA WATCH" on top, "© 2026 by Korea Watch" below
                return common if len(common.split()) >= 2 else masthead
    return holder or (meta.site_names[-1] if meta.site_names else None)


def _common_prefix(a: str, b: str) -> str | None:
    """'THE KANTO SHIMBUN ENGLISH EDITION' + 'The Kanto Shimbun Company' -> 'The Kanto Shimbun'."""
    out = []
    for x, y in zip(a.split(), b.split(), strict=False):
        if x.lower() != y.lower():
            break
        out.append(y)
    significant = [w for w in out if w.lower() not in {"the", "a", "an"}]
    return " ".join(out) if significant else None


def _first_sentences(text: str, limit: int = 60) -> str:
    out: list[str] = []
    for s in sentences(text):
        if out and page.word_count(" ".join([*out, s])) > limit:
            break
        out.append(s)
    return " ".join(out) or text
