"""Dates as pages print them, in the page's language: "1 de diciembre de 2017", "8. April
2015", "21.dez.2018 às 12h55", "Monday, February 29, 2016 @ 11:10 PM UTC", "2019-10-18".

Month names come from the page's language (CLDR, see ``language.py``) plus English.
Numeric dates follow the language's order (month first in English, day first elsewhere)
unless one part is over 12. A date with no year is not a date here: nothing is guessed.
A time with a zone keeps that zone; a date with no time stays a calendar date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone

from briefing.sources.extract.language import PUBLISHED_WORDS, UPDATED_WORDS, Language

_W = r"[^\W\d_]"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th|er|º|°)?"
_MON = rf"(?P<month>{_W}{{3,}})\.?"
_TIME = (
    r"(?:\s*(?:,|at|à|às|a las|a la|um|alle|om|kl\.?|klo|o|@|-|–|—|\|)?\s*"
    r"(?P<hour>[0-2]?\d)[:h.](?P<minute>[0-5]\d)(?::[0-5]\d)?(?:\s*(?:h|hod\.?|uhr))?"
    r"\s*(?P<ampm>[ap]\.?\s?m\.?)?"
    r"\s*(?P<tz>(?:utc|gmt)\s*[+-]\s*\d{1,2}(?::?\d{2})?|utc|gmt|z|[+-]\d{2}:?\d{2}|[a-z]{2,4}t\b)?)?"
)
_PATTERNS = [
    # 2019-10-18, 2019-10-18T09:00:00+02:00
    re.compile(
        r"(?<!\d)(?P<year>(?:19|20)\d{2})-(?P<mon>[01]\d)-(?P<day>[0-3]\d)"
        r"(?:[T ](?P<hour>[0-2]\d):(?P<minute>[0-5]\d)(?::\d{2}(?:\.\d+)?)?\s*(?P<tz>z|[+-]\d{2}:?\d{2})?)?",
        re.I,
    ),
    # 1 de diciembre de 2017, 8. April 2015, 21.dez.2018, 30 avril 2015, 12th of May, 2026
    re.compile(
        rf"(?<![\w.]){_DAY}\.?[\s.\-/]*(?:de\s+|of\s+)?{_MON}[\s.\-/,]*(?:de\s+|del\s+)?{_YEAR}(?!\d){_TIME}",
        re.I,
    ),
    # December 1, 2017; Dec. 1st 2017
    re.compile(rf"(?<!\w){_MON}\s+{_DAY},?\s+{_YEAR}(?!\d){_TIME}", re.I),
    # 2019/10/18, 2019.10.18
    re.compile(
        rf"(?<![\d.]){_YEAR}[/.](?P<mon>[01]?\d)[/.](?P<day>[0-3]?\d)(?![\d.]){_TIME}", re.I
    ),
    # 10.15.15, 11/03/2017, 29.02.2016 (order from the language)
    re.compile(
        r"(?<![\d.:/])(?P<a>[0-3]?\d)(?P<sep>[./-])(?P<b>[0-3]?\d)(?P=sep)(?P<y>(?:19|20)?\d{2})(?![\d.:/])"
        + _TIME,
        re.I,
    ),
]
_PUBLISHED = re.compile(rf"(?i)\b(?:{PUBLISHED_WORDS})\b")
_UPDATED = re.compile(rf"(?i)\b(?:{UPDATED_WORDS})\b")
# an expiry or deadline date right before it: never the publication date
_EXPIRES = re.compile(
    r"(?i)\b(?:expires?|expiry|expiration|valid until|deadline|closes|expire le|gültig bis|"
    r"läuft ab|caduca|vence|scade|vervalt)\b\s*(?:on|le|am|el)?\s*:?\s*$"
)
_TZ = {"utc": 0, "gmt": 0, "z": 0, "bst": 60, "cet": 60, "cest": 120, "est": -300, "edt": -240,
       "cst": -360, "cdt": -300, "mst": -420, "mdt": -360, "pst": -480, "pdt": -420, "jst": 540,
       "kst": 540, "ist": 330, "aest": 600, "aedt": 660}  # fmt: skip


@dataclass(frozen=True)
class Found:
    """One date in one line."""

    text: str
    start: int
    end: int
    day: date
    clock: time | None
    offset_min: int | None
    numeric: bool  # written in digits only ("11.03.17"): its order was inferred
    ambiguous: bool  # both orders were possible
    published_word: bool  # "Published", "publié le" right before it
    updated_word: bool  # "Updated", "Mis à jour" before it
    expiry_word: bool = False  # "Expires:", "valid until" right before it
    order: str | None = None  # for dates in digits: "month first" or "day first", and the
    separator: str = ""  # separator, so that one page's other dates can settle the order

    def value(self) -> date | datetime:
        """The calendar date, or the moment in the page's own zone when it gives a time and zone."""
        if self.clock is not None and self.offset_min is not None:
            return datetime.combine(
                self.day, self.clock, timezone(timedelta(minutes=self.offset_min))
            )
        return self.day


