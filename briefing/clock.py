"""The time, in one place: every "now" in Briefing comes from here (aware, UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
