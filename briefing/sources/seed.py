"""Seed files: plain-text dumps of web pages turned into articles.

A dump is what "select all, copy" in a browser gives: site navigation, ad slots,
share bars, cookie banners, "Related Posts" lists, comments and copyright lines
around the article. The parser works line by line with generic heuristics (what a
headline, a byline, a date line, a label or a paragraph looks like, see
``page.py``) plus boilerplate patterns that the config can extend. It knows no
particular site.

Passes, in order: furniture (boilerplate, banners, copyright, AI notices) -> the
headline (the best-scoring candidate) -> the header under it (labels, byline,
dates, reading time, standfirst) -> comments, promo boxes and story lists -> the
site's own name standing alone. What is left is the body, less what the learned
extractor (``briefing.sources.extract``, run first) did not take for article text.

Optional front matter, TOML between ``+++`` lines at the very top, lets an editor
set or override ``url``, ``publisher``, ``author``, ``published``, ``ai_generated``
(and ``title``, ``dek``, ``summary``, ``labels``, ``ai_disclosure``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from briefing.errors import NoArticleError, SeedError
from briefing.models import Article, Confidence
from briefing.normalize import (
    canonical_url,
    clean_text,
    decode_text,
    find_ai_disclosure,
    sentences,
    stable_id,
)
from briefing.sources import page
from briefing.sources.dates import DateMatch, find_date, parse_front_matter_date
from briefing.sources.extract import (
    Candidate,
    Extraction,
    FieldChoice,
    extract_html,
    extract_text,
)
from briefing.sources.page import DEFAULT_BOILERPLATE

MAX_SEED_BYTES = 5_000_000
FRONT_MATTER_KEYS = frozenset(
    {
        "url",
        "publisher",
        "author",
        "published",
        "ai_generated",
        "ai_disclosure",
        "title",
        "dek",
        "summary",
        "labels",
    }
)
DEK_MAX_WORDS = 40  # a standfirst below the byline is short; a longer paragraph is the story
_NO_AI_NOTICE = re.compile(
    r"\b(?:no|without)\b.{0,20}\b(?:ai|a\.i\.|artificial intelligence)\b.{0,40}\b(?:this|our)\b"
    r"|\b(?:this|our)\b.{0,40}\b(?:not|never)\b.{0,30}\b(?:ai|a\.i\.|artificial intelligence)\b",
    re.I,
)
_ATTRIBUTION = re.compile(r"\b(?:said|says|told|added|explained|argued)\b", re.I)
_QUOTED = re.compile(r"[“\"][^”\"]{10,}[”\"]")


@dataclass
class _Line:
    text: str
    index: int
    kind: str = "text"  # text | drop | title | dek | meta | label | aside | end
    # why a "drop" or "end" line might still be article text for the learned body model:
    # it stands above the headline the heuristics chose, or after the line they took for
    # the article's end (they are often wrong about both on real pages)
    weak: bool = False


@dataclass
class _Meta:
    title: str | None = None
    author: str | None = None
    date: DateMatch | None = None
    updated: DateMatch | None = None
    copyright_year: int | None = None
    copyright_holder: str | None = None
    site_names: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    reading_time: int | None = None
    dek: str | None = None
    ai_disclosure: str | None = None
    mastheads: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# A field of the extractor wins over the line heuristics below when it is at least this sure.
TRUST_EXTRACTOR = 0.75
HTML_SUFFIXES = (".html", ".htm")
SHORT_DUMP_LINES = 12  # a dump this short is read by the line heuristics when in doubt


class SeedParser:
    """Parses page dumps and saved HTML pages; ``extra_boilerplate`` comes from
    ``seeds.boilerplate`` in the config.

    A text dump is read twice: by the learned extractor (``briefing.sources.extract``,
    trained on real pages, which says how sure it is) and by the line heuristics below
    (precise on the furniture they know). The body is the lines both keep (``_parse_lines``
    with ``keep``). The title, author and publisher take the extractor's value when it is
    sure (confidence >= ``TRUST_EXTRACTOR``), else the heuristics' value when the
    extractor's best or runner-up candidate agrees with it (``_pick``); the date is the
    extractor's alone. The last ``Extraction`` is kept in ``last_extraction`` for callers
    that show confidences or ``--explain``.
    """

    def __init__(self, extra_boilerplate: Iterable[str] = ()) -> None:
        patterns = [*DEFAULT_BOILERPLATE, *extra_boilerplate]
        self._boilerplate = re.compile("|".join(f"(?:{p})" for p in patterns), re.I)
        self.last_extraction: Extraction | None = None

    # -- entry points ---------------------------------------------------------------------

    def parse_file(self, path: Path, *, source: str | None = None) -> Article:
        """Read, decode and parse one seed file. Raises SeedError naming the file."""
        name = source or f"seed:{path.name}"
        try:
            size = path.stat().st_size
            if size > MAX_SEED_BYTES:
                raise SeedError(
                    str(path),
                    f"file is {size:,} bytes, over the {MAX_SEED_BYTES:,}-byte limit for a seed",
                    "a seed is one article's text; split or trim the file",
                )
            data = path.read_bytes()
        except PermissionError as exc:
            raise SeedError(
                str(path), "permission denied", "make the file readable (chmod a+r)"
            ) from exc
        except IsADirectoryError as exc:
            raise SeedError(
                str(path), "is a folder, not a file", "seeds are files directly in the seeds folder"
            ) from exc
        except OSError as exc:
            raise SeedError(str(path), f"cannot be read: {exc.strerror or exc}") from exc
        if path.suffix.lower() in HTML_SUFFIXES:
            return self.parse_html(data, source=name, path=str(path))
        text, encoding = decode_seed(data, str(path))
        article = self.parse_text(text, source=name)
        if encoding not in {"utf_8", "ascii"}:
            article = replace(article, notes=(*article.notes, f"decoded as {encoding} (not UTF-8)"))
        return article

    def parse_html(
        self,
        data: bytes,
        *,
        source: str,
        path: str | None = None,
        url: str | None = None,
        charset: str | None = None,
    ) -> Article:
        """A saved page (or fetched bytes): trafilatura's body, the page's own metadata.
        ``url`` and ``charset``: where the bytes were fetched from, and the charset the
        HTTP answer declared."""
        ex = extract_html(data, url=url, name=path or source, charset=charset)
        self.last_extraction = ex
        if ex.no_article:
            raise NoArticleError(path or source, f"no article: {ex.no_article}")
        return _from_extraction(ex, source)

    def parse_text(self, text: str, *, source: str, url: str | None = None) -> Article:
        """A text dump. ``url``: the page's address when the caller knows it (the desk's
        "Paste a page" form); it comes before one the front matter or the text gives."""
        article = self._parse_text(text, source=source)
        if not url:
            return article
        address = canonical_url(url)
        if address is None:
            raise SeedError(source, f"{url!r} is not an http(s) URL", "give https://...")
        content = article.title + article.body
        return replace(
            article,
            url=address,
            id=stable_id(guid=None, url=address, scope="seed", content=content),
        )

    def _parse_text(self, text: str, *, source: str) -> Article:
        front, body_text = split_front_matter(text, source)
        ex = extract_text(clean_text(body_text), name=source, boilerplate=self._boilerplate)
        self.last_extraction = ex
        try:
            keep = set(ex.extra["body_lines"]) if ex.is_article and ex.body else None
            sure = keep is not None and ex.title.confidence >= TRUST_EXTRACTOR
            legacy = self._parse_lines(
                front, body_text, source, keep, headline=str(ex.title.value) if sure else None
            )
        except SeedError as exc:
            if not exc.reason.startswith("no headline found"):
                raise  # bad front matter, no text: the file's own fault
            if ex.no_article is None and ex.title.value is not None and not front:
                return _from_extraction(ex, source)
            if ex.no_article:
                raise NoArticleError(source, f"no article: {ex.no_article}") from None
            raise
        if ex.no_article and not front.get("title") and legacy.word_count < 150:
            paragraphs = [p for p in legacy.body.split("\n\n") if page.prose_like(p)]
            short_page = int(ex.extra.get("lines", 0)) <= SHORT_DUMP_LINES
            if not (short_page and len(paragraphs) >= 2):
                raise NoArticleError(source, f"no article: {ex.no_article}")
            # a dump of a few lines gives the body model too little to go on: a headline
            # and two paragraphs the line heuristics agree on are an article
        return _merge(legacy, ex, front)

    def _parse_lines(
        self,
        front: dict[str, Any],
        text: str,
        source: str,
        keep: set[int] | None = None,
        headline: str | None = None,
    ) -> Article:
        """The line heuristics. With ``keep`` (the lines the extractor's body model took
        for the article, counted among the non-empty lines), the body is the lines both
        readings keep: the learned model finds where the article is, the heuristics take
        out the furniture they know (AI notices, promo boxes, asides, sign-offs)."""
        lines = _to_lines(clean_text(text))
        if not lines:
            raise SeedError(
                source,
                "has no text" + (" after its front matter" if front else ""),
                "put the page's text in the file, or delete it",
            )
        meta = _Meta()
        self._furniture(lines, meta)
        self._site_bar(lines, meta)
        title_at = self._headline(lines, meta, front.get("title") or headline)
        if title_at is None:
            raise SeedError(
                source,
                "no headline found (no line looks like a title)",
                'add title = "..." in +++ front matter at the top of the file',
            )
        self._header(lines, meta, title_at)
        _tail(lines, title_at)
        _promo_boxes(lines, self._boilerplate)
        _asides(lines)
        _brand_lines(lines, meta)
        if keep is None:
            kept = [ln.text for ln in lines if ln.kind == "text"]
        else:
            kept = [
                ln.text
                for ln in lines
                if ln.index in keep
                and (ln.kind == "text" or (ln.weak and ln.kind in {"drop", "end"}))
            ]
        body = _trim_tail(kept, meta.author)
        return _article(meta, front, body, source)

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


def _agree(a: Any, b: Any) -> bool:
    """The same name read twice: equal, or one the other's first words ("The Kanto
    Shimbun" and "The Kanto Shimbun English Edition")."""
    if a is None or b is None:
        return False
    x, y = (" ".join(str(v).lower().split()).split() for v in (a, b))
    if x == y:
        return True
    short, long_ = (x, y) if len(x) < len(y) else (y, x)
    significant = [w for w in short if w not in {"the", "a", "an"}]
    return len(significant) >= 2 and long_[: len(short)] == short


