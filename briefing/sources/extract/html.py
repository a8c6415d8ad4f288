"""The HTML path: a saved page or fetched bytes in, an ``Extraction`` out.

The body comes from trafilatura. Each field is chosen among the page's own
declarations (JSON-LD of an article type, OpenGraph, ``article:published_time``,
``meta name=author``, the ``<h1>``, the ``<title>``), what the text-dump extractor
reads in the page's visible text (its byline block), and trafilatura's metadata; the
candidates that agree gain weight. A date must come from the article's own metadata
or its visible header: trafilatura's date guess is never taken alone, and a date in
the future is refused. A date without a time stays that calendar date, and one with
a time keeps the page's zone.
"""

from __future__ import annotations

import codecs
import re
from datetime import date, datetime
from email.utils import parsedate_to_datetime

from lxml import etree
from lxml import html as lxml_html

from briefing.clock import utcnow
from briefing.errors import SeedError
from briefing.normalize import canonical_url
from briefing.sources.extract import htmlmeta
from briefing.sources.extract.byline import INSTITUTION_WORDS
from briefing.sources.extract.model import Extraction, FieldChoice, FieldName
from briefing.sources.extract.scoring import Scored, choose
from briefing.sources.extract.text import MIN_BODY_WORDS, extract_text

MAX_HTML_BYTES = 10_000_000
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)
_SIGNATURES = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"GIF8": "a GIF image",
    b"\xff\xd8\xff": "a JPEG image",
    b"PK\x03\x04": "a ZIP archive (or an Office document)",
    b"RIFF": "a RIFF file (WebP image, audio or video)",
}
_TITLE_SPLIT = re.compile(r"\s+(?:\||–|—|-|::|»|·|•)\s+")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "«": '"', "»": '"'})


def decode_html(data: bytes, name: str) -> tuple[str, str]:
    """The page's text and encoding: BOM, then ``<meta charset>``, then UTF-8, then detection."""
    if len(data) > MAX_HTML_BYTES:
        raise SeedError(name, f"page is {len(data):,} bytes, over the {MAX_HTML_BYTES:,}-byte limit",
                        "save only the article's page, or paste its text as a .txt seed")  # fmt: skip
    if not data.strip():
        raise SeedError(name, "is empty", "save the page again, or delete the file")
    for magic, what in _SIGNATURES.items():
        if data.startswith(magic):
            raise SeedError(
                name, f"is {what}, not an HTML page", "save the article as HTML or text"
            )
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace"), "utf_8"
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return data.decode("utf-16", "replace"), "utf_16"
    if b"\x00" in data[:4096]:
        raise SeedError(
            name, "is a binary file, not an HTML page", "save the article as HTML or text"
        )
    m = _META_CHARSET.search(data[:8192])
    if m:
        label = m.group(1).decode("ascii", "replace").lower()
        try:
            codec = codecs.lookup(label).name
        except LookupError:
            codec = None
        if codec and codec not in {"utf-8", "utf_8"}:
            if codec in {"latin-1", "iso8859-1", "ascii"}:
                codec = "cp1252"  # what browsers do with these labels (WHATWG Encoding)
            return data.decode(codec, "replace"), codec
    try:
        return data.decode("utf-8"), "utf_8"
    except UnicodeDecodeError:
        from briefing.normalize import decode_text

        decoded = decode_text(data)
        if decoded is None:
            raise SeedError(name, "is not text in any encoding we can detect",
                            "save the page as UTF-8 HTML") from None  # fmt: skip
        return decoded


def extract_html(
    data: bytes, *, url: str | None = None, name: str, today: date | None = None
) -> Extraction:
    """Read one HTML page. Raises SeedError (naming ``name``) for empty, binary, oversize
    or undecodable input; a page with no article comes back with ``no_article`` set."""
    text, encoding = decode_html(data, name)
    try:
        doc = lxml_html.document_fromstring(text.encode("utf-8"), parser=_parser())
    except (etree.ParserError, ValueError) as exc:
        raise SeedError(name, f"is not readable HTML: {exc}", "save the page again") from exc
    meta = htmlmeta.read_meta(doc)
    declared = _declared_date(text, url)
    dump = extract_text(htmlmeta.visible_text(doc), name=name, today=today)
    import trafilatura

    tdoc = trafilatura.bare_extraction(text, url=url, with_metadata=True, include_comments=False,
                                       include_tables=True, as_dict=True)  # fmt: skip
    traf: dict[str, object] = tdoc if isinstance(tdoc, dict) else {}
    body = str(traf.get("text") or "") or dump.body
    today = today or utcnow().date()
    title = _title(meta, dump, traf)
    first, _, rest = body.partition("\n")
    if title.text and _norm(first) == _norm(title.text):
        body = rest.lstrip("\n")  # the headline is the title, not the story's first line
    author = _author(meta, dump, traf)
    published = _published(meta, dump, traf, today, declared)
    publisher = _publisher(meta, dump, traf)
    page_url = (
        canonical_url(meta.canonical or meta.first("og:url") or url or "")
        if (meta.canonical or meta.first("og:url") or url)
        else None
    )
    words = len(body.split())
    reason = None
    if words < MIN_BODY_WORDS:
        reason = f"the body has {words} words (under {MIN_BODY_WORDS}): no article text"
    elif title.value is None:
        reason = "the page names no headline"
    notes = (f"decoded as {encoding} (not UTF-8)",) if encoding not in {"utf_8", "ascii"} else ()
    return Extraction(
        name=name,
        kind="html",
        title=title,
        author=author,
        published=published,
        publisher=publisher,
        body=body if reason is None else "",
        no_article=reason,
        url=page_url,
        lang=meta.lang or dump.lang,
        dek=None,
        dropped=dump.dropped,
        notes=notes,
    )


