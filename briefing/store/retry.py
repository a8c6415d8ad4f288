"""Retrying a write that lost a race: another process inserted the same unique row
between our read and our insert (an IntegrityError), and the transaction rolled back
whole; the next attempt sees the other's rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

T = TypeVar("T")


def retry_on_conflict(write: Callable[[], T], *, attempts: int = 3) -> T:
    """Run ``write`` (which opens its own transaction) until it commits without a
    uniqueness conflict; the last attempt's IntegrityError is raised."""
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except IntegrityError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