# What each way of settling a field is worth: the share of right values among the corpus
# pages (../shared/extract-corpus, scored as scripts/bench_extract.py does) settled that
# way. Two readings that agree on the extractor's best: 5 of 8; on its runner-up: 3 of 9;
# the heuristics alone (bylines): 1 of 1, too few to trust, so it stays flagged. The
# samples are small: these numbers say "probably" and "maybe", no more.
SETTLED_CONFIDENCE = {"agree": 0.6, "runner-up": 0.35, "heuristics": 0.4}


def _pick(choice: FieldChoice, legacy: Any, *, fallback: bool) -> tuple[Any, str]:
    """The learned extractor's value when it is sure; else the line heuristics' value when
    the extractor's own best or runner-up candidate agrees with it (two independent
    readings of the page); else, with ``fallback``, the heuristics' value; else the
    extractor's (an uncertain value is flagged as such downstream). With the value, how
    it was settled: "sure", "agree", "runner-up", "heuristics" or "unsure"."""
    if choice.value is not None and choice.confidence >= TRUST_EXTRACTOR:
        return choice.value, "sure"
    if legacy is not None and _agree(legacy, choice.value):
        return legacy, "agree"
    if legacy is not None and choice.runner_up and _agree(legacy, choice.runner_up.value):
        return legacy, "runner-up"
    if fallback and legacy is not None:
        return legacy, "heuristics"
    return choice.value, "unsure"


