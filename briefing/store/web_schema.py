"""Tables of the web app: the queue of subscribe requests (and their confirmation
emails), and the record of sign-ins to the desk."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text

from briefing.store.schema import UTCDateTime, metadata

# A subscribe form, as posted: applied and its confirmation sent by a background worker,
# so the answer takes the same time for any address. The personal fields are cleared
# once the request is applied (the subscriber's row and its "requested" event hold them).
# state: received -> mail -> sent | skipped | failed
subscribe_queue = Table(
    "subscribe_queue",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("state", String(16), nullable=False),
    Column("email", Text),
    Column("name", Text),
    Column("topics", JSON),
    Column("ip", String(64)),
    Column("user_agent", Text),
    Column("subscriber_id", Integer, ForeignKey("subscribers.id", ondelete="CASCADE")),
    Column("attempts", Integer, nullable=False, default=0),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("lease_until", UTCDateTime()),
    Column("sent_at", UTCDateTime()),
    Column("last_error", Text),
    Index("ix_subscribe_queue_state_due", "state", "due_at"),
    Index("ix_subscribe_queue_subscriber", "subscriber_id"),
)

# Every sign-in attempt on the desk: outcome "signed_in", "failed" or "throttled".
# ``email`` is the address as typed (lower-cased), whether or not it is an editor's.
signin_attempts = Table(
    "signin_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("email", String(320), nullable=False),
    Column("editor_id", Integer, ForeignKey("editors.id", ondelete="SET NULL")),
    Column("ip", String(64)),
    Column("user_agent", Text),
    Column("outcome", String(16), nullable=False),
    Index("ix_signin_attempts_email_at", "email", "at"),
    Index("ix_signin_attempts_at", "at"),
)
