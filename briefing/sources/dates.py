"""Dates as pages print them: "Jan 7", "12 February 2026", "March 3, 2026", "2026-01-07".

A date with no year is kept as such; the caller may give it the year of the page's
copyright line ("Jan 7" beside "(c) 2026" is 2026-01-07) and otherwise leaves the
article undated. Nothing here guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from briefing.errors import SeedError

MONTHS = {
    "jan": 1,
    "january": 1,
    "feb": 2,
    "february": 2,
    "mar": 3,
    "march": 3,
    "apr": 4,
    "april": 4,
    "may": 5,
    "jun": 6,
    "june": 6,
    "jul": 7,
    "july": 7,
    "aug": 8,
    "august": 8,
    "sep": 9,
    "sept": 9,
    "september": 9,
    "oct": 10,
    "october": 10,
    "nov": 11,
    "november": 11,
    "dec": 12,
    "december": 12,
}
_MONTH = r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_TIME = (
    r"(?:\s*(?:,|at|@|-|–)?\s*(?P<hour>[0-2]?\d)[:.](?P<minute>[0-5]\d)(?::(?P<second>[0-5]\d))?"
    r"\s*(?P<ampm>[ap]\.?m\.?)?\s*(?P<tz>(?:utc|gmt)\s*[+-]\s*\d{1,2}(?::?\d{2})?|utc|gmt|z|[+-]\d{2}:?\d{2}|[a-z]{2,4}t)?)?"
)
_WEEKDAY = r"(?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday)?\.?,?\s+)?"
_PATTERNS = [
    re.compile(
        r"(?P<iso>(?P<year>(?:19|20)\d{2})-(?P<mon>[01]\d)-(?P<day>[0-3]\d))"
        r"(?:[T ](?P<hour>[0-2]\d):(?P<minute>[0-5]\d)(?::(?P<second>[0-5]\d)(?:\.\d+)?)?\s*(?P<tz>z|[+-]\d{2}:?\d{2})?)?",
        re.I,
    ),
    re.compile(rf"{_WEEKDAY}{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?{_TIME}", re.I),
    re.compile(rf"{_WEEKDAY}{_DAY}\s+(?:of\s+)?{_MONTH},?(?:\s+{_YEAR})?{_TIME}", re.I),
    re.compile(
        rf"(?P<year>(?:19|20)\d{{2}})[/.](?P<mon>[01]?\d)[/.](?P<day>[0-3]?\d){_TIME}", re.I
    ),
]
# Words that may stand around a date on a date line.
_NOISE = re.compile(
    r"(?i)\b(?:published|updated|last updated|posted|first published|modified|date|on|at|"
    r"edited|originally|released|issued)\b|[|:,.\-–—•·()\[\]]|\s"
)
_UPDATED = re.compile(r"(?i)\b(?:updated|modified|edited)\b")
_TZ_OFFSETS = {
    "utc": 0,
    "gmt": 0,
    "z": 0,
    "bst": 60,
    "cet": 60,
    "cest": 120,
    "est": -300,
    "edt": -240,
    "cst": -360,
    "cdt": -300,
    "pst": -480,
    "pdt": -420,
    "jst": 540,
    "kst": 540,
}


@dataclass(frozen=True)
class DateMatch:
    text: str
    start: int
    end: int
    year: int | None
    month: int
    day: int
    clock: time | None = None
    offset_min: int | None = None
    updated: bool = False

    def resolve(self, fallback_year: int | None = None) -> date | datetime | None:
        """The date (or UTC datetime when a time and zone are given), or None without a year."""
        year = self.year or fallback_year
        if year is None:
            return None
        try:
            day = date(year, self.month, self.day)
        except ValueError:
            return None
        if self.clock is not None and self.offset_min is not None:
            tz = timezone(timedelta(minutes=self.offset_min))
            return datetime.combine(day, self.clock, tz).astimezone(UTC)
        return day

    def resolve_datetime(self, fallback_year: int | None = None) -> datetime | None:
        value = self.resolve(fallback_year)
        if value is None:
            return None
        if isinstance(value, datetime):
            return value
        return datetime.combine(value, time(0), UTC)


def _build(m: re.Match[str], text: str) -> DateMatch | None:
    g = m.groupdict()
    month = (
        int(g["mon"]) if g.get("mon") else MONTHS.get((g.get("month") or "").lower().rstrip("."))
    )
    if not month:
        return None
    day = int(g["day"])
    year = int(g["year"]) if g.get("year") else None
    try:
        date(year or 2000, month, day)  # 2000 is a leap year: "Feb 29" without a year is allowed
    except ValueError:
        return None
    clock = None
    offset = None
    if g.get("hour") is not None and g.get("minute") is not None:
        hour = int(g["hour"])
        ampm = (g.get("ampm") or "").lower().replace(".", "")
        if ampm == "pm" and hour < 12:
            hour += 12
        elif ampm == "am" and hour == 12:
            hour = 0
        if hour <= 23:
            clock = time(hour, int(g["minute"]), int(g.get("second") or 0))
            tz = (g.get("tz") or "").lower()
            if tz in _TZ_OFFSETS:
                offset = _TZ_OFFSETS[tz]
            elif m2 := re.fullmatch(r"(?:utc|gmt)?\s*([+-])\s*(\d{1,2}):?(\d{2})?", tz):
                sign = -1 if m2.group(1) == "-" else 1
                offset = sign * (int(m2.group(2)) * 60 + int(m2.group(3) or 0))
    return DateMatch(
        text=m.group(0).strip(),
        start=m.start(),
        end=m.end(),
        year=year,
        month=month,
        day=day,
        clock=clock,
        offset_min=offset,
        updated=bool(_UPDATED.search(text[: m.start()])),
    )


def find_date(text: str, *, whole: bool) -> DateMatch | None:
    """The first date in ``text``; with ``whole``, only if the text is nothing but a date line."""
    if whole and len(text) > 80:
        return None
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            # A match inside a word ("Mayor 3") or a number ("12 Mayday") is not a date.
            if m.start() > 0 and text[m.start() - 1].isalnum():
                continue
            if m.end() < len(text) and text[m.end()].isalnum():
                continue
            found = _build(m, text)
            if found is None:
                continue
            if whole and _NOISE.sub("", text[: m.start()] + text[m.end() :]):
                return None
            return found
        if whole:
            continue
    return None


def parse_front_matter_date(value: Any, source: str) -> date | datetime:
    """``published`` in front matter: a TOML date or datetime, or an ISO 8601 string."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return date.fromisoformat(value)
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    raise SeedError(
        source,
        f"front matter published = {value!r} is not a date",
        'write it as published = 2026-01-07 or "2026-01-07T09:00:00Z"',
    )