def _settle(choice: FieldChoice, value: Any, how: str) -> FieldChoice:
    """The field as stored, explained: what the extractor chose, and what changed it."""
    if how in {"sure", "unsure"}:
        return choice
    if how == "front":
        return FieldChoice(
            choice.name,
            value,
            1.0,
            "set in the seed's front matter",
            chosen=Candidate(value, 0.0, "front matter"),
            runner_up=choice.chosen or choice.runner_up,  # what the extractor would have said
            refused=choice.refused,
        )
    if how == "agree":
        sure = max(choice.confidence, SETTLED_CONFIDENCE["agree"])
        reason = f"{choice.reason}; the line heuristics read the same"
        chosen = replace(choice.chosen, value=value) if choice.chosen else None
        return replace(choice, value=value, confidence=sure, reason=reason, chosen=chosen)
    if how == "runner-up":
        assert choice.runner_up is not None
        return FieldChoice(
            choice.name,
            value,
            SETTLED_CONFIDENCE["runner-up"],
            "the line heuristics' reading, "
            + (
                "which the extractor ranked second"
                if choice.value is not None
                else "the extractor's best candidate, though under its threshold"
            ),
            chosen=replace(choice.runner_up, value=value),
            runner_up=choice.chosen,
            refused=choice.refused,
        )
    return FieldChoice(  # "heuristics": the extractor abstained or was unsure
        choice.name,
        value,
        SETTLED_CONFIDENCE["heuristics"],
        "the line heuristics' reading; the extractor "
        + ("was unsure of its own" if choice.value is not None else "found none"),
        chosen=Candidate(value, 0.0, "line heuristics"),
        runner_up=choice.chosen or choice.runner_up,
        refused=choice.refused,
    )


