"""store.retry.retry_on_conflict: a write that lost a uniqueness race is run again, and
only that error is retried."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from briefing.store.retry import retry_on_conflict


def test_an_integrity_error_is_retried_then_raised_after_the_last_attempt() -> None:
    calls: list[int] = []

    def always_conflicts() -> None:
        calls.append(1)
        raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))

    with pytest.raises(IntegrityError):
        retry_on_conflict(always_conflicts, attempts=2)
    assert len(calls) == 2


def test_a_conflict_then_success_returns_the_second_result() -> None:
    calls: list[int] = []

    def once() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))
        return "stored"

    assert retry_on_conflict(once) == "stored" and len(calls) == 2


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("not a race")

    with pytest.raises(ValueError):
        retry_on_conflict(broken)
    assert len(calls) == 1
