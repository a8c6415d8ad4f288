"""The issue templates (templates/email/*, templates/web/*) against the product's rules.

Each test renders a context (tests/data/render/*.json, or the 20-story issue built below)
through ``render_with_pipeline``: the product's Jinja2 environment and ``compile_mjml``
(Jinja2 -> MJML -> mjml-python -> css-inline for ``<mj-style inline="inline">`` ->
minify-html), plus the text part.

Rendered HTML is read with the stdlib parser (``Doc``), never with regular expressions, so
the checks see what a client sees: tags, attributes, and the visible text in order.
"""

from __future__ import annotations

import copy
import html as htmllib
import itertools
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import pytest

from briefing.render.compile import compile_mjml
from briefing.render.env import make_environment

ROOT = Path(__file__).parent.parent
TEMPLATES = ROOT / "templates"
DATA = Path(__file__).parent / "data" / "render"

Context = dict[str, Any]

# --- the pipeline: briefing.render's own environment and compiler -----------------------------


def template_env(autoescape: Any = None) -> jinja2.Environment:
    """The product's environment; with ``autoescape`` given, a copy with that setting (to
    prove the templates escape even where autoescape is off)."""
    if autoescape is None:
        return make_environment()
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_with_pipeline(context: Context) -> tuple[str, str]:
    """(email HTML, email text) for one issue context."""
    env = template_env()
    source = env.get_template("email/issue.mjml.j2").render(**context)
    text = env.get_template("email/issue.txt.j2").render(**context)
    return compile_mjml(source), text


def render_web(context: Context) -> str:
    return template_env().get_template("web/issue.html.j2").render(**context)


# --- contexts ----------------------------------------------------------------------------------


def load_context(name: str) -> Context:
    context: Context = json.loads((DATA / f"context_{name}.json").read_text(encoding="utf-8"))
    return context


def _source(i: int, publisher: str, *, ai: bool = False, with_author: bool = True) -> Context:
    day = 1 + i % 28
    slug = f"{publisher.lower().replace(' ', '-')}/2026/11/{day:02d}/north-korea-japan-defense-story-{i}"
    return {
        "publisher": publisher,
        "author": f"Reporter Number{i} Lastname" if with_author else None,
        "published_label": f"{day} November 2026",
        "published_iso": f"2026-11-{day:02d}",
        "url": f"https://www.{publisher.lower().replace(' ', '')}.example.com/{slug}",
        "title": f"Story {i} as told by {publisher}",
        "ai_generated": ai,
        "ai_disclosure": "This content is AI-generated based on source articles." if ai else None,
        "read_label": f"Read at {publisher}",
    }


def twenty_story_context() -> Context:
    """A full issue: 4 topics x 5 stories with long titles and summaries, authors, dates,
    labels, up to two other outlets each and every fourth story AI-generated: the size
    budget is measured on this, so it errs on the heavy side."""
    context = load_context("seeds")
    publishers = ["Northeast Wire", "Pacific Ledger", "Harbour Times", "Seoul Evening Post"]
    summary = (
        "Officials in Tokyo said the new budget would fund long-range counterstrike missiles "
        "and air defence upgrades, while Pyongyang's state media called the plan a threat to "
        "regional peace and promised a response; analysts in Seoul expect further missile "
        "tests before the spring and more joint drills with Washington and Canberra."
    )
    topics = []
    n = 0
    for t in range(4):
        stories = []
        for _ in range(5):
            n += 1
            ai = n % 4 == 0
            lead = _source(n, publishers[n % 4], ai=ai)
            also = [_source(n * 10 + k, publishers[(n + k + 1) % 4]) for k in range(n % 3)]
            stories.append(
                {
                    "key": f"story-{n:02d}",
                    "title": f"Story {n}: Japan's record defense budget and what North Korea's "
                    f"reaction tells us about the balance of power in Northeast Asia",
                    "url": lead["url"],
                    "summary": summary,
                    "labels": ["Politics", "Defense"],
                    "ai_generated": ai,
                    "ai_disclosure": lead["ai_disclosure"],
                    "lead": lead,
                    "also": also,
                }
            )
        topics.append(
            {
                "slug": f"topic-{t}",
                "name": f"Topic {t}: Japan defense and DPRK reaction",
                "description": "Japan's defense build-up and partnerships, and how North Korea answers them.",
                "stories": stories,
            }
        )
    context["topics"] = topics
    context["ai"] = {
        "any": True,
        "count": 5,
        "total": 20,
        "note": "5 of 20 items declared AI-generated by their source",
    }
    return context


