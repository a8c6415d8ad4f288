"""Articles and sources in the database: upsert without duplicates, list, look up.

Portable SQL only (no SQLite-only statements): the same code runs on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import Connection, bindparam, func, insert, or_, select, update

from briefing.corrections import apply as apply_corrections
from briefing.models import Article, Confidence, digest, published_iso
from briefing.store.corrections import standing
from briefing.store.schema import articles, sources

Outcome = Literal["new", "updated", "unchanged", "duplicate"]
_CHUNK = 500


@dataclass(frozen=True)
class UpsertResult:
    outcomes: dict[str, Outcome]

    def count(self, outcome: Outcome) -> int:
        return sum(1 for o in self.outcomes.values() if o == outcome)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _published_at(value: date | datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def confidence_json(a: Article) -> dict[str, dict[str, Any]] | None:
    if not a.confidence:
        return None
    return {k: {"value": c.value, "reason": c.reason} for k, c in a.confidence.items()}


def _confidence(value: Any) -> dict[str, Confidence]:
    if not isinstance(value, dict):
        return {}
    return {
        k: Confidence(float(v.get("value", 0.0)), str(v.get("reason", "")))
        for k, v in value.items()
        if isinstance(v, dict)
    }


def stored_hash(a: Article) -> str:
    """What tells a stored row from a new reading of its source: what a reader sees
    (``content_hash``) and, when known, how sure ingest is of it and why, so that a row
    stored before confidences existed (or under another model) is updated."""
    if not a.confidence and a.extraction is None:
        return a.content_hash
    said = "|".join(f"{k}={c.value}:{c.reason}" for k, c in sorted(a.confidence.items()))
    if a.extraction is None:  # a feed item: no JSON to write (ingest's hot path)
        return digest(a.content_hash, said)
    return digest(a.content_hash, said, json.dumps(a.extraction, sort_keys=True, default=str))


def _row(a: Article, now: datetime) -> dict[str, Any]:
    return {
        "source_kind": a.source_kind,
        "source": a.source,
        "guid": a.guid,
        "url": a.url,
        "title": a.title,
        "publisher": a.publisher,
        "author": a.author,
        "published": published_iso(a.published),
        "published_at": _published_at(a.published),
        "updated_at_source": a.updated,
        "dek": a.dek,
        "summary": a.summary,
        "body": a.body,
        "body_html": a.body_html,
        "section": a.section,
        "labels": list(a.labels),
        "reading_time_min": a.reading_time_min,
        "ai_generated": a.ai_generated,
        "ai_disclosure": a.ai_disclosure,
        "notes": list(a.notes),
        "word_count": a.word_count,
        "content_hash": stored_hash(a),
        "fingerprint": a.fingerprint,
        "confidence": confidence_json(a),
        "extraction": dict(a.extraction) if a.extraction is not None else None,
        "last_seen": now,
        "changed_at": now,
    }


def upsert_articles(conn: Connection, items: Sequence[Article], now: datetime) -> UpsertResult:
    """Insert new articles, update changed ones, leave unchanged ones alone.

    A stored article's corrected fields (``briefing.corrections``) keep their corrected
    values, whatever the source says now.

    An article whose id is new but whose fingerprint (title + opening words) matches a
    stored article is the same story under another URL: it is stored, linked to the
    first one through ``duplicate_of``, and never shown as a story of its own.
    """
    batch: dict[str, Article] = {}
    for a in items:
        batch.setdefault(a.id, a)
    ids = list(batch)
    existing: dict[str, str] = {}
    for chunk in _chunks(ids):
        for row in conn.execute(
            select(articles.c.id, articles.c.content_hash).where(articles.c.id.in_(chunk))
        ):
            existing[row.id] = row.content_hash
    if existing:  # an editor's corrections win over what the source says now
        for article_id, corrected in standing(conn, list(existing)).items():
            batch[article_id] = apply_corrections(batch[article_id], corrected)
    new_fps = sorted({a.fingerprint for a in batch.values() if a.id not in existing})
    owner: dict[str, str] = {}
    for chunk in _chunks(new_fps):
        query = (
            select(articles.c.fingerprint, articles.c.id)
            .where(articles.c.fingerprint.in_(chunk), articles.c.duplicate_of.is_(None))
            .order_by(articles.c.first_seen)
        )
        for row in conn.execute(query):
            owner.setdefault(row.fingerprint, row.id)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    outcomes: dict[str, Outcome] = {}
    for a in batch.values():
        if a.id in existing:
            if existing[a.id] == stored_hash(a):
                outcomes[a.id] = "unchanged"
            else:
                changed = _row(a, now)
                changed["b_id"] = a.id
                updates.append(changed)
                outcomes[a.id] = "updated"
            continue
        values = _row(a, now)
        values["id"] = a.id
        values["first_seen"] = now
        original = owner.get(a.fingerprint)
        values["duplicate_of"] = original
        if original is None:
            owner[a.fingerprint] = a.id
            outcomes[a.id] = "new"
        else:
            outcomes[a.id] = "duplicate"
        inserts.append(values)
    if inserts:
        conn.execute(insert(articles), inserts)
    if updates:
        cols: dict[str, Any] = {k: bindparam(k) for k in updates[0] if k != "b_id"}
        conn.execute(
            update(articles).where(articles.c.id == bindparam("b_id")).values(**cols), updates
        )
    return UpsertResult(outcomes)


def row_to_article(row: Any) -> Article:
    published: date | datetime | None = None
    if row.published:
        published = (
            date.fromisoformat(row.published)
            if len(row.published) == 10
            else datetime.fromisoformat(row.published)
        )
    return Article(
        id=row.id,
        source_kind=row.source_kind,
        source=row.source,
        title=row.title,
        url=row.url,
        guid=row.guid,
        publisher=row.publisher,
        author=row.author,
        published=published,
        updated=row.updated_at_source,
        dek=row.dek,
        summary=row.summary,
        body=row.body,
        body_html=row.body_html,
        section=row.section,
        labels=tuple(row.labels or ()),
        reading_time_min=row.reading_time_min,
        ai_generated=bool(row.ai_generated),
        ai_disclosure=row.ai_disclosure,
        notes=tuple(row.notes or ()),
        first_seen=row.first_seen,
        duplicate_of=row.duplicate_of,
        confidence=_confidence(row.confidence),
        extraction=row.extraction,
    )


def update_article(conn: Connection, a: Article, now: datetime) -> None:
    """Store an article's new values (an editor's correction) in its row."""
    values = _row(a, now)
    for kept in ("source_kind", "source", "guid", "last_seen"):
        values.pop(kept)  # where it came from and when it was read stay as they were
    conn.execute(update(articles).where(articles.c.id == a.id).values(**values))


def list_articles(
    conn: Connection,
    *,
    include_duplicates: bool = False,
    since: datetime | None = None,
    source: str | None = None,
    limit: int | None = None,
) -> list[Article]:
    """Newest first (by the source's date, else by when we first saw it)."""
    query = select(articles)
    if not include_duplicates:
        query = query.where(articles.c.duplicate_of.is_(None))
    if since is not None:
        query = query.where(articles.c.first_seen >= since)
    if source is not None:
        query = query.where(articles.c.source == source)
    order = func.coalesce(articles.c.published_at, articles.c.first_seen)
    query = query.order_by(order.desc(), articles.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [row_to_article(r) for r in conn.execute(query)]


def articles_by_ids(conn: Connection, ids: Iterable[str]) -> list[Article]:
    """The named articles (duplicates included), newest first like list_articles."""
    wanted = sorted(set(ids))
    found: list[Article] = []
    for chunk in _chunks(wanted):
        found += [
            row_to_article(r)
            for r in conn.execute(select(articles).where(articles.c.id.in_(chunk)))
        ]
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(
        found,
        key=lambda a: (-(_published_at(a.published) or a.first_seen or epoch).timestamp(), a.id),
    )


def get_article(conn: Connection, article_id: str) -> Article | None:
    """By full id or by a unique prefix of at least 6 characters, in either case (SQLite's
    LIKE ignores case, PostgreSQL's does not: both ignore it here)."""
    row = conn.execute(select(articles).where(articles.c.id == article_id)).first()
    if row is None and len(article_id) >= 6:
        rows = conn.execute(
            select(articles).where(articles.c.id.istartswith(article_id, autoescape=True)).limit(2)
        ).all()
        row = rows[0] if len(rows) == 1 else None
    return row_to_article(row) if row is not None else None


def duplicates_of(conn: Connection, ids: Sequence[str]) -> dict[str, list[Article]]:
    out: dict[str, list[Article]] = {}
    for chunk in _chunks(list(ids)):
        for row in conn.execute(
            select(articles)
            .where(articles.c.duplicate_of.in_(chunk))
            .order_by(articles.c.first_seen)
        ):
            out.setdefault(row.duplicate_of, []).append(row_to_article(row))
    return out


# --- sources -----------------------------------------------------------------------------------


def get_source(conn: Connection, key: str) -> dict[str, Any] | None:
    row = conn.execute(select(sources).where(sources.c.key == key)).mappings().first()
    return dict(row) if row else None


def ensure_source(
    conn: Connection, key: str, *, kind: str, location: str, name: str | None, origin: str
) -> None:
    """Create the source row if needed. A feed named with --feed ("cli") is kept for later
    runs; one that has not worked yet, or was named with --once, is stored as "adhoc" (not
    fetched again). "cli" turns an "adhoc" row into "cli"; nothing turns "cli" back."""
    row = get_source(conn, key)
    if row is None:
        conn.execute(
            insert(sources).values(
                key=key, kind=kind, location=location, name=name, origin=origin, failures=0, items=0
            )
        )
        return
    values: dict[str, Any] = {}
    if name:
        values["name"] = name
    if origin == "cli" and row["origin"] == "adhoc":
        values["origin"] = "cli"
    if values:
        conn.execute(update(sources).where(sources.c.key == key).values(**values))


def record_source(
    conn: Connection,
    key: str,
    *,
    now: datetime,
    status: str,
    error: str | None = None,
    http_status: int | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    items: int | None = None,
) -> None:
    """Store how the last fetch of a source went; validators are kept only on success."""
    values: dict[str, Any] = {
        "last_status": status,
        "last_error": error,
        "last_checked": now,
        "last_http_status": http_status,
    }
    if status in {"ok", "not_modified"}:
        values["last_ok"] = now
        values["failures"] = 0
        if etag is not None or last_modified is not None or status == "ok":
            values["etag"] = etag
            values["last_modified"] = last_modified
        if items is not None:
            values["items"] = items
    else:
        values["failures"] = sources.c.failures + 1
    conn.execute(update(sources).where(sources.c.key == key).values(**values))


def list_sources(conn: Connection, kind: str | None = None) -> list[dict[str, Any]]:
    query = select(sources).order_by(sources.c.kind, sources.c.key)
    if kind:
        query = query.where(sources.c.kind == kind)
    return [dict(r) for r in conn.execute(query).mappings()]


def remove_source(conn: Connection, key: str) -> bool:
    from sqlalchemy import delete

    return bool(conn.execute(delete(sources).where(sources.c.key == key)).rowcount)


def cli_feeds(conn: Connection) -> list[dict[str, Any]]:
    """Feeds added with `briefing ingest --feed` (kept between runs, unlike one-off paths)."""
    query = select(sources).where(sources.c.kind == "feed", or_(sources.c.origin == "cli"))
    return [dict(r) for r in conn.execute(query).mappings()]
