"""An email address as Briefing keeps it: the syntax check and canonical form, the states
that keep an address from receiving anything, and the hashes the suppression list keeps.

Addresses are checked for syntax only (email-validator, no DNS). The normalized form
keeps the local part as written and lower-cases the domain, so ``Ann@Example.ORG`` and
``Ann@example.org`` are one subscriber. A base module: the config, the store and every
edge check addresses the same way.
"""

from __future__ import annotations

import hashlib
import hmac

from email_validator import EmailNotValidError, validate_email

from briefing.errors import BriefingError

SUPPRESSED = ("unsubscribed", "bounced", "complained", "forgotten")


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
