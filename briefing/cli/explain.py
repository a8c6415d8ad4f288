"""How an article's fields were read, for people (`briefing article ID --explain`) and for
programs (the ``confidence``, ``uncertain``, ``confidence_reasons``, ``corrections`` and
``extraction`` fields of `article --json` and `articles --json`).

Everything comes from what ingest stored with the article (``Extraction.to_json()`` and
the per-field confidences) and the editors' corrections, so an explanation is the one of
the reading that made the stored values, not of a new one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from briefing.corrections import Correction
from briefing.models import CONFIDENCE_FIELDS, Article

MAX_WHY = 4  # feature contributions shown per candidate (the JSON has them all)
MAX_REFUSED = 5


def confidence_json(a: Article) -> dict[str, float | None]:
    """``{title, author, published, publisher}`` -> 0..1; null for a row stored before
    confidences were kept (the next ingest of its source fills it)."""
    return {f: (a.confidence[f].value if f in a.confidence else None) for f in CONFIDENCE_FIELDS}


def extra_json(
    a: Article, corrections: Sequence[Correction], *, full: bool = False
) -> dict[str, Any]:
    """The fields `--json` adds to an article (new fields only: the others stay as they were)."""
    out: dict[str, Any] = {
        "confidence": confidence_json(a),
        "uncertain": a.uncertain(),
        "confidence_reasons": {
            f: (a.confidence[f].reason if f in a.confidence else None) for f in CONFIDENCE_FIELDS
        },
        "corrections": [c.to_json() for c in corrections],
    }
    if full:
        out["extraction"] = dict(a.extraction) if a.extraction is not None else None
    return out


def show_value(value: Any) -> str:
    """A field's value for people: text quoted, a date in ISO form, none, true/false."""
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return repr(value) if isinstance(value, str) else str(value)


_show = show_value


def explain(a: Article, corrections: Sequence[Correction]) -> str:
    """Why each of title, author, published and publisher holds its value, with the rule
    or features that won, the runner-up, the candidates refused, and the blocks of the
    page left out of the body; corrections say who made them, when, and what they replaced."""
    ex = a.extraction
    standing: dict[str, Correction] = {c.field: c for c in corrections}
    out = [f"{a.title}", f"  id {a.id} · {a.source_kind} · {a.source}"]
    if ex is None and a.source_kind == "feed":
        out.append("  read from a feed: each field is what the feed declares")
    elif ex is None:
        out.append(
            "  stored before Briefing kept explanations: ingest its source again to see them"
        )
    else:
        out.append(
            f"  read by the {ex.get('kind', '?')} path (language {ex.get('lang') or '?'})"
            + (f" from {ex['name']}" if ex.get("name") else "")
        )
    fields: Mapping[str, Any] = (ex or {}).get("fields") or {}
    for name in CONFIDENCE_FIELDS:
        out.extend(_field(a, name, fields.get(name), standing.get(name)))
    if "ai_generated" in standing:
        c = standing["ai_generated"]
        out.append(
            f"ai_generated: {_show(c.value)}  corrected by {c.by} on {c.at:%Y-%m-%d %H:%M} UTC "
            f"(was {_show(c.previous)})"
        )
    if ex is not None:
        out.append(f"body: {ex.get('body_words', a.word_count)} words")
        for block in ex.get("dropped") or []:
            first, last = (block.get("lines") or [0, 0])[:2]
            preview = f"  «{block['preview']}»" if block.get("preview") else ""
            out.append(
                f"  dropped lines {first}-{last} ({block.get('kind')}): {block.get('reason')}"
                + preview
            )
        out.extend(f"  note: {n}" for n in ex.get("notes") or [])
    if len(corrections) > len(standing):
        out.append("corrections, oldest first:")
        out.extend(
            f"  {c.at:%Y-%m-%d %H:%M} UTC {c.by}: {c.field} {_show(c.previous)} -> {_show(c.value)}"
            for c in corrections
        )
    return "\n".join(out)


def _field(
    a: Article, name: str, read: Mapping[str, Any] | None, fixed: Correction | None
) -> list[str]:
    value = getattr(a, name)
    shown = value.isoformat() if hasattr(value, "isoformat") else _show(value)
    said = a.confidence.get(name)
    conf = f"confidence {said.value:.2f}" if said else "confidence unknown"
    flag = "  UNCERTAIN" if name in a.uncertain() else ""
    lines = [f"{name}: {shown}  {conf}{flag}"]
    if fixed is not None:
        lines.append(
            f"    corrected by {fixed.by} on {fixed.at:%Y-%m-%d %H:%M} UTC "
            f"(was {_show(fixed.previous)})"
        )
    elif said is not None:
        lines.append(f"    because {said.reason}")
    if read is None:
        return lines
    if fixed is not None:  # what the extractor itself had said
        lines.append(
            f"    the extractor read {_show(read.get('value'))} "
            f"(confidence {float(read.get('confidence') or 0):.2f}): {read.get('reason')}"
        )
    chosen = read.get("chosen")
    if chosen:
        why = "; ".join((chosen.get("why") or [])[:MAX_WHY])
        lines.append(f"    from {chosen.get('source')}" + (f": {why}" if why else ""))
    runner = read.get("runner_up")
    if runner and chosen:
        lines.append(
            f"    runner-up {_show(runner.get('value'))} ({runner.get('source')}, "
            f"score {float(runner.get('score') or 0):.1f} vs {float(chosen.get('score') or 0):.1f})"
        )
    elif runner:  # nothing was kept: the best candidate fell short
        lines.append(
            f"    best candidate {_show(runner.get('value'))} ({runner.get('source')}, "
            f"score {float(runner.get('score') or 0):.1f}), not kept"
        )
    lines.extend(f"    refused {r}" for r in (read.get("refused") or [])[:MAX_REFUSED])
    return lines
