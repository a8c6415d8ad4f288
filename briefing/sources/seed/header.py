"""The passes on the furniture, the headline and the header under it (labels, byline,
dates, reading time, standfirst), with the helpers that read a byline or date line.

They are methods of ``LinePasses``, which ``SeedParser`` inherits, because they use the
parser's boilerplate pattern; the later passes (``lists``) need nothing of it."""

from __future__ import annotations

import re
from typing import Any

from briefing.normalize import find_ai_disclosure
from briefing.sources import page
from briefing.sources.dates import find_date
from briefing.sources.seed.lines import _Line, _Meta

DEK_MAX_WORDS = 40  # a standfirst below the byline is short; a longer paragraph is the story
_NO_AI_NOTICE = re.compile(
    r"\b(?:no|without)\b.{0,20}\b(?:ai|a\.i\.|artificial intelligence)\b.{0,40}\b(?:this|our)\b"
    r"|\b(?:this|our)\b.{0,40}\b(?:not|never)\b.{0,30}\b(?:ai|a\.i\.|artificial intelligence)\b",
    re.I,
)
_ATTRIBUTION = re.compile(r"\b(?:said|says|told|added|explained|argued)\b", re.I)
_QUOTED = re.compile(r"[“\"][^”\"]{10,}[”\"]")