def without_ai(context: Context) -> Context:
    context = copy.deepcopy(context)
    context["ai"] = {"any": False, "count": 0, "total": context["ai"]["total"], "note": ""}
    for topic in context["topics"]:
        for story in topic["stories"]:
            for source in [story, story["lead"], *story["also"]]:
                source["ai_generated"] = False
                source["ai_disclosure"] = None
    return context


def stories(context: Context) -> list[Context]:
    return [story for topic in context["topics"] for story in topic["stories"]]


CONTEXTS = {
    "seeds": lambda: load_context("seeds"),
    "hostile": lambda: load_context("hostile"),
    "twenty": twenty_story_context,
}


@pytest.fixture(scope="module", params=sorted(CONTEXTS))
def rendered(request: pytest.FixtureRequest) -> tuple[Context, str, str]:
    context = CONTEXTS[request.param]()
    html, text = render_with_pipeline(context)
    return context, html, text


@pytest.fixture(scope="module")
def seeds() -> tuple[Context, str, str]:
    context = load_context("seeds")
    return (context, *render_with_pipeline(context))


# --- reading the output ------------------------------------------------------------------------

WEB_SCHEMES = ("http://", "https://")
PLACEHOLDER = re.compile(r"@@=?[A-Z_]+=?@@")


def norm(value: str) -> str:
    return " ".join(value.split())


_TITLE = re.compile(r"<title>(.*?)</title>", re.S | re.I)


class Doc(HTMLParser):
    """Start tags with their attributes, <title>, and the visible text in document order."""

    HIDDEN = frozenset({"style", "script", "title", "noscript", "xml"})
    # tags that separate words; inline ones (a, span, strong, time) do not
    BREAKS = frozenset(
        {"p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "td", "th"}
        | {"tr", "table", "section", "article", "aside", "header", "footer", "main", "body"}
    )

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self._chunks: list[str] = []
        self._open: list[str] = []
        # <title> is RCDATA: only </title> ends it, and minify_html writes a "<" in it as
        # is. html.parser does not know that (before Python 3.13), so read it here.
        titles = _TITLE.findall(markup)
        self.title = htmllib.unescape(titles[0]) if titles else ""
        self.title_count = len(titles)
        self.feed(_TITLE.sub("", markup))
        self.close()
        self.text = norm("".join(self._chunks))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag in self.BREAKS:
            self._chunks.append(" ")
        if tag in self.HIDDEN:
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BREAKS:
            self._chunks.append(" ")
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if not self._open:
            self._chunks.append(data)

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]

    @property
    def hrefs(self) -> list[str]:
        return [a["href"] for a in self.all("a")]


def blocks(text: str, titles: list[str], end: str) -> list[str]:
    """Split normalized text into one block per story: from its title to the next title
    (or to ``end``, the start of the footer)."""
    spans, start = [], 0
    for title in titles:
        at = text.index(norm(title), start)
        spans.append(at)
        start = at + len(norm(title))
    spans.append(text.index(end, start))
    return [text[a:b] for a, b in itertools.pairwise(spans)]


def text_urls(text: str) -> set[str]:
    return set(re.findall(r"https?://\S+", text)) | set(PLACEHOLDER.findall(text))


FOOTER = "You are receiving this because you subscribed to"
DATE_WORDS = re.compile(
    r"\b(19|20)\d\d\b|January|February|March|April|May|June|July|August|September|October"
    r"|November|December|\bdate\b|\bundated\b",
    re.I,
)

# --- the HTML part: structure ------------------------------------------------------------------


def test_lang_and_title_equal_subject(rendered: tuple[Context, str, str]) -> None:
    context, html, _ = rendered
    doc = Doc(html)
    assert doc.all("html")[0]["lang"] == context["newsletter"]["language"]
    assert doc.title == context["issue"]["subject"]
    assert doc.title_count == 1


