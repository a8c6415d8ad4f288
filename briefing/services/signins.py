"""Sign-ins to the desk: every attempt is recorded (``signin_attempts``), and an account
with ``ACCOUNT_FAILURES`` failed sign-ins within ``WINDOW`` takes no more attempts until
the window has passed, whatever address they come from. Addresses the account signed in
from successfully in the last ``KNOWN_DAYS`` days are exempt, so an attacker spreading
guesses cannot lock the editor out of their usual place. An address that is not an
editor's is throttled and recorded the same way: the answers do not tell them apart.
(The per-client limit lives in the web app: web/desk.py.)
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, select

from briefing.clock import utcnow
from briefing.email_address import InvalidAddress, normalize_email
from briefing.store.editors_schema import editors
from briefing.store.web_schema import signin_attempts

log = logging.getLogger("briefing.web")

WINDOW = timedelta(minutes=15)
ACCOUNT_FAILURES = 10
KNOWN_DAYS = 30
KEEP = timedelta(days=90)


def account(email: str) -> str:
    """The key an attempt is recorded and throttled under: the address as sign-in reads it
    (email-validator's form, lower-cased, as briefing.services.accounts looks accounts up), so no
    other spelling of it (a full-width letter or an ideographic full stop in the domain,
    which IDNA maps back) has a throttle of its own. Control characters typed into it are
    dropped first (a NUL, which PostgreSQL's text cannot hold, would fail the statement):
    what is left is read as an address, or else folded as typed."""
    typed = "".join(ch for ch in email if unicodedata.category(ch) != "Cc" or ch.isspace())
    try:
        return normalize_email(typed).lower()[:320]
    except InvalidAddress:
        return " ".join(typed.split()).lower()[:320]


def wait_seconds(engine: Engine, email: str, ip: str | None, now: datetime | None = None) -> int:
    """0 when this account may try to sign in from ``ip`` now; else the seconds to wait."""
    now = now or utcnow()
    key = account(email)
    with engine.connect() as conn:
        failures = list(
            conn.execute(
                select(signin_attempts.c.at)
                .where(
                    signin_attempts.c.email == key,
                    signin_attempts.c.outcome == "failed",
                    signin_attempts.c.at > now - WINDOW,
                )
                .order_by(signin_attempts.c.at)
            ).scalars()
        )
        if len(failures) < ACCOUNT_FAILURES:
            return 0
        if ip:
            known = conn.execute(
                select(signin_attempts.c.id)
                .where(
                    signin_attempts.c.email == key,
                    signin_attempts.c.ip == ip[:64],
                    signin_attempts.c.outcome == "signed_in",
                    signin_attempts.c.at > now - timedelta(days=KNOWN_DAYS),
                )
                .limit(1)
            ).first()
            if known is not None:
                return 0
    # the limit is under again once enough of the failures in the window have aged out
    frees_at = failures[len(failures) - ACCOUNT_FAILURES] + WINDOW
    return max(1, int((frees_at - now).total_seconds()) + 1)


def record(
    engine: Engine,
    email: str,
    outcome: str,
    *,
    ip: str | None,
    user_agent: str | None,
    now: datetime | None = None,
) -> None:
    """Record one attempt: ``signed_in``, ``failed`` or ``throttled`` (and forget
    attempts older than KEEP)."""
    now = now or utcnow()
    key = account(email)
    with engine.begin() as conn:
        editor_id = conn.execute(select(editors.c.id).where(editors.c.email == key)).scalar()
        conn.execute(
            insert(signin_attempts).values(
                at=now,
                email=key,
                editor_id=editor_id,
                ip=ip[:64] if ip else None,
                user_agent=user_agent[:300] if user_agent else None,
                outcome=outcome,
            )
        )
        conn.execute(delete(signin_attempts).where(signin_attempts.c.at < now - KEEP))
    if outcome != "signed_in":
        # one line per refusal, for the operator's log (and fail2ban): who is not named
        log.warning(
            "desk sign-in %s from %s (%s)",
            outcome,
            ip or "an unknown address",
            f"editor #{editor_id}" if editor_id is not None else "not an editor",
        )
