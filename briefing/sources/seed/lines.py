"""A dump's lines as the passes mark them (``_Line``), and what the header tells of the
article (``_Meta``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from briefing.sources.dates import DateMatch


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


def _to_lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    for raw in text.split("\n"):
        t = " ".join(raw.split())
        if t:
            out.append(_Line(text=t, index=len(out)))
    return out
