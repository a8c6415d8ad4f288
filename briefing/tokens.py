"""Opaque signed tokens for links in emails (unsubscribe, preferences, confirmation).

A token is ``<token_id>.<mac>`` (a confirmation token also carries its expiry):
``token_id`` is a random per-subscriber value, ``mac`` an HMAC-SHA256 of it under the
newest secret. Verification accepts any configured secret, so a secret can be rotated
(add the new one first, keep the old one) without breaking links already sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

from briefing import links

MAC_CHARS = 22  # 132 bits of the HMAC, base64url


def new_token_id() -> str:
    return secrets.token_urlsafe(12)


def _mac(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:MAC_CHARS]


def sign(
    token_id: str, secrets_: Sequence[str], *, purpose: str = "manage", expires: int | None = None
) -> str:
    body = token_id if expires is None else f"{token_id}.{expires}"
    return f"{body}.{_mac(secrets_[0], f'{purpose}:{body}')}"


def manage_links(base_url: str, token_id: str, secrets_: Sequence[str]) -> tuple[str, str, str]:
    """A subscriber's (unsubscribe URL, preferences URL, token): their shapes are in briefing.links."""
    token = sign(token_id, secrets_)
    return links.unsubscribe_url(base_url, token), links.preferences_url(base_url, token), token


def verify(
    token: str, secrets_: Sequence[str], *, purpose: str = "manage", now: int | None = None
) -> str | None:
    """The token_id if the token is genuine (and, with an expiry, not expired); else None."""
    if not token or len(token) > 200 or token.count(".") not in (1, 2):
        return None
    body, _, mac = token.rpartition(".")
    if len(mac) != MAC_CHARS:
        return None
    if not any(hmac.compare_digest(mac, _mac(s, f"{purpose}:{body}")) for s in secrets_):
        return None
    token_id, _, expires = body.partition(".")
    if expires:
        if not expires.isdigit() or (now is not None and int(expires) < now):
            return None
    elif purpose == "confirm":
        return None
    return token_id