class LinePasses:
    """The line heuristics' passes that use the parser's boilerplate pattern."""

    _boilerplate: re.Pattern[str]  # set by SeedParser.__init__

    # -- passes ---------------------------------------------------------------------------

    def _is_boilerplate(self, text: str) -> bool:
        if text.count(" ") >= 60:  # a paragraph (banners and share bars are shorter)
            return bool(self._boilerplate.fullmatch(text))
        if (
            self._boilerplate.fullmatch(text)
            or page.is_cookie_banner(text)
            or page.is_share_bar(text)
        ):
            return True
        parts = page.glued_parts(text)  # "Accept allReject": two buttons glued together
        return len(parts) > 1 and all(self._boilerplate.fullmatch(p) for p in parts)

    def _furniture(self, lines: list[_Line], meta: _Meta) -> None:
        """Marks what is furniture wherever it stands, and keeps what it tells us."""
        for ln in lines:
            t = ln.text
            if not re.search(r"[^\W\d_]", t) and not find_date(t, whole=True):
                ln.kind = "drop"  # no letters: "}" from a broken template, a like count
            elif m := page.PUBLISHED_IN.fullmatch(t):
                ln.kind = "drop"  # "Published in The Indo-Pacific Review" (Medium)
                meta.site_names.append(m.group("name").strip())
            elif self._is_boilerplate(t):
                ln.kind = "drop"
            elif page.word_count(t) <= 40 and page.PROMO_LINE.search(t):
                ln.kind = "drop"  # "Enjoying this article? Click here to subscribe"
            elif (cr := page.copyright_line(t)) is not None:
                ln.kind = "drop"
                if cr.year:
                    meta.copyright_year = max(meta.copyright_year or 0, cr.year)
                meta.copyright_holder = meta.copyright_holder or cr.holder
            elif page.is_breadcrumb(t):
                ln.kind = "drop"
                if not meta.labels:
                    meta.labels.extend(page.breadcrumbs(t))
            elif (notice := _ai_notice(t)) is not None:
                ln.kind = "drop"
                # keep the first full sentence as evidence rather than a bare label
                if meta.ai_disclosure is None or (
                    page.word_count(meta.ai_disclosure) <= 4 < page.word_count(notice)
                ):
                    meta.ai_disclosure = notice
            elif page.word_count(t) <= 25 and _NO_AI_NOTICE.search(t):
                ln.kind = "drop"
                meta.notes.append(f"the page states: {t}")

    def _site_bar(self, lines: list[_Line], meta: _Meta) -> None:
        """'Site Home|Publisher' or 'Headline | Publisher' at the top names the site."""
        for ln in [ln for ln in lines if ln.kind == "text"][:3]:
            if "|" not in ln.text or self._meta_parts(ln.text) is not None:
                continue
            parts = [p.strip() for p in ln.text.split("|") if p.strip()]
            if 2 <= len(parts) <= 6 and all(page.word_count(p) <= 12 for p in parts):
                ln.kind = "drop"
                meta.site_names.extend(parts)

    def _headline(self, lines: list[_Line], meta: _Meta, forced: Any) -> int | None:
        """The headline is the best-scoring headline-like line near the top."""
        texts = [ln.text for ln in lines if ln.kind == "text"]
        if isinstance(forced, str) and forced.strip():
            meta.title = forced.strip()
        else:
            best: tuple[float, _Line] | None = None
            candidates = [ln for ln in lines[:80] if ln.kind == "text"]
            for pos, ln in enumerate(candidates):
                score = self._headline_score(ln, pos, candidates, texts, meta)
                if score is not None and (best is None or score > best[0]):
                    best = (score, ln)
            if best is None:
                return None
            meta.title = best[1].text
        at = None
        for ln in lines:
            if ln.kind == "text" and ln.text == meta.title:
                ln.kind = "title"
                at = ln.index if at is None else at
        if meta.title in meta.site_names:
            meta.site_names.remove(meta.title)
        return at if at is not None else -1

    def _headline_score(
        self, ln: _Line, pos: int, candidates: list[_Line], texts: list[str], meta: _Meta
    ) -> float | None:
        t = ln.text
        words = page.word_count(t)
        if not page.headline_like(t) or find_date(t, whole=True) or self._meta_parts(t) is not None:
            return None
        score = min(words, 10) * 0.5 - 0.05 * pos
        if words < 3:
            score -= 6
        if words > 16:
            score -= (words - 16) * 0.75  # a standfirst runs longer than a headline
        if page.all_caps(t):
            score -= 4
        if words >= 4 and texts.count(t) == 2:
            score += 6  # the page <title> and the <h1> both made it into the dump
        if t in meta.site_names:
            score += 6
        previous = candidates[pos - 1].text if pos else ""
        if page.ROLE.search(t) and words <= 10 and page.BYLINE.match(page.deglue(previous)):
            return None  # "Senior Fellow, Indo-Pacific Program" under a byline
        following = candidates[pos + 1 : pos + 5]
        if _bare_name(t) and any(self._meta_parts(f.text) for f in following[:2]):
            return None  # an author's name standing above the date
        if any(self._meta_parts(f.text) is not None for f in following):
            score += 4  # a byline, date or reading time right under it
        if following and page.prose_like(following[0].text):
            score += 1
        deck = following[0].text if following else ""
        if deck and self._meta_parts(deck) is None and page.word_count(deck) > words >= 4:
            score += 2  # a longer standfirst straight under it: the headline and its deck
        return score

    def _meta_parts(self, text: str) -> list[tuple[str, Any]] | None:
        """A byline, dates, a reading time, or several joined by separators; None if not meta."""
        text = page.deglue(text)
        if page.word_count(text) > 16:
            return None
        found: list[tuple[str, Any]] = []
        for part in (p.strip() for p in page.META_SPLIT.split(text)):
            if not part:
                continue
            item = _meta_part(part)
            if item is None:
                return None
            found.append(item)
        return found or None

    def _header(self, lines: list[_Line], meta: _Meta, title_at: int) -> None:
        """Around the headline: labels, byline, dates, reading time and the standfirst."""
        before = [ln for ln in lines[: max(title_at, 0)] if ln.kind == "text"]
        meta.mastheads = [  # the site's name is one of the short lines on top, maybe
            re.sub(
                r"(?i)\s+home$", "", _label_case(ln.text)
            )  # "Reuters home": the logo's link text
            for ln in before[:12]
            if page.word_count(ln.text) <= 6 and not _bare_name(ln.text)
        ]
        for ln in before[-8:]:  # some sites put the byline, date and read time above it
            self._take_meta(ln, meta, lines)
        for ln in before:
            if ln.kind == "text":
                ln.kind = "drop"  # above the headline: the masthead and the site's navigation
                ln.weak = True
        kicker = next((ln for ln in reversed(lines[: max(title_at, 0)]) if ln.kind != "end"), None)
        if (
            kicker is not None
            and kicker in before
            and kicker.kind == "drop"
            and _kicker_like(kicker.text)
        ):
            kicker.kind = "label"  # a kicker right above the headline
            meta.labels.append(_label_case(kicker.text))
        seen_meta = any(ln.kind == "meta" for ln in before)
        # With the byline and date above the headline, a short paragraph straight under it
        # is the standfirst (blog layouts put the excerpt there).
        after_reading_time = seen_meta
        i = title_at + 1
        while i < len(lines):
            ln = lines[i]
            i += 1
            if ln.kind != "text":
                continue
            if self._take_meta(ln, meta, lines):
                seen_meta = True
                after_reading_time = meta.reading_time is not None and bool(
                    page.READING_TIME.match(
                        page.deglue(ln.text).split("|")[-1].split("·")[-1].strip()
                    )
                )
                continue
            after_rt, after_reading_time = after_reading_time, False
            if page.prose_like(ln.text) or page.word_count(ln.text) >= 12:
                if meta.dek is None and not seen_meta and self._meta_follows(lines, i):
                    ln.kind = "dek"  # standfirst between headline and byline
                    meta.dek = ln.text
                    continue
                if (
                    meta.dek is None
                    and after_rt
                    and 8 <= page.word_count(ln.text) <= DEK_MAX_WORDS
                    and not page.DATELINE.match(ln.text)
                ):
                    ln.kind = "dek"  # an excerpt set under the reading time (blog layouts)
                    meta.dek = ln.text
                    continue
                break
            if page.word_count(ln.text) <= 6 and not seen_meta:
                ln.kind = "label"
                for part in page.META_SPLIT.split(ln.text):
                    meta.labels.extend(_label_case(p) for p in page.glued_parts(part))
            elif page.word_count(ln.text) <= 10:
                ln.kind = "drop"  # an author's job title, a star rating, a photo credit
            else:
                break
        meta.labels = _unique([lab.strip(" :") for lab in meta.labels if lab.strip(" :")])

    def _take_meta(self, ln: _Line, meta: _Meta, lines: list[_Line]) -> bool:
        """Read a byline, date or reading-time line (or an author's bare name beside one)."""
        parts = self._meta_parts(ln.text)
        if (
            parts is None
            and _bare_name(ln.text)
            and self._meta_follows(lines, ln.index + 1, names=1)
        ):
            parts = [("author", (page.names(ln.text), None))]
        if parts is None:
            return False
        ln.kind = "meta"
        for kind, value in parts:
            _apply_meta(meta, kind, value)
        return True

    def _meta_follows(self, lines: list[_Line], start: int, *, names: int = 2) -> bool:
        """Is the next text line (past up to ``names`` bare author names) a byline, date or
        read time? (Avatars put the author's name twice.)"""
        for ln in lines[start:]:
            if ln.kind == "title":
                return False
            if ln.kind not in {"text", "meta"}:
                continue
            if ln.kind == "meta" or self._meta_parts(ln.text) is not None:
                return True
            if names > 0 and _bare_name(ln.text):
                names -= 1
                continue
            return False
        return False


