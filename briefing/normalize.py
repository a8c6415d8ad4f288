"""Pure helpers that turn raw source material into clean article fields.

Canonical URLs (tracking parameters removed), stable ids, HTML sanitized with nh3
and flattened to text for the plain-text email, and the detection of a source's
own statement that its text is AI-generated.

Why one module: small pure helpers that nine modules of the package import; the
AI-disclosure patterns (the last 90 lines) are the only separable part, and splitting them
off would spread those imports over two modules for no gain.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import nh3

from briefing.models import digest

# Query parameters that only track the reader; removing them makes one URL per story.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "yclid",
        "msclkid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "rb_clickid",
        "s_cid",
        "ncid",
        "cmpid",
        "ref_src",
        "ref_url",
        "spm",
        "__twitter_impression",
        "wt_mc",
        "wt.mc_id",
        "at_medium",
        "at_campaign",
        "ito",
        "cid_source",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "_ga", "_gl")

ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "dd",
        "del",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "ins",
        "li",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "small",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"colspan"},
    "th": {"colspan"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})

_BLOCK_TAG = re.compile(
    r"<\s*(/?)\s*(p|div|br|li|ul|ol|h[1-6]|blockquote|pre|tr|table|figure|figcaption|hr|section"
    r"|article|header|footer|dd|dt)\b[^>]*>",
    re.I,
)
_ANY_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


@functools.cache
def _invisible() -> re.Pattern[str]:
    """Control and format characters (Unicode Cc, Cf) but newline, tab and the bidi marks."""
    keep = {"\n", "\t", "\u200e", "\u200f"}
    chars = [
        chr(c)
        for c in range(0x10000)
        if unicodedata.category(chr(c)) in {"Cc", "Cf"} and chr(c) not in keep
    ]
    chars += [
        chr(c)
        for c in (
            0x110BD,
            0x110CD,
            0x1D173,
            0x1D174,
            0x1D175,
            0x1D176,
            0x1D177,
            0x1D178,
            0x1D179,
            0x1D17A,
            0xE0001,
            *range(0xE0020, 0xE0080),
        )
    ]
    points = sorted(ord(c) for c in chars)
    ranges: list[tuple[int, int]] = []
    for cp in points:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    body = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )
    return re.compile(f"[{body}]+")


_ODD_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " "})


def clean_text(text: str) -> str:
    """NFC, no control or zero-width characters, non-breaking spaces made plain."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text).translate(_ODD_SPACES)
    return _invisible().sub("", text)


# Single-byte code pages a detector confuses with each other on short Western European
# text; Windows-1252 (what spreadsheets and Notepad write) is by far the likeliest.
_LATIN_LOOKALIKES = frozenset(
    {
        "cp1250",
        "cp1252",
        "cp1254",
        "cp1257",
        "cp775",
        "cp850",
        "cp852",
        "cp858",
        "iso8859_2",
        "iso8859_3",
        "iso8859_4",
        "iso8859_9",
        "iso8859_10",
        "iso8859_13",
        "iso8859_15",
        "iso8859_16",
        "latin_1",
        "mac_latin2",
        "mac_roman",
        "mac_iceland",
        "mac_turkish",
    }
)


def decode_text(data: bytes) -> tuple[str, str] | None:
    """UTF-8 (BOM or not), else the detected encoding (Windows-1252 when the detector only
    knows it is some Western single-byte code page); None for binary or undetectable data."""
    try:
        return data.decode("utf-8-sig"), "utf_8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or (b"\x00" in data[:4096] and not best.encoding.startswith("utf_16")):
        return None
    if best.encoding in _LATIN_LOOKALIKES:
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    return str(best), best.encoding


def one_line(text: str) -> str:
    """Collapse all whitespace to single spaces."""
    return " ".join(clean_text(text).split())


def sanitize_html(fragment: str) -> str:
    """Safe HTML for the email: a small tag set, http(s)/mailto links only, no comments."""
    cleaned = nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        clean_content_tags={"script", "style", "template", "noscript", "iframe", "object", "svg"},
    )
    return cleaned.strip()


def html_to_text(fragment: str, *, sanitized: bool = False) -> str:
    """Plain text with paragraphs kept, for the text part of the email and for search.

    ``sanitized`` says the fragment already came out of :func:`sanitize_html` (no
    scripts, styles or comments left), which saves a second pass through nh3.
    """
    if "<" not in fragment and "&" not in fragment:
        return _tidy_paragraphs(fragment)
    marked = _BLOCK_TAG.sub(lambda m: "\n\n" if m.group(2).lower() != "br" else "\n", fragment)
    if not sanitized:
        # nh3 drops scripts and styles with their content; the regex then drops the tags left.
        marked = html.unescape(
            nh3.clean(marked, tags=set(), clean_content_tags={"script", "style"})
        )
    return _tidy_paragraphs(html.unescape(_ANY_TAG.sub("", marked)))


def _tidy_paragraphs(text: str) -> str:
    text = clean_text(text)
    paragraphs = (_SPACES.sub(" ", p).strip() for p in _BLANK_LINES.split(text))
    return "\n\n".join(" ".join(p.split("\n")).strip() for p in paragraphs if p.strip())


def strip_tags(fragment: str) -> str:
    """A title or name: tags (and the text of scripts and styles) gone, entities decoded."""
    if "<" not in fragment and "&" not in fragment:
        return one_line(fragment)
    text = html.unescape(fragment)
    if "<" in text:
        text = nh3.clean(text, tags=set(), clean_content_tags={"script", "style"})
    return one_line(html.unescape(_ANY_TAG.sub(" ", html.unescape(text))))


