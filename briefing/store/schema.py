"""The database tables (SQLAlchemy Core). Changes go through an Alembic migration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use UTC-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


articles = Table(
    "articles",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("source_kind", String(8), nullable=False),
    Column("source", Text, nullable=False),
    Column("guid", Text),
    Column("url", Text),
    Column("title", Text, nullable=False),
    Column("publisher", Text),
    Column("author", Text),
    Column("published", String(40)),
    Column("published_at", UTCDateTime()),
    Column("updated_at_source", UTCDateTime()),
    Column("dek", Text),
    Column("summary", Text, nullable=False, default=""),
    Column("body", Text, nullable=False, default=""),
    Column("body_html", Text),
    Column("section", Text),
    Column("labels", JSON, nullable=False, default=list),
    Column("reading_time_min", Integer),
    Column("ai_generated", Boolean, nullable=False, default=False),
    Column("ai_disclosure", Text),
    Column("notes", JSON, nullable=False, default=list),
    Column("word_count", Integer, nullable=False, default=0),
    Column("content_hash", String(64), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("duplicate_of", String(64)),
    Column("first_seen", UTCDateTime(), nullable=False),
    Column("last_seen", UTCDateTime(), nullable=False),
    Column("changed_at", UTCDateTime(), nullable=False),
    # how sure ingest is of each field: {"title": {"value": 0.42, "reason": "..."}, ...}
    # (an editor's correction makes a field 1.0), and the extractor's explanation
    # (Extraction.to_json(), for `article ID --explain`); NULL for rows stored before 0010
    Column("confidence", JSON),
    Column("extraction", JSON),
    Index("ix_articles_fingerprint", "fingerprint"),
    Index("ix_articles_url", "url"),
    Index("ix_articles_source", "source"),
    Index("ix_articles_first_seen", "first_seen"),
)

sources = Table(
    "sources",
    metadata,
    Column("key", String(512), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("location", Text, nullable=False),
    Column("name", Text),
    Column("origin", String(16), nullable=False, default="config"),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_status", String(16)),
    Column("last_http_status", Integer),
    Column("last_error", Text),
    Column("last_checked", UTCDateTime()),
    Column("last_ok", UTCDateTime()),
    Column("failures", Integer, nullable=False, default=0),
    Column("items", Integer, nullable=False, default=0),
)

# An editor's correction of an article's field (title, author, published, publisher,
# ai_generated): the newest one per field wins over every later ingest of that article.
# ``value`` and ``previous`` are JSON: a string, an ISO date, a boolean, or null (cleared).
article_corrections = Table(
    "article_corrections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", String(64), ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("field", String(16), nullable=False),
    Column("value", JSON),
    Column("previous", JSON),
    Column("by", Text, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_article_corrections_article", "article_id"),
)
import briefing.store.archive_schema  # noqa: E402  (registers the tables on metadata)
import briefing.store.editors_schema  # noqa: E402
import briefing.store.issues_schema  # noqa: E402
import briefing.store.keys_schema  # noqa: E402
import briefing.store.locks_schema  # noqa: E402
import briefing.store.outbox_schema  # noqa: E402
import briefing.store.subscribers_schema  # noqa: E402
import briefing.store.web_schema  # noqa: E402,F401
