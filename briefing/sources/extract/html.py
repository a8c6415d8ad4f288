"""The HTML path: a saved page or fetched bytes in, an ``Extraction`` out.

The body comes from trafilatura (its recall-leaning mode, without comments). The
fields are chosen by ``htmlfields`` among what the page declares (its article's
JSON-LD, OpenGraph and other meta tags, microdata, the ``<title>``) and what it shows
(the headline above the body, the byline and date around it), located on the page by
``htmlpage``. Bad input (empty, binary, a PDF or an image, over the size cap,
undecodable) is a ``SeedError`` naming the file; a legacy encoding is read through the
BOM or the ``<meta charset>`` (or ``http-equiv``), as browsers do.
"""

from __future__ import annotations

import codecs
import re
from datetime import date
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from briefing.clock import utcnow
from briefing.errors import SeedError
from briefing.normalize import canonical_url
from briefing.sources.extract import htmlfields, htmlmeta
from briefing.sources.extract.htmlpage import PageIndex
from briefing.sources.extract.language import LANGUAGES, Language, guess_language, language
from briefing.sources.extract.model import Extraction
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


def binary_kind(data: bytes) -> str | None:
    """What a file or an answer is when its first bytes say it is no page ("a PDF
    document", "a PNG image", ...), else None."""
    for magic, what in _SIGNATURES.items():
        if data.startswith(magic):
            return what
    return None


def decode_html(data: bytes, name: str, *, charset: str | None = None) -> tuple[str, str]:
    """The page's text and encoding: a BOM, then ``charset`` (the HTTP Content-Type's, for a
    fetched page), then the ``<meta charset>`` (a UTF-8 label is followed as browsers do,
    stray bytes replaced; a legacy label gives way when the bytes are valid UTF-8), then
    strict UTF-8, then detection."""
    if len(data) > MAX_HTML_BYTES:
        raise SeedError(name, f"page is {len(data):,} bytes, over the {MAX_HTML_BYTES:,}-byte limit",
                        "save only the article's page, or paste its text as a .txt seed")  # fmt: skip
    if not data.strip():
        raise SeedError(name, "is empty", "save the page again, or delete the file")
    what = binary_kind(data)
    if what is not None:
        raise SeedError(name, f"is {what}, not an HTML page", "save the article as HTML or text")
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace"), "utf_8"
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return data.decode("utf-16", "replace"), "utf_16"
    if b"\x00" in data[:4096]:
        raise SeedError(
            name, "is a binary file, not an HTML page", "save the article as HTML or text"
        )
    m = _META_CHARSET.search(data[:8192])
    for label in (charset, m.group(1).decode("ascii", "replace") if m else None):
        codec = encoding_name(label)
        if codec is None:
            continue  # no label, or one that names no encoding: the next one decides
        if codec in {"utf-8", "utf_8"}:
            return data.decode("utf-8", "replace"), "utf_8"  # the label wins, as in browsers
        try:  # bytes that are valid UTF-8 with non-ASCII in them are UTF-8, mislabelled
            if max(data) >= 0x80:
                return data.decode("utf-8"), "utf_8"
        except UnicodeDecodeError:
            pass
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


def encoding_name(label: str | None) -> str | None:
    """The codec an encoding label names (``windows-1252`` -> ``cp1252``), or None."""
    if not label:
        return None
    try:
        return codecs.lookup(label.strip().strip("'\"").lower()).name
    except LookupError:
        return None