def canonical_url(url: str | None, base: str | None = None) -> str | None:
    """Absolute http(s) URL without fragment, default port or tracking parameters.

    Anything that is not http or https (``javascript:``, ``data:``, a bare path with
    no base) gives ``None``: we never link a reader to it.
    """
    if not url:
        return None
    url = url.strip()
    if base:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"} or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    if parts.username:
        host = f"{parts.username}{':' + parts.password if parts.password else ''}@{host}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))


def stable_id(*, guid: str | None, url: str | None, scope: str, content: str) -> str:
    """From the guid, else the canonical URL, else a hash of the content.

    A guid that is not itself a URL or URN is only unique within its feed, so it is
    scoped by the source.
    """
    if guid:
        if re.match(r"^(https?://|urn:|tag:)", guid, re.I):
            return digest("guid", guid.strip())
        return digest("guid", scope, guid.strip())
    if url:
        return digest("url", url)
    return digest("content", content)


# --- AI disclosure ---------------------------------------------------------------------------

_SELF = r"(?:this|the following|the above|our|the present)"
_WORK = (
    r"(?:article|content|story|text|post|piece|summary|summaries|report|analysis|page|"
    r"newsletter|briefing|copy|translation|write-?up|item|entry|blog post|news|material)"
)
_AI = (
    r"(?:a\.?i\.?|artificial intelligence|(?:an?\s+)?(?:ai|a\.i\.|language|llm|machine[- ]learning|"
    r"generative|large language)\s+(?:model|tool|system|assistant|technology)s?|"
    r"large language models?|llms?|generative ai|chat ?gpt|gpt-?\d*|claude|gemini|"
    r"an? (?:ai|automated|algorithmic) (?:system|process|tool|writer)|machine learning|"
    r"automated (?:systems?|tools?|processes?))"
)
_MAKE = r"(?:generated|written|produced|created|drafted|composed|authored|compiled|translated|summari[sz]ed)"
_DISCLOSURE_PATTERNS = [
    # "This content is AI-generated ...", "This summary was AI generated"
    re.compile(
        rf"\b{_SELF}\s+(?:\w+\s+){{0,3}}{_WORK}\b[^.!?]{{0,60}}?\b(?:is|was|has been|were|are|have been)\s+(?:\w+\s+){{0,2}}(?:ai|a\.i\.)[- ]?(?:generated|written|produced|created|assisted)",
        re.I,
    ),
    # "This article was written by an AI model ...", "... generated with the help of AI"
    re.compile(
        rf"\b{_SELF}\s+(?:\w+\s+){{0,3}}{_WORK}\b[^.!?]{{0,60}}?\b{_MAKE}\b[^.!?]{{0,40}}?\b(?:by|with|using|through|via|from)\b[^.!?]{{0,30}}?\b{_AI}",
        re.I,
    ),
    # "AI-generated content", "Disclaimer: this was generated by AI" as a standalone notice
    re.compile(
        r"^(?:disclaimer|disclosure|note|editor'?s note|transparency note|about this (?:article|content))\s*[:\-–—]\s*(?:this (?:is|was)\s+)?(?:ai|a\.i\.)[- ]generated\b",
        re.I,
    ),
    re.compile(
        rf"^(?:disclaimer|disclosure|note|editor'?s note|transparency note)\s*[:\-–—]\s*[^.!?]{{0,80}}?\b{_MAKE}\b[^.!?]{{0,40}}?\b(?:by|with|using)\b[^.!?]{{0,20}}?\b{_AI}",
        re.I,
    ),
    # "We used AI to write this article", "AI was used to generate this summary"
    re.compile(
        rf"\b(?:we|the (?:editors|newsroom|publisher))\s+used\s+{_AI}\s+to\s+(?:help\s+)?(?:write|generate|produce|create|draft|summari[sz]e|translate)\b",
        re.I,
    ),
    re.compile(
        rf"\b{_AI}\s+(?:was|were|has been)\s+used\s+to\s+(?:help\s+)?(?:write|generate|produce|create|draft|summari[sz]e|translate)\s+{_SELF}\b",
        re.I,
    ),
]
# A bare label such as "AI-generated content." or "This is AI-generated."
_SHORT_LABEL = re.compile(r"^(?:this (?:is|was) )?(?:an? )?(?:ai|a\.i\.)[- ]generated\b", re.I)
_NEGATION = re.compile(
    r"\b(?:not|never|no|without|nor)\b[^.!?]{0,30}\b(?:ai|a\.i\.|artificial intelligence|generated|written|machine)\b"
    r"|\b(?:human[- ]written|written by (?:a |our )?(?:human|journalist|reporter)s?)\b",
    re.I,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[A-Z\"“‘(])")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(one_line(text)) if s.strip()]


def find_ai_disclosure(text: str) -> str | None:
    """The sentence in which a text declares itself AI-generated, or None.

    Only a statement about the text itself counts ("This content is AI-generated ...",
    "This article was written by an AI model ..."); an article *about* AI, or a
    statement that no AI was used, does not.
    """
    lowered = text.lower()
    if not any(
        k in lowered
        for k in (
            "ai",
            "a.i",
            "artificial",
            "gpt",
            "model",
            "machine",
            "automat",
            "claude",
            "gemini",
            "llm",
        )
    ):
        return None
    for sentence in sentences(text):
        if len(sentence) > 400 or _NEGATION.search(sentence):
            continue
        if any(p.search(sentence) for p in _DISCLOSURE_PATTERNS) or (
            len(sentence.split()) <= 8 and _SHORT_LABEL.match(sentence)
        ):
            return sentence
    return None
