"""What an extraction returns: each field with its confidence and the reasons behind it.

An ``Extraction`` is plain data. The chosen value of each of title, author, published
and publisher is a ``FieldChoice`` carrying a confidence (0..1), whether that is below
the threshold for trusting it (``uncertain``), the rule or features that won, and the
runner-up it beat. ``dropped`` lists the blocks of the page that were left out of the
body and why. ``explain()`` prints all of it for people; ``to_json()`` for programs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from briefing.models import UNCERTAIN_BELOW as UNCERTAIN_BELOW

FieldName = Literal["title", "author", "published", "publisher"]
FIELDS: tuple[FieldName, ...] = ("title", "author", "published", "publisher")
# Below UNCERTAIN_BELOW (briefing.models: one threshold for every stage) a field is
# returned but flagged: the later stages show "title uncertain".


@dataclass(frozen=True)
class Candidate:
    """One possible value of a field, where it was found and how it scored."""

    value: str | date | datetime | None
    score: float
    source: str  # "line 12", "json-ld", "og:title", "<h1>", "trafilatura", ...
    why: tuple[
        str, ...
    ] = ()  # the features that counted, strongest first: "+3.0 right above the byline"
    line: int | None = None  # 1-based line of the text dump it came from

    def to_json(self) -> dict[str, Any]:
        return {
            "value": _json_value(self.value),
            "score": round(self.score, 2),
            "source": self.source,
            "why": list(self.why),
            "line": self.line,
        }


@dataclass(frozen=True)
class FieldChoice:
    """The value kept for one field (None when nothing qualified), its confidence and why."""

    name: FieldName
    value: str | date | datetime | None
    confidence: float
    reason: str  # one sentence: the rule that won, or why nothing was kept
    chosen: Candidate | None = None
    runner_up: Candidate | None = None
    refused: tuple[
        str, ...
    ] = ()  # candidates refused outright, with the rule: "2019-03-01 (line 9): in a related list"

    @property
    def uncertain(self) -> bool:
        return self.value is not None and self.confidence < UNCERTAIN_BELOW

    @property
    def text(self) -> str | None:
        if self.value is None:
            return None
        if isinstance(self.value, datetime | date):
            return self.value.isoformat()
        return self.value

    def to_json(self) -> dict[str, Any]:
        return {
            "value": _json_value(self.value),
            "confidence": round(self.confidence, 2),
            "uncertain": self.uncertain,
            "reason": self.reason,
            "chosen": self.chosen.to_json() if self.chosen else None,
            "runner_up": self.runner_up.to_json() if self.runner_up else None,
            "refused": list(self.refused),
        }


def nothing(name: FieldName, reason: str, refused: tuple[str, ...] = ()) -> FieldChoice:
    return FieldChoice(name, None, 0.0, reason, refused=refused)


@dataclass(frozen=True)
class Block:
    """A run of lines of a text dump (1-based, inclusive) and what it was taken for."""

    first: int
    last: int
    kind: str  # navigation | header | body | related | comments | footer | furniture
    reason: str
    preview: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": [self.first, self.last],
            "kind": self.kind,
            "reason": self.reason,
            "preview": self.preview,
        }


@dataclass(frozen=True)
class Extraction:
    """One page read by the text-dump or the HTML path."""

    name: str  # the file or URL it came from
    kind: Literal["text", "html"]
    title: FieldChoice
    author: FieldChoice
    published: FieldChoice
    publisher: FieldChoice
    body: str = ""  # paragraphs separated by blank lines
    no_article: str | None = None  # why this page holds no article; None when it does
    url: str | None = None
    lang: str | None = None
    dek: str | None = None
    labels: tuple[str, ...] = ()
    reading_time_min: int | None = None
    dropped: tuple[Block, ...] = ()
    notes: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_article(self) -> bool:
        return self.no_article is None

    def fields(self) -> tuple[FieldChoice, ...]:
        return (self.title, self.author, self.published, self.publisher)

    def confidence(self) -> dict[str, float]:
        """``{title, author, published, publisher}`` -> 0..1, as ``articles --json`` shows it."""
        return {f.name: round(f.confidence, 2) for f in self.fields()}

    def uncertain(self) -> list[str]:
        return [f.name for f in self.fields() if f.uncertain]

    def explain(self) -> str:
        """Why each field was chosen and which blocks were dropped, for people."""
        out = [f"{self.name} ({self.kind} path, language {self.lang or '?'})"]
        if self.no_article:
            out.append(f"  no article: {self.no_article}")
        for f in self.fields():
            flag = "  UNCERTAIN" if f.uncertain else ""
            out.append(f"  {f.name}: {f.text!r}  confidence {f.confidence:.2f}{flag}")
            out.append(f"    because {f.reason}")
            if f.chosen:
                out.append(f"    from {f.chosen.source}: " + "; ".join(f.chosen.why[:4]))
            if f.runner_up:
                r = f.runner_up
                out.append(f"    runner-up {_show(r.value)!r} ({r.source}, score {r.score:.1f} vs "
                           f"{f.chosen.score if f.chosen else 0:.1f})")  # fmt: skip
            for refused in f.refused[:5]:
                out.append(f"    refused {refused}")
        words = len(self.body.split())
        out.append(f"  body: {words} words")
        for b in self.dropped:
            out.append(f"  dropped lines {b.first}-{b.last} ({b.kind}): {b.reason}"
                       + (f"  «{b.preview}»" if b.preview else ""))  # fmt: skip
        out.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(out)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "no_article": self.no_article,
            "url": self.url,
            "lang": self.lang,
            "fields": {f.name: f.to_json() for f in self.fields()},
            "confidence": self.confidence(),
            "body_words": len(self.body.split()),
            "dropped": [b.to_json() for b in self.dropped],
            "notes": list(self.notes),
        }


def _json_value(value: str | date | datetime | None) -> str | None:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _show(value: str | date | datetime | None) -> str | None:
    return _json_value(value)
