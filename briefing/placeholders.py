"""The per-recipient placeholders of a rendered issue, and the one way to find them.

Rendering (render/compile.py) leaves these markers where each recipient's values go;
composing (deliver/compose.py) splices the values in for every message. Both split and
fill text with the functions here, so the markers are defined once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

PLACEHOLDERS = {
    "unsubscribe": "@@=UNSUBSCRIBE_URL=@@",
    "preferences": "@@=PREFERENCES_URL=@@",
    "name": "@@=NAME=@@",
}

_PATTERN = re.compile("(" + "|".join(re.escape(p) for p in PLACEHOLDERS.values()) + ")")
_SLOTS = {marker: slot for slot, marker in PLACEHOLDERS.items()}


def split(text: str) -> list[str]:
    """``text`` cut at the placeholders: literal parts (even indexes) and slot names
    (odd indexes: "unsubscribe", "preferences", "name") alternate."""
    pieces = _PATTERN.split(text)
    return [_SLOTS[p] if i % 2 else p for i, p in enumerate(pieces)]


def join(parts: Sequence[str]) -> list[str]:
    """split()'s parts with the placeholders put back (``"".join`` gives the text)."""
    return [PLACEHOLDERS[p] if i % 2 else p for i, p in enumerate(parts)]


def contains(text: str) -> bool:
    """Does ``text`` hold a placeholder?"""
    return _PATTERN.search(text) is not None


def fill(text: str, value: Callable[[str], str]) -> str:
    """``text`` with each placeholder replaced by ``value(slot name)``."""
    return _PATTERN.sub(lambda m: value(_SLOTS[m.group(1)]), text)
