"""Tables for subscribers, their history, and the suppression list."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    cast,
    func,
)

from briefing.store.schema import UTCDateTime, metadata

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", Text),  # NULL once forgotten
    Column("email_key", String(320), unique=True),  # lower-cased: one subscriber per address
    Column("name", Text),
    Column("status", String(16), nullable=False),
    Column("paused", Boolean, nullable=False, default=False),
    Column("topics", JSON),  # NULL: every topic
    Column("timezone", String(64)),
    Column("locale", String(16)),
    Column("token_id", String(32), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("consent_source", Text),
    Column("consent_at", UTCDateTime()),
    Column("consent_ip", String(64)),
    Column("consent_user_agent", Text),
    Column("consent_version", String(32)),
    Column("confirmed_at", UTCDateTime()),
    Column("unsubscribed_at", UTCDateTime()),
    Column("unsubscribe_reason", Text),
    Index("ix_subscribers_status", "status"),
)

subscriber_events = Table(
    "subscriber_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscriber_id", Integer, ForeignKey("subscribers.id", ondelete="SET NULL")),
    Column("at", UTCDateTime(), nullable=False),
    Column("action", String(32), nullable=False),
    Column("actor", Text, nullable=False),
    Column("detail", JSON, nullable=False, default=dict),
    Index("ix_subscriber_events_subscriber_id", "subscriber_id"),
)

suppressions = Table(
    "suppressions",
    metadata,
    Column("email_hash", String(64), primary_key=True),
    Column("reason", String(16), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
)


def takes_every_topic() -> ColumnElement[bool]:
    """A subscriber who chose no topics: stored as JSON null (or SQL NULL), both of which
    read as 'null' as text."""
    return func.coalesce(cast(subscribers.c.topics, Text), "null") == "null"
