"""Personal data going away: `subscribers forget` (GDPR Art. 17) and the expiry of
subscription requests nobody confirmed.

Forgetting someone clears their subscriber row (address, name, timezone, consent IP and
user agent), removes their address and name from free text in every table
(store/erasure.py), keeps an HMAC of the address on the suppression list (keyring), deletes
the .eml files addressed to them from the outbox folder (and `briefing preview`'s files
when they were its sample recipient), and on SQLite checkpoints the WAL
and truncates it, so no copy of the erased rows stays in briefing.db-wal (freed pages are
zeroed: PRAGMA secure_delete, set in store/db.py).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlalchemy import Engine, delete, func, select

from briefing.clock import utcnow
from briefing.config import Settings
from briefing.email_address import normalize_email
from briefing.services import keyring
from briefing.store import subscribers as store
from briefing.store.db import checkpoint
from briefing.store.editors_schema import editors
from briefing.store.erasure import address_pattern, erase
from briefing.store.web_schema import signin_attempts, subscribe_queue

HEADER_LIMIT = 256 * 1024  # a message's header block is read up to here, never the body


@dataclass
class Erasure:
    """What `forget` did."""

    email: str
    cells: int = 0  # text cells in other rows that held the address or name
    files: list[Path] = field(default_factory=list)  # .eml (and preview) files removed
    folders: list[Path] = field(default_factory=list)  # outbox folders searched
    wal_truncated: bool | None = None  # None: not SQLite
    editor: bool = False  # the address is also an editor account (left alone)


def address_forms(address: str) -> list[str]:
    """The ways an address is written: as stored, and with its domain in punycode (what a
    server echoes back for an international domain)."""
    local, _, domain = address.rpartition("@")
    forms = {address}
    with contextlib.suppress(UnicodeError, ValueError):
        import idna

        forms.add(f"{local}@{idna.encode(domain, uts46=True).decode()}")
    return sorted(forms)


def outbox_folders(settings: Settings, extra: Iterable[Path] = ()) -> list[Path]:
    """The outbox folder of delivery.url (when it is outbox://), and any others named."""
    found: list[Path] = []
    parts = urlsplit(settings.delivery.url)
    if parts.scheme == "outbox" and unquote(parts.netloc + parts.path):
        found.append(settings.path(unquote(parts.netloc + parts.path)))
    found.extend(settings.path(p) for p in extra)
    return list(dict.fromkeys(p.resolve() for p in found))


def _headers(path: Path) -> str:
    """A message file's header block as text, encoded words decoded, or '' if unreadable."""
    try:
        with path.open("rb") as fh:
            head = fh.read(HEADER_LIMIT)
    except OSError:
        return ""
    end = min((i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0), default=-1)
    head = head[: end if end >= 0 else len(head)]
    values = [head.decode("utf-8", errors="replace")]
    with contextlib.suppress(Exception):  # a malformed header must not stop the erasure
        parsed = BytesHeaderParser(policy=policy.default).parsebytes(head + b"\r\n\r\n")
        values.extend(str(v) for _, v in parsed.items())
    return "\n".join(values)


def remove_files(folders: Sequence[Path], pattern: re.Pattern[str]) -> list[Path]:
    """Delete the message files in each Maildir-style folder (tmp/, new/, cur/) whose
    headers carry the address: the issue, proofs and confirmations sent to the person."""
    removed: list[Path] = []
    for folder in folders:
        for sub in ("tmp", "new", "cur"):
            try:
                entries = sorted((folder / sub).iterdir())
            except OSError:
                continue
            for path in entries:
                if path.is_symlink() or not path.is_file():
                    continue
                if pattern.search(_headers(path)):
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                        removed.append(path)
    return removed


PERSONAL_PREVIEW = ("issue.eml", "issue.html", "issue.txt")  # web.html names nobody


def remove_previews(folder: Path, pattern: re.Pattern[str]) -> list[Path]:
    """`briefing preview` writes an issue as its first recipient gets it
    (var/preview/issue-N/): remove those personalized files where that was this person."""
    removed: list[Path] = []
    for eml in sorted(folder.glob("issue-*/issue.eml")):
        if eml.is_file() and not eml.is_symlink() and pattern.search(_headers(eml)):
            for name in PERSONAL_PREVIEW:
                with contextlib.suppress(FileNotFoundError):
                    (eml.parent / name).unlink()
                    removed.append(eml.parent / name)
    return removed


def forget(
    settings: Settings,
    engine: Engine,
    email: str,
    *,
    actor: str = "cli",
    outboxes: Iterable[Path] = (),
    now: datetime | None = None,
) -> Erasure:
    """Erase a person: their personal data goes; an HMAC of the address stays on the
    suppression list so it is not imported again by accident; the events keep no personal
    data. ``outboxes``: outbox folders to clean besides delivery.url's."""
    now = now or utcnow()
    address = normalize_email(email)
    with engine.connect() as conn:
        store.get(conn, address)  # NotFoundError before anything else is done
    key = keyring.suppression_key(settings, engine, now=now)
    with engine.begin() as conn:
        sub = store.get(conn, address)
        assert sub.email is not None
        forms = address_forms(sub.email)
        store.suppress(conn, sub.email, "forgotten", now, key)
        store.update_subscriber(
            conn,
            sub.id,
            now,
            email=None,
            email_key=None,
            name=None,
            status="forgotten",
            timezone=None,
            locale=None,
            consent_ip=None,
            consent_user_agent=None,
            topics=None,
            unsubscribed_at=sub.unsubscribed_at or now,
        )
        store.scrub_events(conn, sub.id)
        # a subscribe request of theirs still in the web app's queue goes whole (it holds
        # the address, name, IP and user agent until the worker applies it)
        conn.execute(
            delete(subscribe_queue).where(
                (subscribe_queue.c.subscriber_id == sub.id)
                | (func.lower(subscribe_queue.c.email) == address.lower())
            )
        )
        is_editor = (
            conn.execute(select(editors.c.id).where(editors.c.email == address.lower())).first()
            is not None
        )
        if not is_editor:  # sign-in attempts under their address, with an IP and browser
            conn.execute(delete(signin_attempts).where(signin_attempts.c.email == address.lower()))
        cells = erase(conn, forms, sub.name, sub.id)
        store.add_event(conn, sub.id, now, "forgotten", actor, {})
    folders = outbox_folders(settings, outboxes)
    theirs = address_pattern(forms, sub.name)
    files = remove_files(folders, theirs)
    files += remove_previews(settings.root / "var" / "preview", theirs)
    return Erasure(
        email=address,
        cells=cells,
        files=files,
        folders=folders,
        wal_truncated=checkpoint(engine),
        editor=is_editor,
    )


@dataclass(frozen=True)
class Expiry:
    expired: int  # pending subscribers deleted
    requests_dropped: int  # requests of people who had left, never confirmed
    cutoff: datetime


def expire_requests(settings: Settings, engine: Engine, *, now: datetime | None = None) -> Expiry:
    """Delete subscription requests older than subscriptions.pending_days that nobody
    confirmed, with their IP address and user agent."""
    now = now or utcnow()
    cutoff = now - timedelta(days=settings.subscriptions.pending_days)
    with engine.begin() as conn:
        people, requests = store.expire_requests(conn, cutoff)
    if people or requests:
        checkpoint(engine)
    return Expiry(people, requests, cutoff)
