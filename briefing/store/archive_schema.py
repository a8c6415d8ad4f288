"""The public archive's table: each sent issue's web page as it was when the issue was
sent (so a later template change leaves the archive alone), its ETag, and the data of
its Atom entry."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Table, Text

from briefing.store.schema import UTCDateTime, metadata

# html: the page /archive/N serves; etag: sha256 of its UTF-8 bytes (hex, unquoted);
# entry: {"stories": [{"lead": {url, title, publisher}, "articles": [{ai_generated}]}],
# "ai": bool} for /archive.atom.
issue_pages = Table(
    "issue_pages",
    metadata,
    Column("issue_id", Integer, ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
    Column("html", Text, nullable=False),
    Column("etag", String(64), nullable=False),
    Column("entry", JSON, nullable=False),
    Column("stored_at", UTCDateTime(), nullable=False),
)
