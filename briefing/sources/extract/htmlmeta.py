"""What an HTML page says about itself: JSON-LD, OpenGraph, meta tags, <title>, <h1>.

Each value comes back with where it was found, so the HTML path can compare the
sources before choosing. JSON-LD is read only from objects of an article type
(NewsArticle, Article, BlogPosting, ...): a WebSite or Organization object's dates are
not the article's. A value that is a URL ("article:author" often is) is not a name.
Also here: turning a page into text lines the way a browser's ``innerText`` does, so
the text-dump extractor can read the visible byline block of a saved page too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import html as lxml_html

ARTICLE_TYPES = frozenset(
    [
        "article",
        "newsarticle",
        "blogposting",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "reviewnewsarticle",
        "backgroundnewsarticle",
        "techarticle",
        "scholarlyarticle",
        "report",
        "socialmediaposting",
        "liveblogposting",
        "posting",
    ]
)
_BLOCK = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
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
        "tr",
        "ul",
        "br",
        "title",
    ]
)
_SKIP = frozenset(
    ["script", "style", "noscript", "template", "head", "svg", "iframe", "select", "option"]
)
_URLISH = re.compile(r"^(?:https?:)?//|^www\.", re.I)


@dataclass
class PageMeta:
    """Values a page declares, each list in the order of trust within its source."""

    found: dict[str, list[str]] = field(default_factory=dict)  # "og:title" -> ["..."]
    canonical: str | None = None
    h1: list[str] = field(default_factory=list)
    title_tag: str | None = None
    lang: str | None = None

    def add(self, key: str, value: Any) -> None:
        if isinstance(value, str):
            value = " ".join(value.split())
            if value and value not in self.found.setdefault(key, []):
                self.found[key].append(value)

    def first(self, key: str) -> str | None:
        values = self.found.get(key)
        return values[0] if values else None


def read_meta(doc: lxml_html.HtmlElement) -> PageMeta:
    meta = PageMeta()
    meta.lang = (doc.get("lang") or "").split("-")[0].lower() or None
    for el in doc.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        content = el.get("content")
        if not key or content is None:
            continue
        if key in {"og:title", "og:site_name", "og:url", "article:published_time", "author",
                   "article:author", "date", "pubdate", "publishdate", "dc.date.issued",
                   "dc.date", "dcterms.created", "datepublished", "sailthru.date",
                   "parsely-pub-date", "twitter:title", "application-name", "dc.creator",
                   "citation_author", "citation_publication_date", "byl"}:  # fmt: skip
            if key in {
                "author",
                "article:author",
                "dc.creator",
                "citation_author",
            } and _URLISH.match(content):
                continue
            meta.add(key, content)
    for el in doc.xpath('//*[@itemprop="datePublished"]'):
        meta.add(
            "itemprop:datePublished", el.get("content") or el.get("datetime") or el.text_content()
        )
    for el in doc.iter("link"):
        if "canonical" in (el.get("rel") or "").lower().split() and el.get("href"):
            meta.canonical = meta.canonical or el.get("href", "").strip()
    title = doc.find(".//title")
    if title is not None:
        meta.title_tag = " ".join((title.text_content() or "").split()) or None
    for h in doc.iter("h1"):
        text = " ".join(h.text_content().split())
        if text and len(text) <= 300:
            meta.h1.append(text)
    for el in doc.iter("script"):
        if (el.get("type") or "").strip().lower() == "application/ld+json":
            try:
                data = json.loads(el.text_content() or "", strict=False)
            except ValueError:
                continue
            for obj in _objects(data):
                _read_ld(obj, meta)
    return meta


def _objects(data: Any, depth: int = 0) -> list[dict[str, Any]]:
    if depth > 4:
        return []
    if isinstance(data, list):
        return [o for item in data for o in _objects(item, depth + 1)]
    if isinstance(data, dict):
        out = [data]
        for key in ("@graph", "mainEntity", "mainEntityOfPage"):
            if isinstance(data.get(key), list | dict):
                out.extend(_objects(data[key], depth + 1))
        return out
    return []


def _types(obj: dict[str, Any]) -> set[str]:
    t = obj.get("@type")
    items = t if isinstance(t, list) else [t]
    return {str(x).lower() for x in items if x}


def _read_ld(obj: dict[str, Any], meta: PageMeta) -> None:
    if not _types(obj) & ARTICLE_TYPES:
        return
    meta.add("ld:headline", obj.get("headline") or obj.get("name"))
    meta.add("ld:datePublished", obj.get("datePublished") or obj.get("dateCreated"))
    authors = obj.get("author") or obj.get("creator")
    for a in authors if isinstance(authors, list) else [authors]:
        name = a.get("name") if isinstance(a, dict) else a
        if isinstance(name, str) and not _URLISH.match(name):
            meta.add("ld:author", name)
    pub = obj.get("publisher")
    for p in pub if isinstance(pub, list) else [pub]:
        if isinstance(p, dict):
            meta.add("ld:publisher", p.get("name"))


def visible_text(doc: lxml_html.HtmlElement) -> str:
    """The page's text with a line break at every block element, as innerText gives it."""
    body = doc.find(".//body")
    root = body if body is not None else doc
    out: list[str] = []

    def walk(el: Any) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if tag in _SKIP or not isinstance(el.tag, str):
            if el.tail:
                out.append(el.tail)
            return
        block = tag in _BLOCK
        if block:
            out.append("\n\n" if tag == "p" else "\n")
        if el.text:
            out.append(el.text)
        for child in el:
            walk(child)
        if block:
            out.append("\n\n" if tag == "p" else "\n")
        if el.tail:
            out.append(el.tail)

    walk(root)
    text = "".join(out)
    return "\n".join(" ".join(line.split()) for line in text.split("\n"))
