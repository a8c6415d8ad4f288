"""What a line of a page dump is: the classifiers the seed parser is built from.

Each function looks at one line of text (whitespace already collapsed) and answers
one question: is it boilerplate, a cookie banner, a share bar, a breadcrumb, a
copyright line, a byline, a headline, a paragraph of prose ... No site is named
anywhere; the patterns describe kinds of page furniture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Whole lines that are page furniture, never article text (case-insensitive, full match).
DEFAULT_BOILERPLATE: tuple[str, ...] = (
    r"(?:top|bottom) of (?:the )?page",
    r"(?:back|return|go) to (?:the )?top",
    r"skip to (?:the )?(?:main )?(?:content|navigation|main|article)",
    r"(?:main )?menu|navigation|search|home|close|open menu|toggle navigation|e-?edition|shop",
    r"advertise(?:ment| with us| here)?|sponsored(?: content)?|ad|ads|promoted|paid (?:post|content)",
    r"story continues below(?: this)? advert(?:isement)?|continue reading(?: below)?",
    r"\[?email\s*(?:&#160;|\s)?protected\]?",
    r"[^\s@]+@[^\s@]+\.[a-z]{2,}",
    r"(?:sign|log) ?(?:in|up|out)|register|my account|account|subscribe(?: now| today| for free)?",
    r"(?:sign up|subscribe) (?:for|to) (?:our|the) .*(?:newsletter|briefing|updates|emails?).*",
    r"newsletters?|enter your e-?mail(?: address)?\W*|your e-?mail(?: address)?\W*",
    r"support us|donate(?: now)?|become a (?:member|supporter|subscriber)|join us|membership",
    r"(?:share|share this|share (?:this )?(?:article|story|post)|share on \w+|tweet|pin it|copy link|link copied|print|email|save|bookmark|listen|listen to (?:this )?article|gift (?:this )?article)",
    r"(?:follow us|follow)(?: on .*)?",
    r"source|sources|like|likes|\d+ likes?|\d+ views?|\d+ shares?|reply|post comment",
    r"(?:all rights reserved\.?|terms(?: of (?:use|service))?|terms (?:and|&) conditions|privacy(?: policy| notice)?|cookie(?: policy| settings| preferences)?|contact(?: us)?|about(?: us)?|careers|imprint|accessibility|sitemap|faq|help)",
    r"(?:accept|reject|decline|allow)(?: all)?(?: cookies)?|manage (?:cookies|preferences|consent|settings)|got it|ok|i agree|agree",
    r"loading\.*|please wait\.*|javascript (?:is )?(?:required|disabled).*",
    r"(?:image|photo|photograph|illustration|video|graphic)(?: credit)?s?\s*[:(].{0,80}",
    r"(?:updated|published|posted|last updated)\s*:?",
    r"(?:read|see) (?:more|also|next)(?:\s*[:>»›].*)?|more|load more|view all|see all|show more",
    r"previous(?: (?:article|post|story))?|next(?: (?:article|post|story))?|older posts?|newer posts?",
    r"tags?\s*:.*|filed under\s*:?.*|categor(?:y|ies)\s*:.*|topics?\s*:.*",
    r"(?:powered by|built with|proudly powered by) [\w .]+",
    r"[*✱]?\s*required fields are marked.*|your email address will not be published.*|(?:name|email|website|comment)\s*\*?",
    # counters and reactions: "124 views", "42 Likes∙6 Restacks", "1.2K Followers"
    r"\d[\d.,]*[km]?\s*(?:views?|comments?|likes?|restacks?|shares?|claps?|responses?|followers?|following|reads?)(?:\s*[∙·•|,]\s*\d[\d.,]*[km]?\s*\w+)*",
    r"last published .{1,40}|post (?:not )?marked as liked|all posts|see all|thanks for (?:subscribing|signing up)!?|member-only story|follow|following|listen|share this post|copy link|restack",
    r"(?:proudly )?(?:created|made|built) with (?:wix|squarespace|wordpress|ghost|substack)(?:\.com)?\.?",
    r"(?:#[^\W_][\w-]*\s*)+",  # a line of hashtags
    r"(?:item|photo|image|slide) \d+ of \d+\b.*",  # gallery captions
    r"(?:photo|image|illustration|picture)s?\s*/\s*(?:illustration|illutration|photo|image)s?\b.*",
    # a phone number alone (not a date such as 2026-01-07 or 2026/01/07)
    r"(?!\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b)(?:(?:tel|phone|fax|mobile)\s*[:.]?\s*)?\+?\(?\d[\d\s().-]{6,}\d",
    r"all quotes delayed.*|market data provided by.*",
    r"(?:\[\d+/\d+\]).*|.*\bpurchase licensing rights\b.*|.*\bopens new tab\b",  # wire photo captions
    r"support (?:us|our (?:work|journalism)|independent (?:journalism|analysis|reporting))\.?",
)

# A line with one of these words beside "cookie(s)" is a consent banner.
_COOKIE_BANNER = re.compile(
    r"\bcookies?\b.*\b(?:we use|uses|accept|consent|privacy|experience|personali[sz]e|partners|"
    r"settings|preferences|analytics|tracking)\b|\b(?:we use|this (?:site|website) uses)\b.*\bcookies?\b",
    re.I,
)
_SHARE_WORDS = frozenset(
    [
        "share",
        "shares",
        "tweet",
        "email",
        "e-mail",
        "print",
        "copy",
        "link",
        "facebook",
        "twitter",
        "x",
        "linkedin",
        "whatsapp",
        "telegram",
        "reddit",
        "pinterest",
        "threads",
        "bluesky",
        "mastodon",
        "flipboard",
        "pocket",
        "messenger",
        "line",
        "sms",
        "more",
        "save",
        "this",
        "article",
        "story",
        "post",
        "on",
        "via",
        "gift",
        "comment",
        "comments",
    ]
)
# Headings that open a list of other stories: skipped until prose comes back.
ASIDE_HEADING = re.compile(
    r"(?:related(?: \w+)?|"
    r"most (?:read|popular|viewed|shared|commented)(?: (?:stories|articles|this week|today|now))?|"
    r"trending(?: now| stories| articles)?|popular(?: now| stories| articles| posts)?|"
    r"recommended(?: for you| stories| articles| reading)?|you (?:may|might) (?:also )?(?:like|enjoy)|"
    r"read (?:next|more|also)|also read|more (?:from|on|in|stories|news|like this|to read)\b.*|"
    r"latest(?: news| stories| articles| posts)?|further reading|editor'?s picks|top stories|"
    r"what to read next|in (?:other|related) news|don'?t miss|sponsored (?:stories|links|content)|"
    r"around the web|from our partners|recent posts|archives?|more in \w+|see also|"
    r"suggested topics|topics|tags|sources?|references|further information)\s*:?",
    re.I,
)
# Lines after which nothing is the article: comments, sign-offs, end marks, author bios.
ARTICLE_END = re.compile(
    r"(?:comments?|\d+ comments?|thoughts|\d+ thoughts? on .*|leave a (?:comment|reply)|"
    r"join the (?:conversation|discussion)|discussion(?: about this post)?|reader comments|"
    r"what do you think\??|responses?|\d+ responses?|"
    r"#{3,}|-30-|-+\s*ends?\s*-+|ends|\(?(?:reporting|writing|editing|additional reporting|compiled) by .{2,400}|"
    r"\(?this (?:article|story|report|piece) was (?:written|reported|compiled|edited) by .{2,200}|"
    r"about the author|about the authors?:?.*|our standards:.*|written by [^.]{2,60}|"
    r"(?:more|other) (?:posts|articles|stories) (?:by|from) .{2,60})\s*:?",
    re.I,
)
# A line that only asks the reader to subscribe, sign up or click.
PROMO_LINE = re.compile(
    r"\b(?:click here|sign up here|subscribe here|subscribe (?:now|today)|subscribe to (?:our|the)|"
    r"sign up (?:for|to) (?:our|the)|get (?:our|the) .{0,40}newsletter|enjoying this (?:article|story|post)\?)",
    re.I,
)
# A call to action that closes a promo box (newsletter sign-up, donation appeal).
CALL_TO_ACTION = re.compile(
    r"(?:sign ?up|subscribe(?: now| today| for free)?|support us|donate(?: now)?|"
    r"support (?:our (?:work|journalism)|independent (?:journalism|analysis|reporting))|"
    r"become a (?:member|supporter|subscriber)|enter your e-?mail(?: address)?\W*|join(?: now)?|"
    r"get (?:it|started)|try (?:it )?(?:free|now))",
    re.I,
)
PROMO_WORDS = re.compile(
    r"\b(?:newsletter|inbox|sign up|subscribe|subscription|supporter|support (?:us|our|independent)|"
    r"donat\w+|membership|member|every (?:day|week|morning|evening|monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday)|weekly|daily|delivered)\b",
    re.I,
)
PUBLISHED_IN = re.compile(r"published in (?P<name>[^|•·]{2,60})", re.I)
READING_TIME = re.compile(
    r"^(?:reading time\s*:?\s*|read time\s*:?\s*)?(?:about\s+|~\s*)?(\d{1,3})[\s-]*(?:min(?:ute)?s?\.?)"
    r"(?:\s+(?:read|reading|to read)|\s*read\w*)?",
    re.I,
)
_COPYRIGHT = re.compile(
    r"^(?:(?:©|\(c\)|copyright)\s*)+(?:(?P<y1>(?:19|20)\d{2})(?:\s*[-–—]\s*(?P<y2>(?:19|20)\d{2}))?)?[,.]?\s*"
    r"(?:by\s+)?(?P<holder>.*?)[\s.,]*(?:all rights reserved\.?)?[\s.]*$",
    re.I,
)
_COPYRIGHT_TRAILING = re.compile(
    r"^(?P<holder>[^©]{2,60}?)\s*(?:©|\(c\)|copyright)\s*(?P<y1>(?:19|20)\d{2})"
    r"(?:\s*[-–—]\s*(?P<y2>(?:19|20)\d{2}))?[\s.,]*(?:all rights reserved\.?)?$",
    re.I,
)
BYLINE = re.compile(
    r"^(?:by|written by|words by|reporting by|author\s*:|authors\s*:|posted by|story by|"
    r"(?:writer|author)['’]?s (?:picture|photo|avatar)\s*:?)\s*(?P<names>.+)$",
    re.I,
)
# A line under a byline naming the author's job: "Senior Fellow, Indo-Pacific Program".
ROLE = re.compile(
    r"\b(?:fellow|professor|director|correspondent|editor|reporter|writer|columnist|analyst|"
    r"researcher|contributor|staff|chief|bureau|head of|lecturer|associate|senior|journalist)\b",
    re.I,
)
INSTITUTIONAL = re.compile(
    r"\b(?:staff|desk|team|editors|editorial board|newsroom|reporters|agencies|wires?|bureau)\b",
    re.I,
)
NAME_TOKEN = re.compile(
    r"^(?:[A-Z\u00c0-\u00de][\w'’.-]*|[A-Z]\.|de|da|del|van|von|der|den|la|le|al|el|bin|ibn|y|du|di)$"
)
META_SPLIT = re.compile(r"\s*(?:\||•|·|—|–|\s-\s)\s*")
BREADCRUMB_SPLIT = re.compile(r"\s*(?:>|›|»|→|/|\\)\s*")
SENTENCE_END = re.compile(r"[.!?…:;][\"'”’)\]]*$")
STATEMENT_END = re.compile(r"[.!…][\"'”’)\]]*$")
DATELINE = re.compile(r"^[A-Z][A-Z .,'-]{2,40}(?:\([^)]*\))?\s*[—–-]\s")
GLUED = re.compile(r"(?<=[a-z]{3})(?=[A-Z])")
_GLUED_MONTH = re.compile(
    r"(?<=[a-z])(?=(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d)"
)
NAV_WORDS = frozenset({"home", "menu", "news", "search", "index", "main", "start", "homepage"})


def word_count(text: str) -> int:
    return len(text.split())


def deglue(text: str) -> str:
    """'By Clara BeaumontDecember 30, 2025' -> 'By Clara Beaumont December 30, 2025'."""
    return _GLUED_MONTH.sub(" ", text)


def glued_parts(text: str) -> list[str]:
    """'PoliticsAI Analysis' -> ['Politics', 'AI Analysis']; 'Accept allReject' -> two parts."""
    return [p.strip() for p in GLUED.split(text) if p.strip()]


def headline_like(text: str) -> bool:
    words = word_count(text)
    if not 1 <= words <= 30 or len(text) > 250:
        return False
    if text.endswith(".") and not text.endswith("..."):
        return False
    return bool(re.search(r"[^\W\d_]", text))


def prose_like(text: str) -> bool:
    """A paragraph of the article, not a heading, label or list item."""
    words = word_count(text)
    return words >= 25 or (words >= 8 and bool(SENTENCE_END.search(text)))


def statement_like(text: str) -> bool:
    """Prose that ends a statement (not a question-style headline in a list)."""
    words = word_count(text)
    return words >= 20 or (words >= 8 and bool(STATEMENT_END.search(text)))


def all_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 3 and all(c.isupper() for c in letters)


def is_cookie_banner(text: str) -> bool:
    return word_count(text) <= 60 and bool(_COOKIE_BANNER.search(text))


def is_share_bar(text: str) -> bool:
    tokens = [t for t in re.split(r"[\s|•·,/:]+", text.lower()) if t]
    return (
        bool(tokens)
        and len(tokens) <= 14
        and all(t in _SHARE_WORDS for t in tokens)
        and (
            len(tokens) >= 2
            or tokens[0] in {"facebook", "twitter", "linkedin", "whatsapp", "reddit"}
        )
    )


def is_breadcrumb(text: str) -> bool:
    if not re.search(r"[>›»→]| / ", text):
        return False
    crumbs = [c for c in BREADCRUMB_SPLIT.split(text) if c.strip()]
    return (
        2 <= len(crumbs) <= 8
        and all(word_count(c) <= 4 for c in crumbs)
        and not SENTENCE_END.search(text)
    )


def breadcrumbs(text: str) -> list[str]:
    return [c for c in BREADCRUMB_SPLIT.split(text) if c and c.lower() not in NAV_WORDS]


@dataclass(frozen=True)
class Copyright:
    year: int | None
    holder: str | None


def copyright_line(text: str) -> Copyright | None:
    """'© 2025–2026 Name. All rights reserved.', 'Copyright 2026 Name', 'Name © 2026', and
    the same followed by '· Powered by ...' or '| Privacy'."""
    if len(text) > 200 or not re.search(r"(?i)©|\(c\)|\bcopyright\b", text):
        return None
    parts = [p for p in re.split(r"\s*(?:\||•|·)\s*", text) if p]
    part = next((p for p in parts if re.search(r"(?i)©|\(c\)|\bcopyright\b", p)), text)
    m = _COPYRIGHT.match(part) or _COPYRIGHT_TRAILING.match(part)
    if m is None:
        return None
    year = m.group("y2") or m.group("y1")
    return Copyright(int(year) if year else None, _clean_holder(m.group("holder") or ""))


def _clean_holder(holder: str) -> str | None:
    holder = re.sub(r"(?i)\ball rights reserved\b\.?", "", holder)
    holder = re.split(
        r"(?<=[a-z0-9)])\.\s+|\s+(?:proudly|powered|created|built|made)\b", holder, maxsplit=1
    )[0]
    holder = holder.strip(" .,;:-–—")
    if not holder or word_count(holder) > 8 or not re.search(r"[^\W\d_]", holder):
        return None
    return holder


def names(text: str) -> str | None:
    """'Jane Doe and John Roe, Reuters' -> 'Jane Doe and John Roe'; 'TOMOKO OTAKE/ Staff
    Writer' -> 'Tomoko Otake'; None if the text is not names."""
    text = re.split(
        r"\s*/\s*|\s*,\s*(?=[^,]*\b(?:staff|writer|reporter|correspondent|editor|fellow)\b)", text
    )[0]
    text = re.sub(r"(?i)\s+(?:on|at|updated|published)\s*$", "", text).strip(" ,;")
    if all_caps(text):
        text = " ".join(w.capitalize() if w.lower() not in {"and"} else "and" for w in text.split())
    text = re.split(r"\s*,\s*(?=[A-Z][\w.]*(?:\s+[A-Z][\w.]*)*\s*$)", text)[0]  # drop ", Reuters"
    tokens = text.replace(",", " , ").replace("&", " and ").split()
    name_tokens = [t for t in tokens if t not in {",", "and"}]
    if not name_tokens or len(name_tokens) > 12:
        return None
    if not all(NAME_TOKEN.match(t) for t in name_tokens):
        return None
    return " ".join(text.split())
