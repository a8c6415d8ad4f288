"""``SeedParser``: the entry points (a seed file, a saved HTML page, a text dump) and the
order the line heuristics' passes run in (``_parse_lines``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from briefing.errors import NoArticleError, SeedError
from briefing.models import Article
from briefing.normalize import canonical_url, clean_text, stable_id
from briefing.sources import page
from briefing.sources.extract import Extraction, extract_html, extract_text
from briefing.sources.page import DEFAULT_BOILERPLATE
from briefing.sources.seed.article import _article
from briefing.sources.seed.files import MAX_SEED_BYTES, decode_seed, split_front_matter
from briefing.sources.seed.header import LinePasses
from briefing.sources.seed.lines import _Meta, _to_lines
from briefing.sources.seed.lists import _asides, _brand_lines, _promo_boxes, _tail, _trim_tail
from briefing.sources.seed.merge import TRUST_EXTRACTOR, _from_extraction, _merge

HTML_SUFFIXES = (".html", ".htm")
SHORT_DUMP_LINES = 12  # a dump this short is read by the line heuristics when in doubt


class SeedParser(LinePasses):
    """Parses page dumps and saved HTML pages; ``extra_boilerplate`` comes from
    ``seeds.boilerplate`` in the config.

    A text dump is read twice: by the learned extractor (``briefing.sources.extract``,
    trained on real pages, which says how sure it is) and by the line heuristics (``header``,
    ``lists``: precise on the furniture they know). The body is the lines both keep (``_parse_lines``
    with ``keep``). The title, author and publisher take the extractor's value when it is
    sure (confidence >= ``TRUST_EXTRACTOR``), else the heuristics' value when the
    extractor's best or runner-up candidate agrees with it (``merge._pick``); the date is the
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