def _parser() -> lxml_html.HTMLParser:
    return lxml_html.HTMLParser(encoding="utf-8", remove_comments=True)


def _norm(value: str) -> str:
    return " ".join(value.translate(_QUOTES).lower().split())


def _vote(name: FieldName, cands: list[Scored], *, minimum: float, rule: str) -> FieldChoice:
    """Candidates that agree with others gain weight (+1 for each other source, up to 3)."""
    for c in cands:
        if c.refused:
            continue
        key = _key(c.value)
        others = {
            o.source.split(":")[0]
            for o in cands
            if o is not c and not o.refused and _key(o.value) == key
        }
        others.discard(c.source.split(":")[0])
        if others:
            c.add(f"agrees with {', '.join(sorted(others))}", min(3.0, 1.0 * len(others)))
    return choose(name, cands, minimum=minimum, rule=rule)


def _key(value: object) -> object:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        if " and " in value or "," in value:
            return frozenset(p for p in re.split(r"\s*(?:,|;|\band\b)\s*", _norm(value)) if p)
        return _norm(value)
    return value


def _title(meta: htmlmeta.PageMeta, dump: Extraction, traf: dict[str, object]) -> FieldChoice:
    cands: list[Scored] = []
    for h in meta.h1[:3]:
        c = Scored(h, "<h1>")
        c.add("the page's <h1>", 3.0 if len(meta.h1) == 1 else 2.0)
        cands.append(c)
    for key, weight in (("ld:headline", 2.5), ("og:title", 2.0), ("twitter:title", 1.0)):
        for v in meta.found.get(key, [])[:1]:
            c = Scored(v, key)
            c.add(f"declared as {key}", weight)
            cands.append(c)
    if meta.title_tag:
        parts = _TITLE_SPLIT.split(meta.title_tag)
        c = Scored(max(parts, key=len) if len(parts) > 1 else meta.title_tag, "<title>")
        c.add("the <title>, less the site's name", 1.5)
        cands.append(c)
    if dump.title.value:
        c = Scored(dump.title.value, "visible text")
        c.add("the headline of the visible text", 2.0 * dump.title.confidence)
        cands.append(c)
    if isinstance(traf.get("title"), str) and traf["title"]:
        c = Scored(str(traf["title"]), "trafilatura")
        c.add("trafilatura's title", 1.0)
        cands.append(c)
    return _vote("title", cands, minimum=1.0, rule="the headline the page's sources agree on")


def _people(value: str) -> str:
    parts = [p.strip() for p in re.split(r"\s*(?:;|,|\band\b|&)\s*", value) if p.strip()]
    return " and ".join(dict.fromkeys(parts))


def _author(meta: htmlmeta.PageMeta, dump: Extraction, traf: dict[str, object]) -> FieldChoice:
    cands: list[Scored] = []
    ld = meta.found.get("ld:author", [])
    if ld:
        c = Scored(_people(" and ".join(ld)), "ld:author")
        c.add("the article's JSON-LD author", 2.5)
        cands.append(c)
    for key, weight in (("author", 2.5), ("article:author", 2.0), ("dc.creator", 2.0),
                        ("citation_author", 2.0), ("byl", 2.0)):  # fmt: skip
        values = meta.found.get(key, [])
        if values:
            v = re.sub(r"(?i)^by\s+", "", " and ".join(values))
            c = Scored(_people(v), f"meta:{key}")
            c.add(f"meta {key}", weight)
            cands.append(c)
    if dump.author.value:
        c = Scored(dump.author.value, "visible text")
        c.add("the byline of the visible text", 3.0 * dump.author.confidence)
        cands.append(c)
    if isinstance(traf.get("author"), str) and traf["author"]:
        c = Scored(_people(str(traf["author"])), "trafilatura")
        c.add("trafilatura's author", 1.0)
        cands.append(c)
    for c in cands:
        if isinstance(c.value, str) and INSTITUTION_WORDS.search(c.value):
            c.refused = "names a desk, staff or agency, not a person"
        elif isinstance(c.value, str) and (not c.value.strip() or len(c.value) > 120):
            c.refused = "not a name"
    return _vote("author", cands, minimum=2.0, rule="the byline the page's sources agree on")


