"""Issues in the database: create, refresh, edit, change state, and the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from briefing.errors import IssueNotFound, NotFoundError
from briefing.models import Issue, IssueState, IssueStory
from briefing.states import OPEN_STATES, check_transition
from briefing.store.issues_schema import issue_articles, issue_events, issue_stories, issues
from briefing.store.schema import articles

CONSUMED_STATES = ("sending", "sent")


def _issue(row: Any, stories: Sequence[IssueStory]) -> Issue:
    return Issue(
        id=row.id,
        state=row.state,
        subject=row.subject,
        preheader=row.preheader,
        editor_note=row.editor_note,
        created_at=row.created_at,
        updated_at=row.updated_at,
        subject_edited=bool(row.subject_edited),
        preheader_edited=bool(row.preheader_edited),
        order_edited=bool(row.order_edited),
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        sent_at=row.sent_at,
        stories=tuple(stories),
        planned_for=row.planned_for,
    )


def _stories(conn: Connection, issue_id: int) -> list[IssueStory]:
    rows = conn.execute(
        select(issue_stories)
        .where(issue_stories.c.issue_id == issue_id)
        .order_by(issue_stories.c.position)
    )
    return [
        IssueStory(
            key=r.story_key,
            topic=r.topic,
            article_ids=tuple(r.article_ids),
            position=r.position,
            excluded=bool(r.excluded),
            reason=r.reason,
            title=r.title,
        )
        for r in rows
    ]


def get_issue(conn: Connection, issue_id: int) -> Issue:
    row = conn.execute(select(issues).where(issues.c.id == issue_id)).first()
    if row is None:
        raise IssueNotFound(issue_id)
    return _issue(row, _stories(conn, issue_id))


def open_issue(conn: Connection) -> Issue | None:
    """The issue being prepared (draft or approved), newest first."""
    row = conn.execute(
        select(issues).where(issues.c.state.in_(OPEN_STATES)).order_by(issues.c.id.desc()).limit(1)
    ).first()
    return _issue(row, _stories(conn, row.id)) if row else None


def latest_issue(conn: Connection) -> Issue | None:
    row = conn.execute(select(issues).order_by(issues.c.id.desc()).limit(1)).first()
    return _issue(row, _stories(conn, row.id)) if row else None


def list_issues(conn: Connection) -> list[Issue]:
    rows = conn.execute(select(issues).order_by(issues.c.id.desc())).all()
    return [_issue(r, _stories(conn, r.id)) for r in rows]


def eligible_article_ids(conn: Connection) -> list[str]:
    """Articles not yet in an issue that was sent (or is being sent), duplicates left out."""
    consumed = (
        select(issue_articles.c.article_id)
        .join(issues, issues.c.id == issue_articles.c.issue_id)
        .where(issues.c.state.in_(CONSUMED_STATES))
    )
    query = select(articles.c.id).where(
        articles.c.duplicate_of.is_(None), articles.c.id.not_in(consumed)
    )
    return [r.id for r in conn.execute(query)]


def issues_holding(conn: Connection, article_id: str) -> list[tuple[int, str]]:
    """(number, state) of every issue holding the article, newest first."""
    rows = conn.execute(
        select(issues.c.id, issues.c.state)
        .join(issue_articles, issue_articles.c.issue_id == issues.c.id)
        .where(issue_articles.c.article_id == article_id)
        .order_by(issues.c.id.desc())
    )
    return [(int(r.id), str(r.state)) for r in rows]


def create_issue(
    conn: Connection, *, subject: str, preheader: str, now: datetime, actor: str
) -> int:
    result = conn.execute(
        insert(issues).values(
            state="draft",
            subject=subject,
            subject_edited=False,
            preheader=preheader,
            preheader_edited=False,
            order_edited=False,
            created_at=now,
            updated_at=now,
        )
    )
    issue_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    add_event(conn, issue_id, now, actor, "created")
    return issue_id


def save_stories(conn: Connection, issue_id: int, stories: Sequence[IssueStory]) -> None:
    conn.execute(delete(issue_stories).where(issue_stories.c.issue_id == issue_id))
    conn.execute(delete(issue_articles).where(issue_articles.c.issue_id == issue_id))
    if not stories:
        return
    conn.execute(
        insert(issue_stories),
        [
            {
                "issue_id": issue_id,
                "story_key": s.key,
                "topic": s.topic,
                "position": s.position,
                "excluded": s.excluded,
                "reason": s.reason,
                "title": s.title,
                "article_ids": list(s.article_ids),
            }
            for s in stories
        ],
    )
    links = {(a, s.key) for s in stories for a in s.article_ids}
    conn.execute(
        insert(issue_articles),
        [{"issue_id": issue_id, "article_id": a, "story_key": key} for a, key in sorted(links)],
    )


def update_issue(conn: Connection, issue_id: int, now: datetime, **values: Any) -> None:
    conn.execute(update(issues).where(issues.c.id == issue_id).values(updated_at=now, **values))


def set_state(
    conn: Connection,
    issue_id: int,
    target: IssueState,
    *,
    now: datetime,
    actor: str,
    detail: dict[str, Any] | None = None,
    **values: Any,
) -> None:
    """Move an issue to ``target`` if allowed, recording who and when. The UPDATE is guarded
    by the state read, so two processes cannot both make the same move."""
    current = conn.execute(
        select(issues.c.state).where(issues.c.id == issue_id)
    ).scalar_one_or_none()
    if current is None:
        raise IssueNotFound(issue_id)
    check_transition(issue_id, current, target)
    result = conn.execute(
        update(issues)
        .where(issues.c.id == issue_id, issues.c.state == current)
        .values(state=target, updated_at=now, **values)
    )
    if result.rowcount != 1:
        raise NotFoundError(f"issue {issue_id} changed state while we were working; try again")
    add_event(conn, issue_id, now, actor, target, {"from": current, **(detail or {})})


def add_event(
    conn: Connection,
    issue_id: int,
    at: datetime,
    actor: str,
    action: str,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        insert(issue_events).values(
            issue_id=issue_id, at=at, actor=actor, action=action, detail=detail or {}
        )
    )


def events(conn: Connection, issue_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(issue_events).where(issue_events.c.issue_id == issue_id).order_by(issue_events.c.id)
    ).mappings()
    return [dict(r) for r in rows]