def extract_html(
    data: bytes,
    *,
    url: str | None = None,
    name: str,
    today: date | None = None,
    charset: str | None = None,
) -> Extraction:
    """Read one HTML page. Raises SeedError (naming ``name``) for empty, binary, oversize
    or undecodable input; a page with no article comes back with ``no_article`` set.
    ``url``: where it was fetched from (a relative canonical link is read against it);
    ``charset``: the one its HTTP answer declared."""
    text, encoding = decode_html(data, name, charset=charset)
    try:
        doc = lxml_html.document_fromstring(text.encode("utf-8"), parser=_parser())
    except (etree.ParserError, ValueError) as exc:
        raise SeedError(name, f"is not readable HTML: {exc}", "save the page again") from exc
    import trafilatura

    meta = htmlmeta.read_meta(doc)
    index = PageIndex(doc)
    found = trafilatura.bare_extraction(text, url=url, with_metadata=False, include_comments=False,
                                        include_tables=True, favor_recall=True)  # fmt: skip
    traf: dict[str, Any] = {}
    if isinstance(found, dict):
        traf = found
    elif found is not None:
        traf = found.as_dict()
    body = str(traf.get("text") or "")
    dump = None
    if not body.strip():  # trafilatura found nothing: the text reader tries the page's text
        dump = extract_text(index.visible_text(), name=name, today=today)
        body = dump.body
    lang = _language(meta.lang or (dump.lang if dump else None), body)
    index.set_body(body, skip=lambda line: htmlfields.byline_like(line, lang))
    ctx = htmlfields.Context(meta=meta, index=index, lang=lang, today=today or utcnow().date(),
                             dump=dump, url=url, declared_date=_declared_date(text, url))  # fmt: skip
    ctx.sites, ctx.hosts = htmlfields.sites_of(meta, url)
    ctx.site_keys = {htmlfields.fold(s) for s in ctx.sites if htmlfields.fold(s)}
    title = htmlfields.choose_title(ctx)
    index.headline = ctx.headline
    if ctx.headline is not None:
        start = index.reanchor(body, ctx.headline, lambda line: htmlfields.byline_like(line, lang))
        if start is not None and body.find(start) > 0:
            # what trafilatura put before the story's first paragraph under the headline is
            # a teaser or a menu, when it is a small part of the text
            before = body[: body.find(start)]
            if len(before.split()) <= 0.3 * len(body.split()):
                body = body[body.find(start) :]
    author = htmlfields.choose_author(ctx)
    published = htmlfields.choose_published(ctx)
    publisher = htmlfields.choose_publisher(ctx)
    body = htmlfields.trim_body(body, title, author, lang)
    declared = (canonical_url(link, url) for link in (meta.canonical, meta.first("og:url")))
    page_url = next((u for u in declared if u), None) or canonical_url(url)
    words = word_count(body)
    reason = None
    linked = _linked_share(doc, body)
    if words < MIN_BODY_WORDS:
        reason = f"the body has {words} words (under {MIN_BODY_WORDS}): no article text"
    elif linked >= LINK_LIST_SHARE:
        reason = f"{linked:.0%} of its text is links: a home page or a list, not a story"
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
        lang=meta.lang or lang.code,
        dek=None,
        dropped=dump.dropped if dump else (),
        notes=notes,
    )


# A "body" whose words are this much the text of links is a list of stories (a home or
# section page), however long: an article's text is mostly not links, even with its
# related links kept.
LINK_LIST_SHARE = 0.7


def _linked_share(doc: Any, body: str) -> float:
    """The share of the body's words on lines that are, whole, the text of a link."""
    anchors = {" ".join(a.text_content().split()) for a in doc.iter("a")}
    anchors.discard("")
    total = linked = 0
    for line in body.split("\n"):
        text = " ".join(line.split()).lstrip("-•* ").strip()
        n = len(text.split())
        total += n
        if text in anchors:
            linked += n
    return linked / total if total else 0.0


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def word_count(text: str) -> int:
    """Words, counting two characters of Chinese, Japanese or Korean as one (no spaces)."""
    cjk = len(_CJK.findall(text))
    return len(_CJK.sub("", text).split()) + cjk // 2


def _parser() -> lxml_html.HTMLParser:
    return lxml_html.HTMLParser(encoding="utf-8", remove_comments=True)


def _language(code: str | None, body: str) -> Language:
    """The page's declared language when we read it, else the one its body's words fit."""
    names = {v: k for k, v in LANGUAGES.items()}
    if code and code in names:
        return language(names[code])
    return guess_language(body.split())


def _declared_date(text: str, url: str | None) -> str | None:
    """htmldate limited to the page's markup (meta tags, <time>, itemprop, the URL): its
    extensive search, which reads any date in the text, is off. It only confirms."""
    from htmldate import find_date

    try:
        found = find_date(
            text, url=url, extensive_search=False, original_date=True, outputformat="%Y-%m-%d"
        )
    except (ValueError, TypeError):
        return None
    return found if isinstance(found, str) else None
