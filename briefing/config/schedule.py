"""The ``[schedule]`` section: days, times, durations and their allowed ranges."""

from __future__ import annotations

import re
from datetime import time as dt_time
from datetime import timedelta
from typing import TYPE_CHECKING

from pydantic import (
    ValidationInfo,
    field_validator,
)

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo


from briefing.config.sections import _Section

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # as APScheduler's cron names them
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# each duration's allowed range: (at least, under)
_DURATION_RANGES = {
    "ingest_every": (timedelta(minutes=1), None),
    "draft_before": (timedelta(0), timedelta(days=7)),
    "expire_after": (timedelta(minutes=1), timedelta(days=7)),
    "retry_every": (timedelta(seconds=30), None),
}
_DURATION = re.compile(r"(\d+)\s*(d|h|m|s)")


def parse_duration(value: str) -> timedelta:
    """ "90s", "30m", "6h", "1d", "1h30m" -> a timedelta."""
    text = value.strip().lower().replace(" ", "")
    parts = _DURATION.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{value!r} is not a duration; write e.g. 90s, 30m, 6h, 1d or 1h30m")
    unit = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    return sum((timedelta(**{unit[u]: int(n)}) for n, u in parts), timedelta())


def _say(length: timedelta) -> str:
    seconds = int(length.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class Schedule(_Section):
    """The weekly cycle that `briefing schedule run` keeps.

    ``send`` is the weekly send time ("mon 07:00") in ``timezone``. Feeds are read every
    ``ingest_every``; ``draft_before`` the send the draft is built and a proof goes to
    ``editors``. With ``require_approval`` an unapproved issue is not sent: the editors
    are told and the send is tried again every ``retry_every`` until ``expire_after``
    past the planned time, when the issue is marked expired. Without it the scheduler
    approves the issue itself and records that it did. ``deliver_in_subscriber_timezone``:
    each subscriber gets the issue at the send time in their own timezone.
    """

    send: str = "mon 07:00"
    timezone: str = "UTC"
    ingest_every: str = "1h"
    draft_before: str = "24h"
    editors: tuple[str, ...] = ()
    require_approval: bool = True
    expire_after: str = "6h"
    retry_every: str = "10m"
    deliver_in_subscriber_timezone: bool = False

    @field_validator("send")
    @classmethod
    def _send(cls, value: str) -> str:
        m = re.fullmatch(r"\s*([a-zA-Z]+)\s+(\d{1,2}):(\d{2})\s*", value)
        day = m.group(1).lower() if m else ""
        if not m or len(day) < 3 or not any(full.startswith(day) for full in _DAY_NAMES):
            raise ValueError(f'{value!r}: write a weekday and a 24-hour time, e.g. "mon 07:00"')
        hour, minute = int(m.group(2)), int(m.group(3))
        if hour > 23 or minute > 59:
            raise ValueError(
                f'{value!r}: {hour:02d}:{minute:02d} is not a time of day; write e.g. "mon 07:00"'
            )
        return f"{day[:3]} {hour:02d}:{minute:02d}"

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown timezone {value!r}; use an IANA name such as Europe/London"
            ) from exc
        return value

    @field_validator("ingest_every", "draft_before", "expire_after", "retry_every")
    @classmethod
    def _duration(cls, value: str, info: ValidationInfo) -> str:
        length = parse_duration(value)
        low, high = _DURATION_RANGES[str(info.field_name)]
        if length < low:
            raise ValueError(f"{value!r} is too short: at least {_say(low)}")
        if high is not None and length >= high:
            raise ValueError(f"{value!r} is too long: under {_say(high)}")
        return value

    @field_validator("editors")
    @classmethod
    def _editors(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from briefing.email_address import InvalidAddress, normalize_email

        try:
            return tuple(normalize_email(v) for v in value)
        except InvalidAddress as exc:  # a ValueError, so the error names the key and file
            raise ValueError(exc.message) from exc

    @property
    def weekday(self) -> int:
        return DAYS.index(self.send[:3])

    @property
    def time(self) -> dt_time:
        hour, minute = self.send[4:].split(":")
        return dt_time(int(hour), int(minute))

    @property
    def tz(self) -> ZoneInfo:
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.timezone)

    def duration(self, name: str) -> timedelta:
        return parse_duration(getattr(self, name))
