"""Subscribers, pure: address validation, the CSV formats we import and export.

Addresses are checked for syntax only (email-validator, no DNS). The normalized form
keeps the local part as written and lower-cases the domain, so ``Ann@Example.ORG`` and
``Ann@example.org`` are one subscriber.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email

from briefing.errors import BriefingError
from briefing.normalize import decode_text

SUPPRESSED = ("unsubscribed", "bounced", "complained", "forgotten")
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


class InvalidAddress(BriefingError):
    default_hint = "check the address for typos"


def normalize_email(address: str) -> str:
    """The canonical form, or InvalidAddress with email-validator's reason."""
    try:
        result = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(f"{address.strip()!r} is not a valid email address: {exc}") from exc
    local, _, domain = result.normalized.rpartition("@")
    return f"{local}@{domain.lower()}"


def email_hash(address: str) -> str:
    """The bare SHA-256 that older versions kept on the suppression list (still read:
    those rows still suppress). A dictionary of addresses reverses it: new rows are keyed."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def suppression_hash(key: bytes, address: str) -> str:
    """What the suppression list keeps once an address is forgotten: an HMAC-SHA256 of the
    lower-cased address under the suppression key, which nobody can check a list of
    addresses against without the key."""
    return hmac.new(key, address.strip().lower().encode(), hashlib.sha256).hexdigest()


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
    decoded = decode_text(data)
    if decoded is None:
        raise BriefingError(
            f"{source} is not text in any encoding we can detect", "save it as UTF-8 CSV"
        )
    text, out.encoding = decoded
    if out.encoding != "utf_8":
        out.notes.append(f"read as {out.encoding}, not UTF-8")
    # only the delimiter is guessed; quoting is always the standard double quote
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count) if any(d in first_line for d in ",;\t") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar='"')
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise BriefingError(
            f"{source} is empty", "the first line must be a header: email,name,topics,timezone"
        ) from None
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
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue

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
        out.rows.append(ImportRow(line, address, get("name"), topics, tz))
    return out


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
