"""Tables for issues, their stories and the editorial audit trail."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from briefing.store.schema import UTCDateTime, metadata

issues = Table(
    "issues",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(16), nullable=False),
    Column("subject", Text, nullable=False),
    Column("subject_edited", Boolean, nullable=False, default=False),
    Column("preheader", Text, nullable=False, default=""),
    Column("preheader_edited", Boolean, nullable=False, default=False),
    Column("editor_note", Text),
    Column("order_edited", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("approved_by", Text),
    Column("approved_at", UTCDateTime()),
    Column("sent_at", UTCDateTime()),
    Column("planned_for", UTCDateTime()),  # the scheduled send this issue is for
    Index("ix_issues_state", "state"),
)

issue_stories = Table(
    "issue_stories",
    metadata,
    Column("issue_id", Integer, ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
    Column("story_key", String(64), primary_key=True),
    Column("topic", String(64), nullable=False),
    Column("position", Integer, nullable=False),
    Column("excluded", Boolean, nullable=False, default=False),
    Column("reason", String(16)),
    Column("title", Text, nullable=False, default=""),
    Column("article_ids", JSON, nullable=False),
)

issue_articles = Table(
    "issue_articles",
    metadata,
    Column("issue_id", Integer, ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
    Column("article_id", String(64), primary_key=True),
    Column("story_key", String(64), nullable=False),
    Index("ix_issue_articles_article_id", "article_id"),
)

issue_events = Table(
    "issue_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("issue_id", Integer, ForeignKey("issues.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(32), nullable=False),
    Column("detail", JSON, nullable=False, default=dict),
    Index("ix_issue_events_issue_id", "issue_id"),
)
