"""The public archive's pages, stored when an issue is sent: the web version of each
issue exactly as it was at that moment (a later template or article change leaves it
alone), its ETag, and what its Atom entry shows. Issues sent before pages were stored
are rendered once, on their first request, and stored then."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from briefing.clock import utcnow
from briefing.config import Settings
from briefing.models import Issue, IssueView
from briefing.render import render_web
from briefing.services import issues as editorial
from briefing.services import lookup
from briefing.store import archive as store
from briefing.store.archive import ListedIssue, StoredPage

__all__ = [
    "ListedIssue",
    "StoredPage",
    "etag_of",
    "feed",
    "keep",
    "page",
    "render_page",
    "sent",
    "stored_here",
]


_stored_here = [0]  # pages stored by this process: the web app's memory of the list checks it


def stored_here() -> int:
    """How many pages this process stored (an issue sent here changes it at once; one
    sent by another process shows once the web app's memory of the list runs out)."""
    return _stored_here[0]


def etag_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _entry(view: IssueView) -> dict[str, Any]:
    return {
        "stories": [
            {
                "lead": {
                    "url": s.lead.url,
                    "title": s.lead.title,
                    "publisher": s.lead.publisher,
                },
                "articles": [{"ai_generated": bool(a.ai_generated)} for a in s.articles],
            }
            for s in view.stories
        ],
        "ai": any(a.ai_generated for a in view.articles),
    }


def render_page(settings: Settings, view: IssueView, sent_at: datetime) -> StoredPage:
    templates = settings.path(settings.issue.templates) if settings.issue.templates else None
    html = render_web(view, settings, now=sent_at, templates=templates)
    return StoredPage(
        issue_id=view.issue.id,
        html=html,
        etag=etag_of(html.encode()),
        entry=_entry(view),
        stored_at=utcnow(),
    )


def keep(conn: Connection, made: StoredPage) -> None:
    """Store the issue's web page as sent (in the transaction that marks it sent)."""
    store.put_page(conn, made)
    _stored_here[0] += 1


def _stored_now(settings: Settings, engine: Engine, issue: Issue) -> StoredPage:
    """An issue sent before pages were stored: render it as today, once, and keep it."""
    view = editorial.view(settings, engine, issue)
    made = render_page(settings, view, issue.sent_at or utcnow())
    with engine.begin() as conn:
        store.put_page(conn, made)
        _stored_here[0] += 1
        return store.page(conn, issue.id) or made


def page(settings: Settings, engine: Engine, issue_id: int) -> StoredPage | None:
    """The stored page of a sent issue; None for any other issue."""
    with engine.connect() as conn:
        found = store.page(conn, issue_id)
    if found is not None:
        return found
    issue = lookup.sent_issue(engine, issue_id)
    return _stored_now(settings, engine, issue) if issue is not None else None


def sent(engine: Engine) -> list[ListedIssue]:
    """The sent issues, newest first, in one query (the archive's list)."""
    with engine.connect() as conn:
        return store.sent(conn)


def feed(settings: Settings, engine: Engine, limit: int) -> tuple[list[ListedIssue], datetime]:
    """The newest ``limit`` sent issues with their Atom entries (an issue sent before pages
    were stored is stored now), and when the newest was sent."""
    with engine.connect() as conn:
        found = store.sent(conn)
    updated = max((i.sent_at for i in found if i.sent_at), default=utcnow())
    out = []
    for one in found[:limit]:
        if one.entry is None:
            issue = lookup.sent_issue(engine, one.id)
            if issue is not None:
                made = _stored_now(settings, engine, issue)
                one = ListedIssue(
                    one.id, one.subject, one.preheader, one.sent_at, made.etag, made.entry
                )
        out.append(one)
    return out, updated
