"""clean the header-bound text already stored: names, subjects, preheaders, titles

Before this revision a name with CR/LF (from the form, a CSV file or the CLI) was stored as
given and reached the To header. The entry points now clean such text; this revision
cleans what is already in the database with the same function (briefing.headertext): the
names of subscribers and editors, issue subjects, preheaders and notes, the titles kept
with an issue's stories, and article titles, publishers and authors. Only rows that change
are written. No schema change; nothing to undo on downgrade.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 03:00:00
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from briefing.headertext import (
    PREHEADER_MAX,
    SUBJECT_MAX,
    TITLE_MAX,
    header_text,
    name_text,
    note_text,
)

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BATCH = 1000
Cleaner = Callable[[Any], Any]


def _optional(clean: Callable[[str], str]) -> Cleaner:
    return lambda v: None if v is None else (clean(v) or None)


def _pages(conn: sa.Connection, table: sa.TableClause, key: str) -> Iterator[list[Any]]:
    """Rows in key order, a page at a time (no cursor stays open across the updates)."""
    last: Any = None
    while True:
        query = sa.select(table).order_by(table.c[key]).limit(BATCH)
        if last is not None:
            query = query.where(table.c[key] > last)
        rows = list(conn.execute(query))
        if not rows:
            return
        yield rows
        last = getattr(rows[-1], key)


def _clean(name: str, keys: tuple[str, ...], columns: dict[str, Cleaner]) -> None:
    conn = op.get_bind()
    table = sa.table(name, *(sa.column(c) for c in (*keys, *columns)))
    if len(keys) == 1:
        pages: Iterator[list[Any]] = _pages(conn, table, keys[0])
    else:  # a small table with a composite key: read whole
        pages = iter([list(conn.execute(sa.select(table)))])
    for rows in pages:
        for row in rows:
            changed = {
                col: clean(getattr(row, col))
                for col, clean in columns.items()
                if clean(getattr(row, col)) != getattr(row, col)
            }
            if changed:
                where = sa.and_(*(table.c[k] == getattr(row, k) for k in keys))
                conn.execute(sa.update(table).where(where).values(**changed))


def upgrade() -> None:
    _clean("subscribers", ("id",), {"name": name_text})
    _clean("editors", ("id",), {"name": name_text})
    _clean(
        "issues",
        ("id",),
        {
            "subject": lambda v: header_text(v, SUBJECT_MAX),
            "preheader": lambda v: header_text(v, PREHEADER_MAX),
            "editor_note": _optional(note_text),
        },
    )
    _clean(
        "issue_stories", ("issue_id", "story_key"), {"title": lambda v: header_text(v, TITLE_MAX)}
    )
    _clean(
        "articles",
        ("id",),
        {
            "title": lambda v: header_text(v, TITLE_MAX) or "(untitled)",  # never left empty
            "publisher": name_text,
            "author": name_text,
        },
    )


def downgrade() -> None:
    pass  # cleaned text stays clean: the old values were the bug
