"""The learned extractor's fields merged with the line heuristics' (``_pick``, ``_settle``),
and an article from the extractor alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from briefing.models import Article, Confidence
from briefing.normalize import canonical_url, find_ai_disclosure, stable_id
from briefing.sources.extract import Candidate, Extraction, FieldChoice
from briefing.sources.seed.article import _first_sentences

# A field of the extractor wins over the line heuristics when it is at least this sure.
TRUST_EXTRACTOR = 0.75


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
