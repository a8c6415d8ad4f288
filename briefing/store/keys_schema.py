"""Fingerprints of the keys in use (never the keys): which key signed the links last
sent, and which keys the suppression list's HMACs."""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from briefing.store.schema import UTCDateTime, metadata

# purpose: "signing" (the key that signed the links last sent) or "suppression" (the key
# of the suppression list's HMACs). fingerprint: HMAC-SHA256 of a constant under the key.
key_fingerprints = Table(
    "key_fingerprints",
    metadata,
    Column("purpose", String(32), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
)
