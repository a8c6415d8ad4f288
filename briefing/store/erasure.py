"""Erasing a person's address and name from free text in every table (GDPR Art. 17).

The subscriber row itself is cleared by the caller; this finds the other places an address
or a name lands: a server's refusal kept in ``outbox.last_error``, the details of
``bounced`` and every other event, a paused run's reason, the scheduler's events, an
editor's note. Every text and JSON column of every table is searched (so a table added
later is covered without a change here), except the ones listed in KEPT.

- The address, in each of its forms (as written, its punycode domain), with a display name
  around it (``"Eve" <eve@example.org>``), is replaced everywhere.
- The name alone is replaced in that person's own rows (their events, their outbox rows),
  not elsewhere: a name is a common word in other people's text (an article, a subject).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Column, Connection, Table, Text, cast, false, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import String

from briefing.store.schema import metadata

REPLACEMENT = "[forgotten]"
# Left as they are: ingested public content (read again from its sources), the editor
# accounts and who did each editorial act (approved_by, an issue event's actor, who
# corrected an article: the record of editorial responsibility), and rows that never hold free text about a person.
KEPT: dict[str, tuple[str, ...] | None] = {
    "articles": None,
    "sources": None,
    "editors": None,
    "key_fingerprints": None,
    "suppressions": None,
    "locks": None,
    "issues": ("approved_by",),
    "issue_events": ("actor",),
    "article_corrections": ("by",),  # who corrected an article: editorial responsibility
}
# an address's characters, so that eve@example.org is not found inside steve@example.org
_LOCAL = r"A-Za-z0-9.!#$%&'*+/=?^_`{|}~-"


def address_pattern(forms: Sequence[str], name: str | None) -> re.Pattern[str]:
    """Any of the address's forms, with the display name and angle brackets around it."""
    alternatives = "|".join(re.escape(f) for f in sorted(set(forms), key=len, reverse=True))
    display = rf'(?:"?[ \t]*{re.escape(name)}[ \t]*"?[ \t]*)?' if name else ""
    return re.compile(
        rf"{display}<?(?<![{_LOCAL}])(?:{alternatives})(?![A-Za-z0-9-]|\.[A-Za-z0-9-])>?",
        re.IGNORECASE,
    )


def name_pattern(name: str) -> re.Pattern[str]:
    start = r"(?<!\w)" if re.match(r"\w", name) else ""
    end = r"(?!\w)" if re.search(r"\w$", name) else ""
    return re.compile(f"{start}{re.escape(name)}{end}", re.IGNORECASE)


def _needles(texts: Sequence[str]) -> list[str]:
    """What to look for in SQL: each text as written and as JSON escapes it (non-ASCII)."""
    out: set[str] = set()
    for text in texts:
        out.add(text.lower())
        out.add(json.dumps(text)[1:-1].lower())
    return sorted(out)


def _clean(value: Any, patterns: Sequence[re.Pattern[str]]) -> Any:
    if isinstance(value, str):
        for pattern in patterns:
            value = pattern.sub(REPLACEMENT, value)
        return value
    if isinstance(value, list):
        return [_clean(v, patterns) for v in value]
    if isinstance(value, dict):
        return {_clean(k, patterns): _clean(v, patterns) for k, v in value.items()}
    return value


def _text_columns(table: Table) -> list[Column[Any]]:
    kept = KEPT.get(table.name, ())
    if kept is None:
        return []
    return [
        c
        for c in table.columns
        if isinstance(c.type, (String, JSON)) and not c.primary_key and c.name not in kept
    ]


def _scrub(
    conn: Connection,
    table: Table,
    column: Column[Any],
    needles: Sequence[str],
    patterns: Sequence[re.Pattern[str]],
    where: ColumnElement[bool] | None = None,
) -> int:
    keys = list(table.primary_key.columns)
    found = or_(
        false(), *(func.lower(cast(column, Text)).contains(n, autoescape=True) for n in needles)
    )
    query = select(*keys, column).where(column.is_not(None), found)
    if where is not None:
        query = query.where(where)
    changed = 0
    for row in conn.execute(query).all():
        value = row[-1]
        clean = _clean(value, patterns)
        if clean != value:
            conn.execute(
                update(table)
                .where(*(k == row[i] for i, k in enumerate(keys)))
                .values({column.name: clean})
            )
            changed += 1
    return changed


def erase(conn: Connection, forms: Sequence[str], name: str | None, subscriber_id: int) -> int:
    """Replace the person's address (every form) everywhere, and their name in their own
    rows. Returns how many cells changed."""
    name = (name or "").strip() or None
    everywhere = [address_pattern(forms, name)]
    theirs = [*everywhere, *([name_pattern(name)] if name and len(name) > 1 else [])]
    changed = 0
    for table in metadata.sorted_tables:
        columns = _text_columns(table)
        for column in columns:
            changed += _scrub(conn, table, column, _needles(forms), everywhere)
        own = table.c.get("subscriber_id")
        if own is not None and len(theirs) > len(everywhere) and name is not None:
            for column in columns:
                changed += _scrub(
                    conn, table, column, _needles([name]), theirs, own == subscriber_id
                )
    return changed
