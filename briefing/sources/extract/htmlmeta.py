"""What an HTML page declares about itself: meta tags, JSON-LD, <title>, canonical link.

Each value comes back with the key it was declared under, so the HTML path can weigh
the sources and compare them before choosing. JSON-LD is read from the page's article
object (NewsArticle, Article, BlogPosting, ... found at the top level, in ``@graph`` or
as a ``mainEntity``); a WebPage object only stands in when there is no article object,
and a WebSite or Organization object gives a site name, never a date or a byline.
Authors keep their ``@type``: an Organization is not a person's byline. A value that is
a URL ("article:author" often is) is not a name. JSON-LD wrapped in ``<![CDATA[ ]]>``
(XHTML habits) or carrying raw control characters is read all the same.
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
        "askpublicnewsarticle",
        "techarticle",
        "scholarlyarticle",
        "medicalscholarlyarticle",
        "report",
        "review",
        "socialmediaposting",
        "discussionforumposting",
        "liveblogposting",
        "posting",
        "howto",
        "recipe",
        "chapter",
    ]
)
PAGE_TYPES = frozenset(["webpage", "itempage", "aboutpage", "profilepage", "qapage", "faqpage"])
SITE_TYPES = frozenset(["website", "organization", "newsmediaorganization", "corporation"])
URLISH = re.compile(r"^(?:https?:)?//|^www\.|^[\w.-]+\.(?:com|org|net)/", re.I)
_CDATA = re.compile(r"^\s*(?://\s*)?<!\[CDATA\[|(?://\s*)?\]\]>\s*$")
# meta keys read, by what they declare (lowercased name, property or itemprop)
META_KEYS = frozenset(
    [
        "og:title",
        "og:site_name",
        "og:url",
        "og:type",
        "twitter:title",
        "title",
        "dc.title",
        "dcterms.title",
        "citation_title",
        "parsely-title",
        "sailthru.title",
        "headline",
        "author",
        "article:author",
        "og:article:author",
        "dc.creator",
        "dcterms.creator",
        "citation_author",
        "parsely-author",
        "sailthru.author",
        "byl",
        "byline",
        "article.author",
        "article:published_time",
        "og:article:published_time",
        "article:published",
        "article.published",
        "og:published_time",
        "published_time",
        "datepublished",
        "date",
        "pubdate",
        "publishdate",
        "publish_date",
        "publish-date",
        "publication_date",
        "dc.date",
        "dc.date.issued",
        "dc.date.created",
        "dcterms.date",
        "dcterms.issued",
        "dcterms.created",
        "citation_publication_date",
        "citation_date",
        "parsely-pub-date",
        "sailthru.date",
        "article:modified_time",
        "og:updated_time",
        "application-name",
        "apple-mobile-web-app-title",
        "dc.publisher",
        "citation_publisher",
        "copyright",
        "publisher",
    ]
)
_NAME_KEYS = frozenset(
    [
        "author",
        "article:author",
        "og:article:author",
        "dc.creator",
        "dcterms.creator",
        "citation_author",
        "parsely-author",
        "sailthru.author",
        "byl",
        "byline",
        "article.author",
    ]
)


@dataclass(frozen=True)
class Person:
    """An author as JSON-LD declares it."""

    name: str
    kind: str  # "person", "organization" or "" (a bare string)


@dataclass
class PageMeta:
    """Values a page declares, each list in the order the page gives them."""

    found: dict[str, list[str]] = field(default_factory=dict)  # "og:title" -> ["..."]
    ld_authors: list[Person] = field(default_factory=list)
    ld_kind: str | None = None  # the @type of the object the ld:* values came from
    canonical: str | None = None
    title_tag: str | None = None
    lang: str | None = None

    def add(self, key: str, value: Any) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str):
            value = " ".join(value.split())
            if value and value not in self.found.setdefault(key, []):
                self.found[key].append(value)

    def first(self, key: str) -> str | None:
        values = self.found.get(key)
        return values[0] if values else None

    def get(self, key: str) -> list[str]:
        return self.found.get(key, [])


def read_meta(doc: lxml_html.HtmlElement) -> PageMeta:
    meta = PageMeta()
    lang = doc.get("lang") or doc.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
    for el in doc.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        content = el.get("content")
        if key in {"content-language", "language", "dc.language", "og:locale"} and content:
            lang = lang or content
        if key not in META_KEYS or content is None:
            continue
        if key in _NAME_KEYS and URLISH.match(content.strip()):
            continue  # a profile URL, not a name
        meta.add(key, content)
    meta.lang = re.split(r"[-_]", lang.strip().lower())[0] or None if lang.strip() else None
    for el in doc.iter("link"):
        rel = (el.get("rel") or "").lower().split()
        if "canonical" in rel and el.get("href"):
            meta.canonical = meta.canonical or el.get("href", "").strip() or None
    title = doc.find(".//title")
    if title is not None:
        meta.title_tag = " ".join((title.text_content() or "").split()) or None
    objects: list[dict[str, Any]] = []
    for el in doc.iter("script"):
        if (el.get("type") or "").strip().lower() == "application/ld+json":
            data = _json(el.text_content() or "")
            if data is not None:
                objects.extend(_objects(data))
    _read_ld(objects, meta)
    return meta


def _json(text: str) -> Any:
    text = _CDATA.sub("", text.strip())
    text = _CDATA.sub("", text.strip())
    try:
        return json.loads(text, strict=False)
    except ValueError:
        return None


def _objects(data: Any, depth: int = 0) -> list[dict[str, Any]]:
    if depth > 5:
        return []
    if isinstance(data, list):
        return [o for item in data for o in _objects(item, depth + 1)]
    if isinstance(data, dict):
        out = [data]
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "hasPart"):
            if isinstance(data.get(key), list | dict):
                out.extend(_objects(data[key], depth + 1))
        return out
    return []


def types(obj: dict[str, Any]) -> set[str]:
    t = obj.get("@type")
    items = t if isinstance(t, list) else [t]
    return {str(x).lower().rsplit("/", 1)[-1] for x in items if x}


def _name(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name")
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    if isinstance(value, str) and value.strip() and not URLISH.match(value.strip()):
        return " ".join(value.split())
    return None


def _read_ld(objects: list[dict[str, Any]], meta: PageMeta) -> None:
    articles = [o for o in objects if types(o) & ARTICLE_TYPES]
    pages = [o for o in objects if types(o) & PAGE_TYPES]
    chosen = articles[0] if articles else (pages[0] if pages else None)
    for o in objects:
        if types(o) & SITE_TYPES and not types(o) & ARTICLE_TYPES:
            kind = "ld:website" if "website" in types(o) else "ld:organization"
            meta.add(kind, _name(o))
    if chosen is None:
        return
    meta.ld_kind = sorted(types(chosen) & (ARTICLE_TYPES | PAGE_TYPES))[0]
    meta.add("ld:headline", _name(chosen.get("headline")))
    meta.add("ld:name", _name(chosen.get("name")))
    for key in ("datePublished", "dateCreated", "dateModified", "uploadDate"):
        value = chosen.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        meta.add(f"ld:{key}", value)
    authors = chosen.get("author") or chosen.get("creator")
    for a in authors if isinstance(authors, list) else [authors]:
        name = _name(a)
        if name is None:
            continue
        kind = ""
        if isinstance(a, dict):
            kind = "organization" if types(a) & SITE_TYPES else "person"
        person = Person(name, kind)
        if person not in meta.ld_authors:
            meta.ld_authors.append(person)
    pub = chosen.get("publisher") or chosen.get("sourceOrganization")
    for p in pub if isinstance(pub, list) else [pub]:
        meta.add("ld:publisher", _name(p))
    part = chosen.get("isPartOf")
    if isinstance(part, dict) and types(part) & (SITE_TYPES | {"periodical", "newspaper"}):
        meta.add("ld:isPartOf", _name(part))