def _merge(legacy: Article, ex: Extraction, front: dict[str, Any]) -> Article:
    """Title, author and publisher: see ``_pick``. The date is the extractor's alone: it
    never takes one from a nav bar, a related list or a comment, and the line heuristics'
    dates add nothing to it on real pages (measured: they invent two). The body holds the
    lines both readings keep (``_parse_lines``). The article carries the extraction as
    settled (``_settle``): each field's confidence and why."""
    settled: dict[str, FieldChoice] = {}
    values: dict[str, Any] = {}
    for name, fallback in (("title", False), ("author", True), ("publisher", False)):
        choice: FieldChoice = getattr(ex, name)
        mine = getattr(legacy, name)
        value, how = (mine, "front") if name in front else _pick(choice, mine, fallback=fallback)
        values[name] = value
        settled[name] = _settle(choice, value, how)
    published = legacy.published if "published" in front else ex.published.value
    if isinstance(published, datetime) and published.tzinfo is not None:
        published = published.astimezone(UTC)
    published = published if isinstance(published, date) else None
    settled["published"] = (
        _settle(ex.published, published, "front") if "published" in front else ex.published
    )
    url = legacy.url or (canonical_url(ex.url) if ex.url else None)
    stored = replace(ex, **settled)  # type: ignore[arg-type]
    if url and not legacy.url:  # the text shows its URL: the id follows it, as front matter's
        content = str(values["title"]) + legacy.body
        legacy = replace(legacy, id=stable_id(guid=None, url=url, scope="seed", content=content))
    return replace(
        legacy,
        title=str(values["title"]),
        author=values["author"],
        publisher=values["publisher"],
        published=published,
        url=url,
        **provenance(stored),
    )


def provenance(ex: Extraction) -> dict[str, Any]:
    """An article's ``confidence`` and ``extraction`` from the extraction that made it."""
    return {
        "confidence": {f.name: Confidence(f.confidence, f.reason) for f in ex.fields()},
        "extraction": ex.to_json(),
    }


def _from_extraction(ex: Extraction, source: str) -> Article:
    """An Article from the extractor alone (HTML pages; dumps the line heuristics cannot read)."""
    body = ex.body
    url = canonical_url(ex.url) if ex.url else None
    title = str(ex.title.value)
    published = ex.published.value
    if isinstance(published, datetime) and published.tzinfo is not None:
        published = published.astimezone(UTC)
    disclosure = find_ai_disclosure(body[:3000]) if body else None
    first = body.split("\n\n")[0] if body else ""
    return Article(
        id=stable_id(guid=None if url else source, url=url, scope="seed", content=title + body),
        source_kind="seed",
        source=source,
        title=title,
        url=url,
        publisher=ex.publisher.text,
        author=ex.author.text,
        published=published if isinstance(published, date) else None,
        summary=_first_sentences(first) if first else "",
        body=body,
        reading_time_min=ex.reading_time_min,
        ai_generated=disclosure is not None,
        ai_disclosure=disclosure,
        notes=ex.notes,
        **provenance(ex),
    )


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


def _trim_tail(body: list[str], author: str | None) -> list[str]:
    """Drop what trails the last paragraph: tag lists, follow buttons, the author's bio."""
    while body and not page.prose_like(body[-1]):
        body.pop()  # a subheading is always followed by prose; these lines are not
    if author and body:
        first = author.split(" and ")[0].split(",")[0].strip()
        if first and re.match(rf"{re.escape(first)} (?:is|was|writes|covers|has been)\b", body[-1]):
            body.pop()
    return body


def _tail(lines: list[_Line], title_at: int) -> None:
    """Once the article has started, nothing after the comments, a sign-off ("Reporting by
    ..."), an end mark ("###") or an author bio heading is the article."""
    started = False
    ending = False
    for ln in lines:
        if ln.index <= title_at:
            continue
        if ln.kind == "text" and page.prose_like(ln.text):
            started = True
        if (
            not ending
            and started
            and ln.kind in {"text", "drop"}
            and (page.ARTICLE_END.fullmatch(ln.text) or page.PUBLISHED_IN.fullmatch(ln.text))
        ):
            ending = True
        elif ending:
            ln.weak = ln.kind == "text"
        if ending:
            ln.kind = "end"


