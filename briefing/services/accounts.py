"""Editor accounts for the desk: argon2id password hashes, sessions kept in the database.

A session is a random token in an HttpOnly cookie; the database keeps only its SHA-256,
so a copy of the database does not sign anyone in. Sessions last ``SESSION_HOURS``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from briefing.clock import utcnow
from briefing.email_address import normalize_email
from briefing.errors import AlreadyAnEditor, BriefingError, NotAnEditor
from briefing.headertext import name_text
from briefing.store.editors_schema import editor_sessions, editors

SESSION_HOURS = 12
MIN_PASSWORD = 12
_hasher = PasswordHasher()
# verified against when the address is unknown, so a wrong address takes as long as a
# wrong password (no telling which editors exist from the timing)
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Editor:
    id: int
    email: str
    name: str | None
    disabled: bool = False

    @property
    def label(self) -> str:
        """How the audit trail names this editor."""
        return f"{self.name} <{self.email}>" if self.name else self.email


def _key(email: str) -> str:
    """Editors sign in whatever the case of their address."""
    return normalize_email(email).lower()


def _editor(row: object) -> Editor:
    return Editor(row.id, row.email, row.name, bool(row.disabled))  # type: ignore[attr-defined]


MIN_STRENGTH = 3  # zxcvbn's score (0-4): 3 is "safely unguessable", over 10^8 guesses
ZXCVBN_LENGTH = 72  # zxcvbn looks at this much of a password (argon2 takes all of it)


def check_password(password: str, *, about: tuple[str | None, ...] = ()) -> None:
    """Refuse a password that is blank, short, or easy to guess: on a common-password list,
    a keyboard walk, a repeat, or made of the account's own address or name (``about``).
    The lists and the estimate are zxcvbn's (Dropbox's estimator, with the 30,000 most
    common passwords among its dictionaries)."""
    if not password.strip():
        raise BriefingError(
            "the password is blank" if not password else "the password is only whitespace",
            "a passphrase of several words is easy to type and hard to guess",
        )
    if len(password) < MIN_PASSWORD:
        raise BriefingError(
            f"the password is {len(password)} characters; use at least {MIN_PASSWORD}",
            "a passphrase of several words is easy to type and hard to guess",
        )
    from zxcvbn import zxcvbn

    words = [w for value in about if value for w in (value, *value.replace("@", " ").split())]
    verdict = zxcvbn(password[:ZXCVBN_LENGTH], user_inputs=words)
    if verdict["score"] < MIN_STRENGTH:
        feedback = verdict.get("feedback") or {}
        why = str(feedback.get("warning") or "it is made of common words, names or patterns")
        tips = " ".join(str(t) for t in feedback.get("suggestions") or ())
        raise BriefingError(
            f"the password is too easy to guess: {why.rstrip('.').lower()}",
            (tips + " " if tips else "")
            + "a passphrase of four or more unrelated words is easy to type and hard to guess",
        )


def add(engine: Engine, email: str, password: str, *, name: str | None = None) -> Editor:
    address = _key(email)
    name = name_text(name)
    check_password(password, about=(address, name))
    try:
        with engine.begin() as conn:
            new_id = conn.execute(
                insert(editors).values(
                    email=address,
                    name=name,
                    password_hash=_hasher.hash(password),
                    disabled=False,
                    created_at=utcnow(),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
    except IntegrityError as exc:
        raise AlreadyAnEditor(address) from exc
    return Editor(int(new_id), address, name)


def set_password(engine: Engine, email: str, password: str) -> None:
    address = _key(email)
    check_password(password, about=(address,))
    with engine.begin() as conn:
        found = conn.execute(
            update(editors)
            .where(editors.c.email == address)
            .values(password_hash=_hasher.hash(password))
        ).rowcount
        if found != 1:
            raise NotAnEditor(address, "passwd")
        ed = conn.execute(select(editors.c.id).where(editors.c.email == address)).scalar_one()
        conn.execute(delete(editor_sessions).where(editor_sessions.c.editor_id == ed))


def remove(engine: Engine, email: str) -> None:
    address = _key(email)
    with engine.begin() as conn:
        if conn.execute(delete(editors).where(editors.c.email == address)).rowcount != 1:
            raise NotAnEditor(address, "remove")


def list_all(engine: Engine) -> list[Editor]:
    with engine.connect() as conn:
        return [_editor(r) for r in conn.execute(select(editors).order_by(editors.c.email))]


def authenticate(engine: Engine, email: str, password: str) -> Editor | None:
    """The editor, if the address and password are right and the account is enabled."""
    try:
        address = _key(email)
    except BriefingError:
        address = ""
    with engine.connect() as conn:
        row = conn.execute(select(editors).where(editors.c.email == address)).first()
    try:
        _hasher.verify(row.password_hash if row is not None else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        with engine.begin() as conn:
            conn.execute(
                update(editors)
                .where(editors.c.id == row.id)
                .values(password_hash=_hasher.hash(password))
            )
    return _editor(row)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(engine: Engine, editor: Editor, now: datetime | None = None) -> str:
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(delete(editor_sessions).where(editor_sessions.c.expires_at < now))
        conn.execute(
            insert(editor_sessions).values(
                token_hash=_digest(token),
                editor_id=editor.id,
                created_at=now,
                expires_at=now + timedelta(hours=SESSION_HOURS),
            )
        )
        conn.execute(update(editors).where(editors.c.id == editor.id).values(last_login_at=now))
    return token


def session_editor(engine: Engine, token: str | None, now: datetime | None = None) -> Editor | None:
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    with engine.connect() as conn:
        row = conn.execute(
            select(editors)
            .join(editor_sessions, editor_sessions.c.editor_id == editors.c.id)
            .where(
                editor_sessions.c.token_hash == _digest(token),
                editor_sessions.c.expires_at > now,
                editors.c.disabled.is_(False),
            )
        ).first()
    return _editor(row) if row is not None else None


def end_session(engine: Engine, token: str | None) -> None:
    if token:
        with engine.begin() as conn:
            conn.execute(
                delete(editor_sessions).where(editor_sessions.c.token_hash == _digest(token))
            )


def set_flash(engine: Engine, token: str | None, kind: str, text: str) -> None:
    """The one-time message the desk shows on the session's next page ("done" or
    "problem"). Kept in the session, never in the URL: a link cannot make the desk say
    anything."""
    if token:
        with engine.begin() as conn:
            conn.execute(
                update(editor_sessions)
                .where(editor_sessions.c.token_hash == _digest(token))
                .values(flash={"kind": kind, "text": text[:500]})
            )


def take_flash(engine: Engine, token: str | None) -> tuple[str, str] | None:
    """The session's one-time message, (kind, text), removed as it is read."""
    if not token or len(token) > 100:
        return None
    with engine.begin() as conn:
        found = conn.execute(
            select(editor_sessions.c.flash).where(editor_sessions.c.token_hash == _digest(token))
        ).scalar()
        if not found:
            return None
        conn.execute(
            update(editor_sessions)
            .where(editor_sessions.c.token_hash == _digest(token))
            .values(flash=None)
        )
    return str(found.get("kind", "")), str(found.get("text", ""))
