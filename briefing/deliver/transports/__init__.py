"""Transports, chosen by a URL: where messages go.

    smtp://user@host:587            SMTP, STARTTLS when the server offers it
    smtp://host:25?starttls=require refuse to send without STARTTLS
    smtps://user@host:465           SMTP over implicit TLS
    outbox:///path/to/dir           a Maildir-style folder of .eml files (tmp/ then new/)

MemoryTransport (tests) keeps messages in a list; it has no URL.

A password never goes in the URL in the config: it comes from the environment variable
or file that delivery.password_env / delivery.password_file names.

Addresses go on the wire in their wire form: an IDN domain in punycode. A local part that
is not ASCII needs SMTPUTF8 (RFC 6531): MAIL FROM then carries the SMTPUTF8 parameter,
and a server that does not offer it gets no such message (that one recipient fails with
"server does not offer SMTPUTF8"; the others go on).
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from briefing.config import Settings
from briefing.deliver.transports.base import (
    ConnectionLost,
    DeliveryError,
    RecipientRefused,
    Transport,
    Undeliverable,
)
from briefing.deliver.transports.folder import OUTBOX_HINT, FolderTransport
from briefing.deliver.transports.memory import MemoryTransport
from briefing.deliver.transports.smtp import SMTPUTF8_HINT, SMTPTransport, password

__all__ = [
    "OUTBOX_HINT",
    "SMTPUTF8_HINT",
    "ConnectionLost",
    "DeliveryError",
    "FolderTransport",
    "MemoryTransport",
    "RecipientRefused",
    "SMTPTransport",
    "Transport",
    "Undeliverable",
    "open_transport",
    "password",
]


def open_transport(url: str, settings: Settings) -> Transport:
    """A transport for ``url`` (delivery.url, BRIEFING_DELIVERY_URL or --transport)."""
    parts = urlsplit(url)
    if parts.scheme == "outbox":
        raw = unquote(parts.netloc + parts.path)
        if not raw:
            raise DeliveryError(
                f"{url!r} names no folder",
                "write outbox:///absolute/path or outbox://relative/path",
            )
        return FolderTransport(settings.path(raw), url=url)
    if parts.scheme in {"smtp", "smtps"}:
        if not parts.hostname:
            raise DeliveryError(f"{url!r} names no host", "write smtp://user@host:587")
        query = parse_qs(parts.query)
        starttls = (query.get("starttls") or ["auto"])[0]
        if starttls not in {"auto", "require", "never"}:
            raise DeliveryError(
                f"starttls={starttls} in {url!r}", "use starttls=auto, require or never"
            )
        secret = unquote(parts.password) if parts.password else password(settings)
        implicit = parts.scheme == "smtps"
        return SMTPTransport(
            url,
            host=parts.hostname,
            port=parts.port or (465 if implicit else 587),
            implicit_tls=implicit,
            starttls=starttls,
            username=unquote(parts.username) if parts.username else None,
            password=secret,
            timeout=settings.delivery.timeout,
        )
    raise DeliveryError(f"unknown transport {url!r}", "use smtp://, smtps:// or outbox://")
