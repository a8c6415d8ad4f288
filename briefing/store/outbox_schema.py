"""The outbox: one row per (issue, subscriber), the unit of delivery progress."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from briefing.store.schema import UTCDateTime, metadata

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("issue_id", Integer, ForeignKey("issues.id", ondelete="CASCADE"), nullable=False),
    Column(
        "subscriber_id", Integer, ForeignKey("subscribers.id", ondelete="CASCADE"), nullable=False
    ),
    # queued -> sending -> sent | deferred | failed ; skipped (left the list before their turn)
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime()),
    Column("lease_owner", String(96)),
    Column("lease_until", UTCDateTime()),
    Column("last_code", Integer),
    Column("last_error", Text),
    Column("sent_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("issue_id", "subscriber_id", name="uq_outbox_issue_subscriber"),
    Index("ix_outbox_issue_state", "issue_id", "state"),
)

send_runs = Table(
    "send_runs",
    metadata,
    Column("issue_id", Integer, ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
    Column("recipients_ready_at", UTCDateTime()),  # the outbox holds every recipient
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    Column("paused_reason", Text),  # why the last run paused (its refusals get another try)
)