def find_dates(text: str, lang: Language, label: str = "") -> list[Found]:
    """Every full date (day, month and year) in a line, left to right, without overlaps."""
    out: list[Found] = []
    taken: list[tuple[int, int]] = []
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            found = _build(m, text, lang, label)
            if found is not None:
                out.append(found)
                taken.append((m.start(), m.end()))
    return sorted(out, key=lambda f: f.start)


def _build(m: re.Match[str], text: str, lang: Language, label: str) -> Found | None:
    g = m.groupdict()
    numeric = ambiguous = False
    if g.get("a"):
        a, b, y = int(g["a"]), int(g["b"]), int(g["y"])
        year = y if y >= 100 else 2000 + y
        if y < 100 and year > date.today().year + 1:
            return None
        month_first = lang.code == "en"
        if a > 12 and b <= 12:
            month_first = False
        elif b > 12 and a <= 12:
            month_first = True
        elif a > 12 and b > 12:
            return None
        else:
            ambiguous = a != b
        month, day = (a, b) if month_first else (b, a)
        numeric = True
        order = "month first" if month_first else "day first"
        separator = g["sep"]
    else:
        order, separator = None, ""
        year = int(g["year"])
        if g.get("mon"):
            month = int(g["mon"])
            numeric = True
        else:
            month = lang.months.get((g.get("month") or "").lower().rstrip("."), 0)
            if not month:
                return None
        day = int(g["day"])
    try:
        day_value = date(year, month, day)
    except ValueError:
        return None
    clock, offset = _clock(g)
    before = text[max(0, m.start() - 40) : m.start()]
    if not before.strip(" \t:|-–—•·,"):
        before = label  # "Published:" on the line above, the date on its own line
    return Found(
        text=m.group(0).strip(),
        start=m.start(),
        end=m.end(),
        day=day_value,
        clock=clock,
        offset_min=offset,
        numeric=numeric,
        ambiguous=ambiguous,
        published_word=bool(_PUBLISHED.search(before)),
        updated_word=bool(_UPDATED.search(before)),
        expiry_word=bool(_EXPIRES.search(before)),
        order=order,
        separator=separator,
    )


def settle_order(found: list[Found]) -> list[Found]:
    """Dates in digits whose day and month could be swapped take the order that the page's
    other dates with the same separator show unambiguously ("25/12/2022" settles
    "02/10/2020" as 2 October); left as they are when those disagree or there are none."""
    shown: dict[str, set[str]] = {}
    for f in found:
        if f.order and not f.ambiguous:
            shown.setdefault(f.separator, set()).add(f.order)
    out = []
    for f in found:
        orders = shown.get(f.separator, set())
        if f.ambiguous and f.order and len(orders) == 1 and f.order not in orders:
            try:
                day = date(f.day.year, f.day.day, f.day.month)
            except ValueError:
                out.append(f)
                continue
            f = replace(f, day=day, ambiguous=False, order=next(iter(orders)))
        elif f.ambiguous and len(orders) == 1:
            f = replace(f, ambiguous=False)
        out.append(f)
    return out


def _clock(g: dict[str, str | None]) -> tuple[time | None, int | None]:
    if g.get("hour") is None or g.get("minute") is None:
        return None, None
    hour = int(g["hour"] or 0)
    ampm = (g.get("ampm") or "").lower().replace(".", "").replace(" ", "")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    if hour > 23:
        return None, None
    clock = time(hour, int(g["minute"] or 0))
    tz = (g.get("tz") or "").lower().replace(" ", "")
    if tz in _TZ:
        return clock, _TZ[tz]
    if m := re.fullmatch(r"(?:utc|gmt)?([+-])(\d{1,2}):?(\d{2})?", tz):
        sign = -1 if m.group(1) == "-" else 1
        return clock, sign * (int(m.group(2)) * 60 + int(m.group(3) or 0))
    return clock, None


def is_date_line(text: str, found: list[Found], lang: Language) -> bool:
    """Is the line little more than its date (and words such as "Published", a weekday)?"""
    rest = text
    for f in reversed(found):
        rest = rest[: f.start] + " " + rest[f.end :]
    words = [w for w in re.findall(r"[^\W\d_]+", rest.lower()) if w not in lang.weekdays]
    return len(words) <= 4