def _promo_boxes(lines: list[_Line], boilerplate: re.Pattern[str]) -> None:
    """'Get the X newsletter / Every Friday. / Sign up': the lines above a call to action."""
    for at, ln in enumerate(lines):
        if ln.kind not in {"text", "drop"} or not page.CALL_TO_ACTION.fullmatch(ln.text):
            continue
        ln.kind = "drop"
        back = at - 1
        taken = 0
        while back >= 0 and taken < 4:
            prev = lines[back]
            back -= 1
            if prev.kind == "drop":
                continue
            if prev.kind != "text":
                break
            promo = page.PROMO_WORDS.search(prev.text) and page.word_count(prev.text) <= 40
            short_heading = (
                page.word_count(prev.text) <= 8 and page.headline_like(prev.text) and taken == 0
            )
            if not (promo or short_heading):
                break
            prev.kind = "drop"
            taken += 1


def _asides(lines: list[_Line]) -> None:
    """'Most read', 'Related Posts': skip the list of headlines after the heading."""
    skipping = False
    for ln in lines:
        if ln.kind in {"text", "drop"} and page.ASIDE_HEADING.fullmatch(ln.text):
            ln.kind = "aside"
            skipping = True
            continue
        if not skipping or ln.kind != "text":
            continue
        if page.statement_like(ln.text):
            skipping = False
        else:
            ln.kind = "aside"


def _brand_lines(lines: list[_Line], meta: _Meta) -> None:
    """A line that is just the site's name (a logo, an ad slot's label) is furniture."""
    brands: set[str] = set()
    for name in (*meta.site_names, meta.copyright_holder):
        words = (name or "").split()
        brands.update(" ".join(words[:k]).lower() for k in range(1, len(words) + 1))
    for ln in lines:
        if ln.kind == "text" and page.word_count(ln.text) <= 4 and ln.text.lower() in brands:
            ln.kind = "drop"


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


def _label_case(text: str) -> str:
    """'ASIA-PACIFIC' -> 'Asia-Pacific'; 'AI Analysis' stays."""
    return text.title() if page.all_caps(text) and len(text) > 4 else text


def _unique(items: list[str]) -> list[str]:
    return list({item.lower(): item for item in reversed(items)}.values())[::-1]


# -- files and front matter ----------------------------------------------------------------


def decode_seed(data: bytes, name: str) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else the encoding charset-normalizer detects."""
    if not data.strip():
        raise SeedError(name, "is empty", "put the page's text in the file, or delete it")
    decoded = decode_text(data)
    if decoded is None:
        raise SeedError(
            name,
            "is a binary file, not text in any encoding we can detect",
            "seeds are plain-text page dumps; save the page's text as UTF-8",
        )
    return decoded


def split_front_matter(text: str, source: str) -> tuple[dict[str, Any], str]:
    stripped = text.lstrip("\ufeff")
    lines = stripped.split("\n")
    if not lines or lines[0].strip() != "+++":
        return {}, text
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "+++"), None)
    if end is None:
        raise SeedError(
            source,
            "front matter opened with +++ on line 1 is never closed",
            "add a line with +++ after the front matter",
        )
    try:
        front = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as exc:
        raise SeedError(
            source,
            f"front matter is not valid TOML: {exc}",
            "fix the front matter between the +++ lines",
        ) from exc
    unknown = sorted(set(front) - FRONT_MATTER_KEYS)
    if unknown:
        raise SeedError(
            source,
            f"front matter has unknown key(s): {', '.join(unknown)}",
            f"use only: {', '.join(sorted(FRONT_MATTER_KEYS))}",
        )
    if "ai_generated" in front and not isinstance(front["ai_generated"], bool):
        raise SeedError(source, "front matter ai_generated must be true or false")
    labels = front.get("labels", [])
    if not (isinstance(labels, list) and all(isinstance(x, str) for x in labels)):
        raise SeedError(source, "front matter labels must be a list of strings")
    return front, "\n".join(lines[end + 1 :])


def _to_lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    for raw in text.split("\n"):
        t = " ".join(raw.split())
        if t:
            out.append(_Line(text=t, index=len(out)))
    return out


__all__ = [
    "DEFAULT_BOILERPLATE",
    "HTML_SUFFIXES",
    "SeedParser",
    "decode_seed",
    "split_front_matter",
]
