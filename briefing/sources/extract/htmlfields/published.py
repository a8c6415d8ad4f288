"""The HTML path's published date: the article's own metadata or its header, byline or
sign-off, never the modified date (see the package docstring)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from briefing.sources.extract.htmlfields.shared import (
    _AUTHOR_HINT,
    Context,
    byline_like,
    date_family,
    day_of,
    find_dates,
    in_article_scope,
    key_of,
    parse_when,
    vote,
    zone,
)
from briefing.sources.extract.htmlfields.title import split_title
from briefing.sources.extract.htmlpage import class_text
from briefing.sources.extract.model import FieldChoice
from briefing.sources.extract.scoring import Scored

_DATE_HINT = re.compile(r"date|time|publish|posted|pubdate|dateline|timestamp|byline|meta|info")


_URL_DATE = re.compile(r"/((?:19|20)\d{2})/([01]?\d)/([0-3]?\d)(?:/|$|[-_])")
_PUBLISHED_KEYS = [
    ("article:published_time", 3.0),
    ("og:article:published_time", 3.0),
    ("article:published", 2.5),
    ("og:published_time", 2.5),
    ("published_time", 2.5),
    ("article.published", 2.5),
    ("datepublished", 2.5),
    ("dc.date.issued", 2.0),
    ("dcterms.issued", 2.0),
    ("citation_publication_date", 2.0),
    ("parsely-pub-date", 2.0),
    ("sailthru.date", 2.0),
    ("pubdate", 2.0),
    ("publishdate", 2.0),
    ("publish_date", 2.0),
    ("publish-date", 2.0),
    ("publication_date", 2.0),
    ("dc.date.created", 1.5),
    ("dcterms.created", 1.5),
    ("citation_date", 1.5),
    ("date", 1.5),
    ("dc.date", 1.5),
    ("dcterms.date", 1.5),
]


_SOFT = ("in a block with role", "in an <aside>", "in the site's header", "above the headline",
         "well above the body")  # fmt: skip


def choose_published(ctx: Context) -> FieldChoice:
    m, _ix, lang = ctx.meta, ctx.index, ctx.lang
    cands: list[Scored] = []
    for key, weight in (("ld:datePublished", 3.0), ("ld:dateCreated", 2.0)):
        for raw in m.get(key)[:1]:
            when = parse_when(raw, lang)
            if when is not None:
                c = Scored(when, key)
                c.add(f"the article's JSON-LD {key[3:]}", weight)
                cands.append(c)
    for key, weight in _PUBLISHED_KEYS:
        for raw in m.get(key)[:1]:
            when = parse_when(raw, lang)
            if when is not None:
                c = Scored(when, f"meta:{key}")
                c.add(f"declared as {key}", weight)
                cands.append(c)
    cands.extend(_visible_dates(ctx))
    if m.title_tag:
        parts, _ = split_title(m.title_tag)
        for p in parts[1:]:
            found = find_dates(p, lang)
            if found and len(found[0].text) >= len(p) - 2:
                c = Scored(found[0].value(), "<title>")
                c.add("a date as a part of the <title>", 2.0)
                cands.append(c)
    for u in dict.fromkeys(x for x in (m.canonical, m.first("og:url"), ctx.url) if x):
        if mt := _URL_DATE.search(urlsplit(u).path):
            try:
                url_day = date(int(mt.group(1)), int(mt.group(2)), int(mt.group(3)))
            except ValueError:
                continue
            c = Scored(url_day, "URL")
            c.add("the date in the article's URL", 1.5)
            cands.append(c)
            break
    for c in cands:
        day = day_of(c.value)
        # a day of slack: a page east of here may already be on tomorrow's date
        if day is not None and day > ctx.today + timedelta(days=1):
            c.refused = "in the future"
    _utc_yields(cands)
    guess = parse_when(ctx.declared_date, lang) if ctx.declared_date else None
    for c in cands:  # htmldate (limited to the markup) confirms; alone it is never taken
        if guess is not None and not c.refused and day_of(c.value) == day_of(guess):
            c.add("htmldate's date agrees", 0.5)
    return vote("published", cands, minimum=2.0, family=date_family,
                rule="the date the article's own metadata or header gives")  # fmt: skip


def _utc_yields(cands: list[Scored]) -> None:
    """A timestamp in UTC a day off the date the page shows in its header may be that same
    moment in the page's zone (23:00Z on the 12th is the 13th in the UK): then the page's
    own day wins. Only when some real zone (UTC-12 to UTC+14) makes them one moment; when
    another timestamp on the page gives the zone, that zone decides."""
    zones = {
        c.value.utcoffset()
        for c in cands
        if isinstance(c.value, datetime) and c.value.utcoffset() not in (None, timedelta(0))
    }
    shown = [c for c in cands if c.source.startswith("<") and not c.refused]
    for c in cands:
        if c.refused or not isinstance(c.value, datetime) or c.value.utcoffset() != timedelta(0):
            continue
        moment = c.value
        locals_ = {moment.astimezone(timezone(z)) for z in zones if z is not None}
        if zones and len({t.date() for t in locals_}) == 1:
            local = next(iter(locals_))  # the page's other timestamps give its zone
            if local.date() != moment.date():
                c.value = local
                c.add("in the zone of the page's other timestamps", 0.0)
            continue
        if any(day_of(s.value) == moment.date() for s in shown):
            continue  # the page shows the timestamp's own day too: nothing to correct
        hour = moment.hour + moment.minute / 60
        for s in shown:
            day = day_of(s.value)
            if day is None:
                continue
            ahead = (day - moment.date()).days == 1 and hour >= 10  # UTC+14 at most
            behind = (day - moment.date()).days == -1 and hour < 12  # UTC-12 at most
            if ahead or behind:
                c.refused = f"a UTC timestamp; the page shows the local day {day.isoformat()}"
                s.add("the page's local day of a declared UTC timestamp", 1.0)
                break


def _visible_dates(ctx: Context) -> list[Scored]:
    """Dates the page shows (or marks up) around the article, each judged by where it is."""
    ix, lang = ctx.index, ctx.lang
    if ix.body_start is None:
        return []
    found_at: list[tuple[Any, object, Scored]] = []
    for el in ix.elements:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if not tag:
            continue
        attr = el.get("datetime") or (el.get("title") if tag == "abbr" else None)
        text = ix.text(el)
        shown: list[tuple[date | datetime | None, str, bool, bool, bool]] = []
        if tag in {"time", "abbr"} and attr:
            declared = parse_when(attr, lang)
            seen = find_dates(text, lang) if text and len(text) <= 160 else []
            # the day the element shows is the page's local day; its attribute may be UTC
            declared_day = day_of(declared)
            if seen and (declared_day is None or abs((seen[0].day - declared_day).days) <= 1):
                f = seen[0]
                shown.append((f.value(), f"<{tag}> {f.text!r}", f.published_word,
                              f.updated_word, False))  # fmt: skip
            else:
                shown.append((declared, f"<{tag} {attr}>", False, False, False))
        elif text and re.search(r"\d", text[:160]):
            long = len(text) > 160  # a paragraph: only a dateline opening it is read
            for f in find_dates(text[:160], lang):
                opens = f.start <= 1 and bool(re.match(r"\s*(?:--|—|–|-|:)", text[f.end :]))
                if opens or not long:
                    shown.append((f.value(), f"<{tag}> {f.text!r}", f.published_word,
                                  f.updated_word, opens))  # fmt: skip
        if not shown:
            continue
        itemprop = (el.get("itemprop") or "").lower()
        where = zone(ctx, el)
        marks = class_text(el)
        for value, label, published_word, updated_word, opens in shown:
            if value is None:
                continue
            c = Scored(value, label)
            scoped = itemprop in {"datepublished", "datecreated"} and in_article_scope(el, ix)
            if (
                itemprop == "datemodified"
                or "modified" in marks
                or (updated_word and not published_word)
            ):
                c.refused = "an update date, not the publication date"
            elif scoped:
                c.add("the article's microdata datePublished", 3.0)
            elif where.name == "header":
                c.add(f"in the article's header ({where.why})", 3.5)
            elif where.name == "sign-off":
                c.add(f"in the sign-off {where.why}", 2.0)
            elif opens and where.name in {"body start", "body top", "header"}:
                c.add("a dateline opening a paragraph of the article", 2.5)
            elif where.name == "body top" and byline_like(text, lang):
                c.add("a byline or date line at the top of the body", 2.5)
            elif where.why == "inside the article's text" and _AUTHOR_HINT.search(marks):
                c.add("in a byline inside the article's text", 2.0)
            elif where.name == "body start":
                c.refused = "inside the article's text"
            elif published_word and where.why.startswith(_SOFT):
                c.add(f"labelled as the publication date ({where.why})", 2.0)
            else:
                c.refused = f"not the article's: {where.why}"
            if not c.refused:
                if _DATE_HINT.search(marks) or tag in {"time", "abbr"}:
                    c.add("marked as a date or byline", 0.5)
                if published_word or "publish" in marks or itemprop == "datepublished":
                    c.add("marked as the publication date", 1.0)
            found_at.append((el, key_of(value), c))
    _dated_links(ctx, found_at)
    # an element and its wrapper showing the same date are one candidate, not two sources
    keep: list[Scored] = []
    for el, k, c in found_at:
        if not c.refused and any(
            v == k and e is not el and not x.refused and el in set(e.iterancestors())
            for e, v, x in found_at
        ):
            continue
        keep.append(c)
    live: set[object] = set()
    for c in keep:
        if not c.refused:
            k = key_of(c.value)
            if k in live:
                c.refused = "the same date shown again"
            live.add(k)
    return keep


def _dated_links(ctx: Context, found_at: list[tuple[Any, object, Scored]]) -> None:
    """Dates of a list are the listed pages' dates (an archive, teasers, "more stories"):
    items of one list (``li``, ``tr``, ``article`` cards) or links side by side in one
    part of the page that show two or more different dates are all refused, and so is
    the list around them. One dated link alone (a permalink, a day's archive) stays."""
    ix = ctx.index
    groups: dict[object, list[tuple[Any, Scored]]] = {}
    for el, _, c in found_at:
        if c.refused:
            continue
        item = next(
            (a for a in [el, *el.iterancestors()] if a.tag in {"li", "tr", "article"}), None
        )
        if item is not None and item.getparent() is not None and not ix.contains_body(item):
            groups.setdefault(item.getparent(), []).append((el, c))
            continue
        linked = el.tag == "a" or next(el.iterancestors("a"), None) is not None
        if linked:
            groups.setdefault(("links", zone(ctx, el).name), []).append((el, c))
    refused: list[tuple[Any, object, str]] = []
    for members in groups.values():
        if len({key_of(c.value) for _, c in members}) >= 2:
            for el, c in members:
                c.refused = "one of several dated items or links (an archive or teaser list)"
                refused.append((el, key_of(c.value), c.refused))
    for el, k, c in found_at:  # the list or item around such a date shows it too
        if not c.refused:
            for inner, ik, why in refused:
                if ik == k and el in set(inner.iterancestors()):
                    c.refused = why
                    break
