"""Read-only look-ups for the web pages (the desk and the public archive): issues, their
history and events, an article and what holds it. The edges (web/, cli/) read the
database through here, never through briefing.store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from briefing.corrections import Correction
from briefing.errors import NotFoundError
from briefing.models import Article, Issue
from briefing.store import articles as article_store
from briefing.store import corrections as correction_store
from briefing.store import issues as issue_store
from briefing.store import outbox as outbox_store
from briefing.store.issues_schema import issues as issues_table
from briefing.store.subscribers_schema import subscriber_events


def issue(engine: Engine, issue_id: int) -> Issue:
    """One issue; NotFoundError when there is none."""
    with engine.connect() as conn:
        return issue_store.get_issue(conn, issue_id)


def sent_issue(engine: Engine, issue_id: int) -> Issue | None:
    """An issue that was sent (what the public archive may show); None for any other."""
    try:
        found = issue(engine, issue_id)
    except NotFoundError:
        return None
    return found if found.state == "sent" else None


def open_issues(engine: Engine) -> list[Issue]:
    """Drafts and approved issues, newest first."""
    with engine.connect() as conn:
        return [i for i in issue_store.list_issues(conn) if i.state in ("draft", "approved")]


def issue_events(engine: Engine, issue_id: int) -> list[dict[str, Any]]:
    """The issue's audit trail, oldest first."""
    with engine.connect() as conn:
        return issue_store.events(conn, issue_id)


def history(engine: Engine) -> list[dict[str, Any]]:
    """Sent issues, newest first, with their counts and the unsubscribes since."""
    with engine.connect() as conn:
        sent = [i for i in issue_store.list_issues(conn) if i.state in ("sent", "sending")]
    out = []
    for one in sorted(sent, key=lambda i: i.id, reverse=True):
        since = one.sent_at or one.updated_at
        with engine.connect() as conn:
            counts = outbox_store.counts(conn, one.id)
            unsubscribes = conn.execute(
                select(func.count()).where(
                    subscriber_events.c.action == "unsubscribed", subscriber_events.c.at >= since
                )
            ).scalar_one()
        out.append({"issue": one, "counts": counts, "unsubscribes": int(unsubscribes)})
    return out


def sent_issues(engine: Engine) -> list[Issue]:
    """Issues that were sent, newest first (the archive's order)."""
    with engine.connect() as conn:
        ids = conn.execute(
            select(issues_table.c.id)
            .where(issues_table.c.state == "sent")
            .order_by(issues_table.c.sent_at.desc(), issues_table.c.id.desc())
        ).scalars()
        return [issue_store.get_issue(conn, i) for i in ids]


def article(engine: Engine, article_id: str) -> Article | None:
    with engine.connect() as conn:
        return article_store.get_article(conn, article_id)


@dataclass(frozen=True)
class ArticleContext:
    """What the desk's article page shows around the article."""

    corrections: list[Correction]  # oldest first
    issues: list[tuple[int, str]]  # (number, state) of the issues holding it, newest first
    open_issue: Issue | None


def article_context(engine: Engine, article_id: str) -> ArticleContext:
    with engine.connect() as conn:
        return ArticleContext(
            corrections=correction_store.history(conn, article_id),
            issues=issue_store.issues_holding(conn, article_id),
            open_issue=issue_store.open_issue(conn),
        )