def _bare_name(text: str) -> bool:
    """'Min-jung Park' alone on a line: two to four capitalized name words."""
    tokens = text.split()
    return (
        2 <= len(tokens) <= 4
        and tokens[0] not in {"The", "A", "An", "THE"}
        and page.names(text) == text
        and not page.ROLE.search(text)
        and not page.GLUED.search(text)  # "PoliticsAI Analysis" is two labels glued, not a name
    )


def _kicker_like(text: str) -> bool:
    return (
        page.word_count(text) <= 4
        and not page.prose_like(text)
        and not _bare_name(text)
        and bool(re.search(r"[^\W\d_]", text))
    )


def _meta_part(part: str) -> tuple[str, Any] | None:
    rt = page.READING_TIME.match(part)
    if rt and page.word_count(part[rt.end() :]) <= 2:  # "3 min readSource": a link label glued on
        return ("reading_time", int(rt.group(1)))
    by = page.BYLINE.match(part)
    if by:
        text = by.group("names")
        when = find_date(text, whole=False)
        if when:
            text = (text[: when.start] + " " + text[when.end :]).strip()
        who = page.names(text)
        if who and not page.INSTITUTIONAL.search(who):
            return ("author", (who, when))
        if page.INSTITUTIONAL.search(text):
            return ("author", (None, when))  # "By AsiaBrief Staff": no person to name
    match = find_date(part, whole=True)
    if match:
        return ("date", match)
    return None


def _apply_meta(meta: _Meta, kind: str, value: Any) -> None:
    if kind == "reading_time":
        meta.reading_time = meta.reading_time or value
    elif kind == "author":
        who, when = value
        meta.author = meta.author or who
        if when:
            _apply_meta(meta, "date", when)
    elif kind == "date":
        if value.updated:
            meta.updated = meta.updated or value
        else:
            meta.date = meta.date or value


def _ai_notice(text: str) -> str | None:
    """The sentence of a standalone notice declaring the text AI-generated."""
    if page.word_count(text) > 60:
        return None
    disclosure = find_ai_disclosure(text)
    if disclosure is None:
        return None
    if any(disclosure in q.group(0) for q in _QUOTED.finditer(text)) or _ATTRIBUTION.search(
        disclosure
    ):
        return None  # someone quoted about AI is reporting, not a notice
    return disclosure


def _label_case(text: str) -> str:
    """'ASIA-PACIFIC' -> 'Asia-Pacific'; 'AI Analysis' stays."""
    return text.title() if page.all_caps(text) and len(text) > 4 else text


def _unique(items: list[str]) -> list[str]:
    return list({item.lower(): item for item in reversed(items)}.values())[::-1]