def _parse_when(value: str) -> date | datetime | None:
    value = value.strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            m = re.match(r"(\d{4}-\d{2}-\d{2})", value)
            return date.fromisoformat(m.group(1)) if m else None
    if parsed.tzinfo is None or (parsed.hour, parsed.minute) == (0, 0):
        return parsed.date()  # no zone, or midnight: the page means a calendar date
    return parsed  # keeps the page's own zone: no shift to UTC


def _declared_date(text: str, url: str | None) -> str | None:
    """htmldate limited to the page's markup (meta tags, <time>, itemprop, the URL): its
    extensive search, which reads any date in the text, is off."""
    from htmldate import find_date

    try:
        found = find_date(
            text, url=url, extensive_search=False, original_date=True, outputformat="%Y-%m-%d"
        )
    except (ValueError, TypeError):
        return None
    return found if isinstance(found, str) else None


def _published(
    meta: htmlmeta.PageMeta,
    dump: Extraction,
    traf: dict[str, object],
    today: date,
    declared: str | None,
) -> FieldChoice:
    cands: list[Scored] = []
    for raw in meta.found.get("itemprop:datePublished", [])[:1]:
        when = _parse_when(raw)
        if when is not None:
            c = Scored(when, "itemprop")
            c.add("an element marked itemprop=datePublished", 2.5)
            cands.append(c)
    sources = [("ld:datePublished", 3.0), ("article:published_time", 3.0), ("datepublished", 2.5),
               ("dc.date.issued", 2.0), ("citation_publication_date", 2.0), ("pubdate", 2.0),
               ("publishdate", 2.0), ("parsely-pub-date", 2.0), ("sailthru.date", 1.5),
               ("date", 1.5), ("dc.date", 1.5), ("dcterms.created", 1.5)]  # fmt: skip
    for key, weight in sources:
        for raw in meta.found.get(key, [])[:1]:
            when = _parse_when(raw)
            if when is not None:
                c = Scored(when, key)
                c.add(f"declared as {key}", weight)
                cands.append(c)
    if dump.published.value is not None and dump.published.confidence >= 0.5:
        c = Scored(dump.published.value, "visible text")
        c.add("the date in the visible byline block", 3.5 * dump.published.confidence)
        cands.append(c)
    for c in cands:
        day = c.value.date() if isinstance(c.value, datetime) else c.value
        if isinstance(day, date) and day > today:
            c.refused = "in the future"
    # trafilatura's guess only confirms: alone, it is a guess (htmldate reads any date on the page)
    for other, label in ((traf.get("date"), "trafilatura's"), (declared, "htmldate's")):
        guess = _parse_when(str(other)) if other else None
        for c in cands:
            if guess is not None and _key(c.value) == _key(guess):
                c.add(f"{label} date agrees", 0.5)
    return _vote("published", cands, minimum=1.5,
                 rule="the date the article's own metadata or visible header gives")  # fmt: skip


def _publisher(meta: htmlmeta.PageMeta, dump: Extraction, traf: dict[str, object]) -> FieldChoice:
    cands: list[Scored] = []
    for key, weight in (("og:site_name", 3.0), ("ld:publisher", 2.5), ("application-name", 1.5)):
        for v in meta.found.get(key, [])[:1]:
            c = Scored(v, key)
            c.add(f"declared as {key}", weight)
            cands.append(c)
    if meta.title_tag:
        parts = _TITLE_SPLIT.split(meta.title_tag)
        if len(parts) > 1 and len(parts[-1].split()) <= 5:
            c = Scored(parts[-1], "<title>")
            c.add("the site part of the <title>", 1.5)
            cands.append(c)
    if dump.publisher.value:
        c = Scored(dump.publisher.value, "visible text")
        c.add("the masthead of the visible text", 1.5 * dump.publisher.confidence)
        cands.append(c)
    if isinstance(traf.get("sitename"), str) and traf["sitename"]:
        c = Scored(str(traf["sitename"]), "trafilatura")
        c.add("trafilatura's site name", 1.0)
        cands.append(c)
    return _vote("publisher", cands, minimum=1.5, rule="the site name the page's sources agree on")
