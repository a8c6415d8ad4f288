"""The subscriber list as a file, pure: the CSV formats we import and export, and the
fields of a row (topics, time zone) checked as they enter. Addresses are checked by
``briefing.email_address``."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from briefing.email_address import normalize_email
from briefing.errors import BriefingError
from briefing.headertext import name_text
from briefing.normalize import decode_text

CSV_COLUMNS = ("email", "name", "topics", "timezone")
EXPORT_COLUMNS = (
    "email",
    "name",
    "status",
    "topics",
    "timezone",
    "locale",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
    "consent_source",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BriefingError(
            f"{name!r} is not an IANA timezone", "use a name such as Europe/London"
        ) from exc
    return name


def parse_topics(value: str | None, known: Iterable[str]) -> tuple[str, ...] | None:
    """'a; b' or 'a,b' -> ('a', 'b'); empty -> None (all topics)."""
    if value is None or not value.strip():
        return None
    items = tuple(dict.fromkeys(t.strip() for t in value.replace(";", ",").split(",") if t.strip()))
    unknown = [t for t in items if t not in set(known)]
    if unknown:
        raise BriefingError(
            f"unknown topic(s): {', '.join(unknown)}",
            f"known topics: {', '.join(known) or '(none configured)'}",
        )
    return items


@dataclass(frozen=True)
class ImportRow:
    line: int
    email: str
    name: str | None
    topics: tuple[str, ...] | None
    timezone: str | None


@dataclass
class ImportFile:
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    notes: list[str] = field(default_factory=list)
    encoding: str = "utf-8"


def read_csv(data: bytes, *, source: str, known_topics: Iterable[str]) -> ImportFile:
    """Parse an import file. Bad rows are reported with their line, good rows kept."""
    known = list(known_topics)
    out = ImportFile()
    if not data.strip():
        raise BriefingError(
            f"{source} is empty", "the first line must be a header: email,name,topics,timezone"
        )
    if data.startswith(_ZIP_MAGIC):
        raise BriefingError(
            f"{source} is a spreadsheet workbook (.xlsx, .ods or .numbers), not a CSV file",
            "save it as CSV from the spreadsheet (in Excel: Save As > CSV UTF-8) and import that",
        )
    decoded = decode_text(data)
    if decoded is None:
        raise BriefingError(
            f"{source} is not text in any encoding we can detect", "save it as UTF-8 CSV"
        )
    text, out.encoding = decoded
    if out.encoding != "utf_8":
        out.notes.append(f"read as {out.encoding}, not UTF-8")
    records = _Records(text)
    found = iter(records)
    head = next(found, None)
    if head is None:
        raise BriefingError(
            f"{source} is empty", "the first line must be a header: email,name,topics,timezone"
        )
    if head.error or head.unclosed or head.last > head.first:
        raise BriefingError(
            f"{source} line 1: the header has a quote that is not closed",
            "close the quote on line 1; the header must be one line, such as: email,name",
        )
    header = [h.strip().lower() for h in head.cells]
    if "email" not in header:
        raise BriefingError(
            f"{source} line 1: no 'email' column in the header ({', '.join(header) or 'empty'})",
            "the first line must be a header such as: email,name,topics,timezone",
        )
    ignored = [h for h in header if h not in CSV_COLUMNS]
    if ignored:
        out.notes.append(f"columns ignored: {', '.join(ignored)}")
    col = {name: header.index(name) for name in CSV_COLUMNS if name in header}
    seen: dict[str, int] = {}
    for record in found:
        line, row = record.first, record.cells
        if record.error:
            out.errors.append((line, record.error))
            continue
        if not any(cell.strip() for cell in row):
            continue
        if record.last > record.first or record.unclosed:
            problem = _line_break(record, col)
            if problem:
                out.errors.append((line, problem))
                # A quote left open (or closed only by a later value's quote) would take
                # in the rows after it: those lines are read again as rows of their own.
                # A value that closes properly is one value: the lines inside it are data
                # (a pasted note), never rows, or a stranger's text could add subscribers.
                if record.unclosed or not records.well_formed(record):
                    records.read_again_after(record)
                continue
            spanning = [h for h, c in zip(header, row, strict=False) if _BREAK.search(c)]
            out.notes.append(
                f"line {line}: the {', '.join(spanning)} value runs to line {record.last} "
                "(a line break inside quotes; the column is ignored)"
            )

        def get(name: str, row: list[str] = row) -> str | None:
            i = col.get(name)
            cell = row[i].strip() if i is not None and i < len(row) else ""
            return unneutralize(cell) or None

        raw = get("email")
        if raw is None:
            out.errors.append((line, "no email address"))
            continue
        try:
            address = normalize_email(raw)
            topics = parse_topics(get("topics"), known)
            zone = get("timezone")
            tz = check_timezone(zone) if zone else None
        except BriefingError as exc:
            out.errors.append((line, exc.message))
            continue
        key = address.lower()
        if key in seen:
            out.errors.append((line, f"{address} repeats line {seen[key]}"))
            continue
        seen[key] = line
        out.rows.append(ImportRow(line, address, name_text(get("name")), topics, tz))
    return out


_ZIP_MAGIC = b"PK\x03\x04"  # .xlsx, .ods and .numbers are zip archives
# the physical lines as a text editor counts them: CRLF, LF or a lone CR ends one
_PHYSICAL_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class _Record:
    first: int  # the physical line it starts on (1-based)
    last: int  # the physical line it ends on
    cells: list[str]
    unclosed: bool = False  # the file ended inside a quoted value
    error: str | None = None  # what the csv module could not read


class _Lines:
    """Physical lines handed to csv.reader one at a time: how many it took, and whether
    it asked for more than there were (only a quoted value left open at the end does)."""

    def __init__(self, lines: list[str], start: int) -> None:
        self.lines, self.taken, self.exhausted = lines, start, False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.taken >= len(self.lines):
            self.exhausted = True
            raise StopIteration
        self.taken += 1
        return self.lines[self.taken - 1]


class _Records:
    """The CSV records of ``text`` with the lines each spans. The delimiter (comma,
    semicolon or tab) is guessed from the first line; quoting is the standard double
    quote. The reader can be told to start again on the line after a record."""

    def __init__(self, text: str) -> None:
        self.lines = _PHYSICAL_LINE.findall(text)
        first = self.lines[0] if self.lines else ""
        self.delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
        self._next = 0
        self._again = False

    def well_formed(self, record: _Record) -> bool:
        """Whether the record's lines are one record by RFC 4180's strict rules (a quoted
        value closes right before a delimiter or the end of its line)."""
        lines = self.lines[record.first - 1 : record.last]
        try:
            found = list(csv.reader(lines, delimiter=self.delimiter, quotechar='"', strict=True))
        except csv.Error:
            return False
        return len(found) == 1

    def read_again_after(self, record: _Record) -> None:
        self._next, self._again = record.first, True  # 0-based: the line after record.first

    def __iter__(self) -> Iterator[_Record]:
        while self._next < len(self.lines):
            feed = _Lines(self.lines, self._next)
            reader = csv.reader(feed, delimiter=self.delimiter, quotechar='"')
            self._again = False
            while not self._again:
                start = feed.taken
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:  # e.g. an open quote that ran past the field limit
                    self._next = start + 1
                    yield _Record(start + 1, feed.taken, [], error=_csv_error(exc, start + 1))
                    break
                yield _Record(start + 1, feed.taken, cells, unclosed=feed.exhausted)


def _csv_error(exc: csv.Error, line: int) -> str:
    if "field limit" in str(exc):
        return (
            f"a value runs on past {csv.field_size_limit():,} characters; "
            f"close the quote on line {line}"
        )
    return f"cannot be read as CSV ({exc}); check the quotes on line {line}"


def _line_break(record: _Record, col: dict[str, int]) -> str | None:
    """Why a record over several lines is bad, or None when only ignored columns span
    lines. The line named is the one where the open quote is."""

    def opened(i: int) -> int:
        return record.first + sum(len(_BREAK.findall(c)) for c in record.cells[:i])

    if record.unclosed:
        line = opened(len(record.cells) - 1)
        return (
            f"a quote opened on line {line} is never closed; close the quote on line {line} "
            "(the lines after it were read as rows of their own)"
        )
    for name, i in col.items():
        if i < len(record.cells) and _BREAK.search(record.cells[i]):
            line = opened(i)
            end = line + len(_BREAK.findall(record.cells[i]))
            return (
                f"the {name} value runs from line {line} to line {end} (a line break inside "
                f"quotes); close the quote on line {line}"
            )
    return None


def unneutralize(cell: str) -> str:
    """Undo :func:`neutralize` on import, so an export can be imported again."""
    return (
        cell[1:] if cell.startswith("'") and cell[1:2] in _FORMULA_START and len(cell) > 1 else cell
    )


def neutralize(cell: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP)."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def write_csv(rows: Iterable[dict[str, object]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            [neutralize("" if row.get(c) is None else str(row[c])) for c in EXPORT_COLUMNS]
        )
        yield buffer.getvalue()
