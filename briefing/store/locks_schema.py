"""The locks table: named leases between processes (and machines)."""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from briefing.store.schema import UTCDateTime, metadata

# Named leases between processes (and machines): the scheduler's jobs run under one, so
# two schedulers on one database never do the same job at once.
locks = Table(
    "locks",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("owner", String(128), nullable=False),
    Column("until", UTCDateTime(), nullable=False),
    Column("acquired_at", UTCDateTime(), nullable=False),
)