def test_email_html_has_no_active_content(rendered: tuple[Context, str, str]) -> None:
    _, html, _ = rendered
    doc = Doc(html)
    forbidden = {"script", "svg", "form", "iframe", "object", "embed", "input", "button", "frame"}
    assert not forbidden & {name for name, _ in doc.tags}
    for name, attrs in doc.tags:
        assert not [k for k in attrs if k.startswith("on")], (name, attrs)
    for href in doc.hrefs:
        assert href.startswith((*WEB_SCHEMES, "mailto:")) or PLACEHOLDER.fullmatch(href), href
    tables = doc.all("table")
    assert tables and all(t.get("role") == "presentation" for t in tables)
    assert all(img.get("alt") is not None for img in doc.all("img"))
    assert not re.search("[\u0080-\u009f]", html), "C1 control characters break some clients"


def test_preheader_is_visible_text_at_the_top(seeds: tuple[Context, str, str]) -> None:
    context, html, text = seeds
    doc = Doc(html)
    preheader = context["issue"]["preheader"]
    assert doc.text.startswith(norm(preheader))
    assert norm(text).startswith(norm(preheader))
    # no hidden text anywhere: mj-preview renders exactly that (display:none, white on
    # white), which SpamAssassin scores HTML_FONT_LOW_CONTRAST + FONT_INVIS_MSGID (+1.7).
    for _, attrs in doc.tags:
        style = attrs.get("style", "").replace(" ", "").lower()
        assert "display:none" not in style and "opacity:0" not in style, style
        assert "color:#fff;" not in style + ";" and "color:#ffffff" not in style, style


def test_inline_styles_are_applied(seeds: tuple[Context, str, str]) -> None:
    _, html, _ = seeds
    doc = Doc(html)
    for h3 in doc.all("h3"):
        style = h3.get("style", "")
        assert "font-size:22px" in style and "overflow-wrap:anywhere" in style, style
    ai = [p for p in doc.all("p") if p.get("class") == "ai"]
    assert ai and all("background-color:#fbf3e0" in p.get("style", "") for p in ai)
    assert all("color:" in a.get("style", "") for a in doc.all("a"))


def test_outlook_conditional_comments_survive_minify(seeds: tuple[Context, str, str]) -> None:
    _, html, _ = seeds
    assert "<!--[if mso | IE]>" in html and "<![endif]-->" in html
    assert "<!--[if mso]>" in html
    assert html.rstrip().endswith("</body></html>")


def test_text_blocks_carry_dir_auto(rendered: tuple[Context, str, str]) -> None:
    _, html, _ = rendered
    doc = Doc(html)
    for tag in ("h1", "h2", "h3"):
        assert all(el.get("dir") == "auto" for el in doc.all(tag)), tag
    for p in doc.all("p"):
        if p.get("class") in {"sum", "src", "also", "ai", "note", "desc"}:
            assert p.get("dir") == "auto", p


