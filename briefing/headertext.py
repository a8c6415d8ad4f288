"""Text bound for an email header, cleaned where it enters; addresses as they go on the wire.

Every field that can reach a header (a subscriber's or an editor's name, a subject, a
title, a publisher) is hostile until cleaned. ``header_text`` is the one cleaning: line
breaks and tabs (CR, LF, VT, FF, the file separators, NEL, U+2028, U+2029) become spaces,
every other control character (C0, DEL, C1), the bidi embedding and override controls and
lone surrogates are dropped, runs of white space become one space, and the result is
capped. The entry points (the form, CSV import, the CLI, the desk, config values, feeds
and seeds) call it; the composers then refuse CR or LF whatever the value's source
(``refuse_line_breaks``), as defence in depth.

The caps (characters): names 200, subjects 250 (inboxes show about 60; RFC 5322 lines stop
at 998 octets), preheaders 300, titles 300, an editor's note 5,000 (a note keeps its line
breaks: it goes in the body, never in a header).

``wire_address`` is an address as SMTP and the headers carry it: the domain in punycode
(IDNA 2008 with UTS 46 mapping), the local part as written. A local part that is still not
ASCII needs SMTPUTF8 (RFC 6531) and UTF-8 headers (RFC 6532).
"""

from __future__ import annotations

import re
import unicodedata

from briefing.errors import UnsafeHeader

NAME_MAX = 200
SUBJECT_MAX = 250
PREHEADER_MAX = 300
TITLE_MAX = 300
NOTE_MAX = 5000

# become a space: they end a line for some parser (str.splitlines splits on every one)
_BREAKS = "\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_BREAK = re.compile(f"[{_BREAKS}]")
# dropped: the other C0 and C1 controls, DEL, bidi embeddings/overrides/isolates (which
# make a name display as something else), lone surrogates (they cannot be encoded)
_DROP = re.compile(
    "[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NOTE_BREAK = re.compile("\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_SPACES = re.compile(r"[^\S\n]+")


def header_text(value: str, limit: int) -> str:
    """``value`` on one line, without control characters, at most ``limit`` characters."""
    if value.isascii() and value.isprintable() and len(value) <= limit and "  " not in value:
        return value.strip()  # the common case: nothing to clean
    text = _BREAK.sub(" ", _DROP.sub("", value))
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())[:limit].rstrip()


def name_text(value: str | None) -> str | None:
    """A person's name as stored: cleaned and capped; empty means none."""
    if value is None:
        return None
    return header_text(value, NAME_MAX) or None


def note_text(value: str, limit: int = NOTE_MAX) -> str:
    """Text that keeps its line breaks (an editor's note): LF only, no other controls."""
    text = _NOTE_BREAK.sub("\n", _DROP.sub("", value))
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(lines).strip()[:limit].rstrip()


def control_characters(value: str) -> str | None:
    """What a config value has that a header must not (for refusing it at load), or None."""
    found = _BREAK.search(value) or _DROP.search(value)
    if found is None:
        return None
    return f"U+{ord(found.group(0)):04X}"


def refuse_line_breaks(field: str, value: str) -> str:
    """``value``, or UnsafeHeader when it holds CR or LF (it would add headers of its own)."""
    if "\r" in value or "\n" in value:
        shown = value[:60].replace("\r", "\\r").replace("\n", "\\n")
        raise UnsafeHeader(f"{field} holds CR or LF ({shown!r}): refused, it would add headers")
    return value


def wire_address(address: str) -> str:
    """The address as SMTP carries it: an IDN domain in punycode. UnsafeHeader when the
    domain cannot be written in ASCII or the address holds CR, LF or angle brackets."""
    if address.isascii():
        if "\r" in address or "\n" in address or "<" in address or ">" in address:
            raise UnsafeHeader(f"{address[:60]!r} is not an address that can go on the wire")
        return address
    local, at, domain = address.rpartition("@")
    if not at or any(c in address for c in "\r\n<>"):
        raise UnsafeHeader(f"{address[:60]!r} is not an address that can go on the wire")
    if not domain.isascii():
        import idna

        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise UnsafeHeader(
                f"the domain of {address!r} cannot be written in ASCII (IDNA): {exc}",
                "correct the address, or remove the subscriber",
            ) from exc
    return f"{local}@{domain}"


def needs_smtputf8(address: str) -> bool:
    """Whether an address in wire form still needs SMTPUTF8: a non-ASCII local part."""
    return not address.isascii()
