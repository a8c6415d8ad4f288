"""Seed files: the size limit, decoding one, and its TOML front matter."""

from __future__ import annotations

import tomllib
from typing import Any

from briefing.errors import SeedError
from briefing.normalize import decode_text

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