def _luminance(color: str) -> float:
    hexa = color.lstrip("#")
    if len(hexa) == 3:
        hexa = "".join(c * 2 for c in hexa)
    channels = [int(hexa[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_text_colours_contrast_with_every_background(seeds: tuple[Context, str, str]) -> None:
    """WCAG AA (4.5:1) for every text colour against every background colour used."""
    _, html, _ = seeds
    styles = " ".join(attrs.get("style", "") for _, attrs in Doc(html).tags).lower()
    texts = set(re.findall(r"(?<![-\w])color:(#[0-9a-f]{3,6})\b", styles))
    backgrounds = set(re.findall(r"background(?:-color)?:(#[0-9a-f]{3,6})\b", styles))
    assert texts and backgrounds
    for text in texts:
        for background in backgrounds:
            light, dark = sorted((_luminance(text), _luminance(background)), reverse=True)
            assert (light + 0.05) / (dark + 0.05) >= 4.5, (text, background)


# --- AI caveat and labels ----------------------------------------------------------------------

CAVEAT = "AI-generated content:"


def test_caveat_opens_the_issue_in_both_parts(rendered: tuple[Context, str, str]) -> None:
    context, html, text = rendered
    first_title = norm(stories(context)[0]["title"])
    for part in (Doc(html).text, norm(text)):
        at = part.index(CAVEAT)
        assert at < part.index(first_title)
        caveat = part[at : at + 400]
        assert norm(context["ai"]["note"]) in caveat  # "1 of 2 items declared AI-generated ..."
        assert "declared AI-generated by their source" in caveat
        assert "Each is labelled where it appears, quoting the source's own words." in caveat
        assert "The editors reviewed this issue before it was sent." in caveat


def test_no_caveat_and_no_labels_without_ai(seeds: tuple[Context, str, str]) -> None:
    context = without_ai(seeds[0])
    html, text = render_with_pipeline(context)
    for part in (Doc(html).text, norm(text)):
        assert CAVEAT not in part
        assert "AI-generated —" not in part
        assert "the source says" not in part


def test_ai_label_quotes_the_disclosure_next_to_its_item(
    rendered: tuple[Context, str, str],
) -> None:
    context, html, text = rendered
    items = stories(context)
    titles = [s["title"] for s in items]
    for part in (Doc(html).text, norm(text)):
        for story, block in zip(items, blocks(part, titles, FOOTER), strict=True):
            label = "AI-generated — the source says: " + f'"{norm(story["ai_disclosure"] or "")}"'
            if story["ai_generated"] and story["ai_disclosure"]:
                assert label in block
                # right under the title: the reader meets the label before the summary
                assert block.index(label) < block.index(norm(story["summary"]))
            elif not story["ai_generated"]:
                assert "AI-generated — the source says" not in block.split("Also reported by")[0]


def test_seed_label_is_the_exact_sentence(seeds: tuple[Context, str, str]) -> None:
    _, html, text = seeds
    label = (
        'AI-generated — the source says: "This content is AI-generated based on source articles."'
    )
    assert label in Doc(html).text
    assert label in norm(text)


# --- attribution -------------------------------------------------------------------------------


def test_seed_attribution_in_both_parts(seeds: tuple[Context, str, str]) -> None:
    context, html, text = seeds
    nvnk, prism = stories(context)
    for part in (Doc(html).text, norm(text)):
        first, second = blocks(part, [nvnk["title"], prism["title"]], FOOTER)
        assert "Source: NVNK · 7 January 2026" in first
        assert "Source: PRISM News" in second
        # no url: the publisher is named, nothing links
        assert "Read at" not in first + second
        # no published date: not a word about dates
        assert not DATE_WORDS.search(second), second
    assert not [h for h in Doc(html).hrefs if "nvnk" in h.lower() or "prism" in h.lower()]


def test_links_authors_and_other_outlets(rendered: tuple[Context, str, str]) -> None:
    context, html, text = rendered
    doc = Doc(html)
    items = stories(context)
    titles = [s["title"] for s in items]
    html_blocks = blocks(doc.text, titles, FOOTER)
    text_blocks = blocks(norm(text), titles, FOOTER)
    for story, hblock, tblock in zip(items, html_blocks, text_blocks, strict=True):
        for source in [story["lead"], *story["also"]]:
            url = source["url"] or ""
            linked = url.startswith(WEB_SCHEMES)
            for block in (hblock, tblock):
                assert norm(source["publisher"] or "Publisher not named") in block
                if source["author"]:
                    assert norm("By " + source["author"]) in block
                if source["published_label"]:
                    assert norm(source["published_label"]) in block
                assert (norm(source["read_label"]) in block) == linked, (source, block)
            if linked and '"' not in url:
                assert url in doc.hrefs
                assert f"{source['read_label']}: {url}" in tblock
        if story["also"]:
            assert "Also reported by" in hblock and "Also reported by" in tblock
        if (story["url"] or "").startswith(WEB_SCHEMES) and '"' not in story["url"]:
            assert story["url"] in doc.hrefs


def test_title_links_to_the_story(seeds: tuple[Context, str, str]) -> None:
    context = twenty_story_context()
    html, _ = render_with_pipeline(context)
    linked = re.findall(r"<h3[^>]*><a href=\"?([^\" >]+)", html)
    assert linked == [s["url"] for s in stories(context)]
    html, _ = render_with_pipeline(seeds[0])
    assert re.findall(r"<h3[^>]*><a ", html) == []  # the seeds have no url


# --- footer, editor's note, consistency between parts -----------------------------------------


def test_footer_in_both_parts(rendered: tuple[Context, str, str]) -> None:
    context, html, text = rendered
    doc = Doc(html)
    links, newsletter = context["links"], context["newsletter"]
    why = f"{FOOTER} {norm(newsletter['name'])}."
    for part in (doc.text, norm(text)):
        footer = part[part.rindex(FOOTER) :]
        assert footer.startswith(why)
        assert norm(newsletter["postal_address"]) in footer
    anchors = {a["href"] for a in doc.all("a")}
    assert {links["unsubscribe"], links["preferences"], links["web"]} <= anchors
    assert f"Unsubscribe: {links['unsubscribe']}" in text
    assert f"Manage your preferences: {links['preferences']}" in text
    assert f"View in your browser: {links['web']}" in text
    assert "Unsubscribe" in doc.text and "Manage your preferences" in doc.text
    if newsletter["reply_to"]:
        assert f"mailto:{newsletter['reply_to']}" in anchors
        assert newsletter["reply_to"] in text


def test_placeholders_are_printed_untouched(seeds: tuple[Context, str, str]) -> None:
    _, html, text = seeds
    for placeholder in ("@@UNSUBSCRIBE_URL@@", "@@PREFERENCES_URL@@"):
        assert placeholder in html and placeholder in text
    assert "%40%40" not in html and "&#64;" not in html


def test_editor_note_shown_when_set(seeds: tuple[Context, str, str]) -> None:
    context, html, text = seeds
    for paragraph in context["issue"]["editor_note"].split("\n\n"):
        assert norm(paragraph) in Doc(html).text
        assert norm(paragraph) in norm(text)
    assert "From the editors" in Doc(html).text and "FROM THE EDITORS" in text
    context = copy.deepcopy(context)
    context["issue"]["editor_note"] = None
    html, text = render_with_pipeline(context)
    assert "From the editors" not in Doc(html).text and "FROM THE EDITORS" not in text


def test_html_and_text_carry_the_same_titles_and_links(
    rendered: tuple[Context, str, str],
) -> None:
    context, html, text = rendered
    doc = Doc(html)
    for topic in context["topics"]:
        assert norm(topic["name"]) in doc.text and norm(topic["name"]) in norm(text)
    for story in stories(context):
        assert norm(story["title"]) in doc.text
        assert norm(story["title"]) in norm(text)
    hrefs = {h.removeprefix("mailto:") for h in doc.hrefs}
    for href in hrefs:
        assert href in text, href
    for url in text_urls(text):  # a link in the text part is a link in the HTML part
        assert url in hrefs or url in doc.text, url  # (or quoted text in both, like a note)


def test_text_part_wraps_at_72_columns(rendered: tuple[Context, str, str]) -> None:
    _, _, text = rendered
    for line in text.splitlines():
        # a longer line is one unbreakable word: a URL, or a run of letters
        assert len(line) <= 72 or len(line.split()) == 1, line
    assert "\n\n\n\n" not in text


# --- hostile content ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile() -> tuple[Context, str, str]:
    context = load_context("hostile")
    return (context, *render_with_pipeline(context))


def test_hostile_markup_is_shown_as_text(hostile: tuple[Context, str, str]) -> None:
    context, html, text = hostile
    doc = Doc(html)
    items = stories(context)
    # every hostile string arrives as the reader's text, not as markup
    for value in (
        context["issue"]["preheader"],
        context["issue"]["editor_note"].split("\n\n")[1],
        context["topics"][0]["name"],
        context["topics"][0]["description"],
        items[0]["title"],
        items[0]["summary"],
        items[0]["ai_disclosure"],
        context["newsletter"]["postal_address"],
    ):
        assert norm(value) in doc.text, value
        assert norm(value) in norm(text), value
    assert doc.title == context["issue"]["subject"]
    assert "{{ 7*7 }}" in doc.text and "49" not in doc.text


def test_hostile_urls_never_become_links(hostile: tuple[Context, str, str]) -> None:
    _, html, text = hostile
    doc = Doc(html)
    assert not [h for h in doc.hrefs if h.lower().lstrip().startswith(("javascript", "data"))]
    assert "javascript:alert" not in text.lower() and "data:text" not in text
    # a quote in a url is percent-encoded, so it cannot end the attribute
    assert "https://example.org/a?x=1&y=%22%3E%3Cscript%3Ealert(2)%3C/script%3E" in doc.hrefs
    assert "Read at Pub <b>lisher</b>: https://example.org/a?x=1&y=%22%3E%3Cscript%3E" in norm(text)


def test_long_rtl_and_emoji_text_survive(hostile: tuple[Context, str, str]) -> None:
    context, html, text = hostile
    doc = Doc(html)
    long_title = next(s["title"] for s in stories(context) if len(s["title"]) == 2000)
    assert norm(long_title) in doc.text and norm(long_title) in norm(text)
    for story in stories(context)[3:]:
        assert norm(story["title"]) in doc.text and norm(story["title"]) in norm(text)
    assert "👨‍👩‍👧‍👦" in doc.text and "🇯🇵" in doc.text
    assert "اليابان تعزز" in doc.text and "הארץ" in doc.text


def test_autoescape_holds_even_if_the_environment_turns_it_off() -> None:
    context = load_context("hostile")
    env = template_env(autoescape=False)
    source = env.get_template("email/issue.mjml.j2").render(**context)
    assert "<script>" not in source and "&lt;script&gt;" in source
    web = env.get_template("web/issue.html.j2").render(**context)
    assert "<script>" not in web


def test_text_part_is_never_html_escaped() -> None:
    context = load_context("hostile")
    env = template_env(autoescape=True)  # even if someone turns it on everywhere
    text = env.get_template("email/issue.txt.j2").render(**context)
    assert "&lt;" not in text and "&amp;" not in text
    assert stories(context)[0]["title"] in norm(text)


# --- size --------------------------------------------------------------------------------------


def test_size_budget() -> None:
    seeds_html, _ = render_with_pipeline(load_context("seeds"))
    twenty_html, _ = render_with_pipeline(twenty_story_context())
    seeds_size, twenty_size = len(seeds_html.encode()), len(twenty_html.encode())
    per_story = (twenty_size - seeds_size) / 18
    print(f"seeds issue {seeds_size} bytes, 20 stories {twenty_size} bytes, {per_story:.0f}/story")
    assert seeds_size < 16_000
    assert per_story < 4_096
    assert twenty_size < 90_000  # Gmail clips past ~102 KB


# --- the web version ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_web_version(name: str) -> None:
    context = CONTEXTS[name]()
    page = render_web(context)
    email_html, _ = render_with_pipeline(context)
    doc = Doc(page)
    assert page.startswith("<!doctype html>")
    assert doc.all("html")[0]["lang"] == context["newsletter"]["language"]
    assert doc.title == context["issue"]["subject"]
    scripts = doc.all("script")
    assert all(s == {"type": "application/ld+json"} for s in scripts)
    # each story reads the same on the web as in the email
    titles = [s["title"] for s in stories(context)]
    assert blocks(doc.text, titles, FOOTER) == blocks(Doc(email_html).text, titles, FOOTER)
    # one JSON-LD NewsArticle per item
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    items = stories(context)
    assert len(found) == len(scripts) == len(items)
    for story, raw in zip(items, found, strict=True):
        assert "<" not in raw  # tojson escapes it, so nothing can close the script early
        ld = json.loads(raw)
        lead = story["lead"]
        assert ld["@context"] == "https://schema.org" and ld["@type"] == "NewsArticle"
        assert ld["headline"] == story["title"]
        assert ld.get("publisher") == (
            {"@type": "Organization", "name": lead["publisher"]} if lead["publisher"] else None
        )
        assert ld.get("author") == (
            {"@type": "Person", "name": lead["author"]} if lead["author"] else None
        )
        assert ld.get("datePublished") == lead["published_iso"]
        url = story["url"] or lead["url"]
        assert ld.get("url") == (
            url.strip() if url and url.strip().startswith(WEB_SCHEMES) else None
        )
        assert ld.get("digitalSourceType") == (
            "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
            if story["ai_generated"]
            else None
        )


def test_web_caveat_and_footer(seeds: tuple[Context, str, str]) -> None:
    context = seeds[0]
    doc = Doc(render_web(context))
    assert doc.text.index(CAVEAT) < doc.text.index(norm(stories(context)[0]["title"]))
    assert FOOTER in doc.text and context["newsletter"]["postal_address"] in doc.text
    assert not re.search(
        DATE_WORDS, blocks(doc.text, [s["title"] for s in stories(context)], FOOTER)[1]
    )
    doc = Doc(render_web(without_ai(context)))
    assert CAVEAT not in doc.text


def test_email_templates_hold_no_active_tags() -> None:
    for path in (TEMPLATES / "email").glob("*.j2"):
        source = path.read_text(encoding="utf-8").lower()
        for tag in ("<script", "<svg", "<form", "<iframe", "<img"):
            assert tag not in source, (path.name, tag)
