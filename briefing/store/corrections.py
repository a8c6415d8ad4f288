"""Editors' corrections of article fields in the database: record one, the newest per
field (what wins over a re-ingest), and an article's whole history of them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, insert, select

from briefing.corrections import Correction, Value, from_json_value, to_json_value
from briefing.store.schema import article_corrections

_CHUNK = 500


def record(conn: Connection, article_id: str, correction: Correction) -> None:
    conn.execute(
        insert(article_corrections).values(
            article_id=article_id,
            field=correction.field,
            value=to_json_value(correction.value),
            previous=to_json_value(correction.previous),
            by=correction.by,
            at=correction.at,
        )
    )


def _correction(row: object) -> Correction:
    field = str(row.field)  # type: ignore[attr-defined]
    at: datetime = row.at  # type: ignore[attr-defined]
    value: Value = from_json_value(field, row.value)  # type: ignore[attr-defined]
    previous: Value = from_json_value(field, row.previous)  # type: ignore[attr-defined]
    return Correction(field, value, previous, str(row.by), at)  # type: ignore[attr-defined]


def history(conn: Connection, article_id: str) -> list[Correction]:
    """Every correction of the article, oldest first."""
    rows = conn.execute(
        select(article_corrections)
        .where(article_corrections.c.article_id == article_id)
        .order_by(article_corrections.c.id)
    )
    return [_correction(r) for r in rows]


def histories(conn: Connection, ids: Iterable[str]) -> dict[str, list[Correction]]:
    """``history`` for many articles at once (those with none are left out)."""
    wanted = sorted(set(ids))
    out: dict[str, list[Correction]] = {}
    for i in range(0, len(wanted), _CHUNK):
        rows = conn.execute(
            select(article_corrections)
            .where(article_corrections.c.article_id.in_(wanted[i : i + _CHUNK]))
            .order_by(article_corrections.c.id)
        )
        for r in rows:
            out.setdefault(r.article_id, []).append(_correction(r))
    return out


def standing(conn: Connection, ids: Iterable[str]) -> dict[str, dict[str, Correction]]:
    """Per article, the newest correction of each field: what its stored row must show."""
    return {
        article_id: {c.field: c for c in found}  # oldest first, so the newest stays
        for article_id, found in histories(conn, ids).items()
    }
