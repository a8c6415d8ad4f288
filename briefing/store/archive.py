"""The archive's queries: each sent issue's stored web page, and the list of sent issues
in one query (no issue is loaded whole to list it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from briefing.store.archive_schema import issue_pages
from briefing.store.issues_schema import issues


@dataclass(frozen=True)
class StoredPage:
    issue_id: int
    html: str
    etag: str  # sha256 hex of the page's UTF-8 bytes
    entry: dict[str, Any]  # what its Atom entry shows
    stored_at: datetime


@dataclass(frozen=True)
class ListedIssue:
    """A sent issue as the archive's list and feed show it."""

    id: int
    subject: str
    preheader: str
    sent_at: datetime | None
    etag: str | None  # of the stored page; None: sent before pages were stored
    entry: dict[str, Any] | None


def _page(row: Any) -> StoredPage:
    return StoredPage(row.issue_id, row.html, row.etag, row.entry, row.stored_at)


def page(conn: Connection, issue_id: int) -> StoredPage | None:
    """A sent issue's stored page (None if its state is not `sent`, or none was stored)."""
    row = conn.execute(
        select(issue_pages)
        .join(issues, issues.c.id == issue_pages.c.issue_id)
        .where(issue_pages.c.issue_id == issue_id, issues.c.state == "sent")
    ).first()
    return _page(row) if row is not None else None


def put_page(conn: Connection, stored: StoredPage) -> None:
    """Store an issue's page; an issue keeps the first page stored for it (a concurrent
    request that stored one meanwhile wins, and the second insert is dropped)."""
    if conn.execute(
        select(issue_pages.c.issue_id).where(issue_pages.c.issue_id == stored.issue_id)
    ).first():
        return
    try:
        with conn.begin_nested():
            conn.execute(
                issue_pages.insert().values(
                    issue_id=stored.issue_id,
                    html=stored.html,
                    etag=stored.etag,
                    entry=stored.entry,
                    stored_at=stored.stored_at,
                )
            )
    except IntegrityError:
        pass


def sent(conn: Connection, limit: int | None = None) -> list[ListedIssue]:
    """Sent issues, newest first (the archive's order), with their stored pages' ETags
    and Atom entries (not the pages)."""
    query = (
        select(
            issues.c.id,
            issues.c.subject,
            issues.c.preheader,
            issues.c.sent_at,
            issue_pages.c.etag,
            issue_pages.c.entry,
        )
        .select_from(issues.outerjoin(issue_pages, issue_pages.c.issue_id == issues.c.id))
        .where(issues.c.state == "sent")
        .order_by(issues.c.sent_at.desc(), issues.c.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        ListedIssue(r.id, r.subject, r.preheader or "", r.sent_at, r.etag, r.entry)
        for r in conn.execute(query)
    ]
