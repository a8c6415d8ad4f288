"""A send run's shared steps, whoever runs it (`briefing send`, `briefing worker`, the
scheduler): the issue's compiled message, lifting a pause, and marking the issue sent
once its outbox is done, race-safe when several senders finish at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from briefing.clock import utcnow
from briefing.config import Settings
from briefing.deliver.compose import IssueMessage, compose
from briefing.errors import BriefingError
from briefing.models import Issue
from briefing.render import render_issue
from briefing.services import archive
from briefing.services import issues as editorial
from briefing.store import issues as issue_store
from briefing.store import outbox as store


def issue_message(settings: Settings, engine: Engine, issue: Issue, now: datetime) -> IssueMessage:
    """The issue's one compiled message (each recipient's links are spliced in later)."""
    view = editorial.view(settings, engine, issue)
    templates = settings.path(settings.issue.templates) if settings.issue.templates else None
    rendered = render_issue(view, settings, now=now, templates=templates)
    return compose(rendered, settings, issue_id=issue.id, date=now)


def resume(engine: Engine, issue_id: int, now: datetime) -> None:
    """If the last run paused on refusals, give those another try, and lift the pause."""
    with engine.begin() as conn:
        run = store.run(conn, issue_id) or {}
        if run.get("paused_reason"):
            store.requeue_failed(conn, issue_id, now)
            store.set_paused(conn, issue_id, None)


def all_refused(counts: dict[str, int]) -> str:
    return (
        f"paused: every message was refused ({counts['failed']}); check the server "
        "and the list, then run `briefing send` again"
    )


def mark_sent_if_done(settings: Settings, engine: Engine, issue_id: int, actor: str) -> bool:
    """Mark the issue sent if its outbox has nothing left to send (counted in the same
    transaction). Whoever sends the last rows calls this; several senders (workers on
    other machines) may do so at once: one makes the move, the others find it made.
    The issue's web page is stored as sent, in the same transaction. Returns whether the
    issue is sent."""
    done = utcnow()
    with engine.connect() as conn:
        issue = issue_store.get_issue(conn, issue_id)
        if issue.state != "sending":
            return issue.state == "sent"
        left = store.counts(conn, issue_id)
        if left["queued"] or left["sending"] or left["deferred"]:
            return False
    web_page = archive.render_page(settings, editorial.view(settings, engine, issue), done)
    try:
        with engine.begin() as conn:
            current = issue_store.get_issue(conn, issue_id)
            if current.state != "sending":
                return current.state == "sent"
            counts = store.counts(conn, issue_id)
            if counts["queued"] or counts["sending"] or counts["deferred"]:
                return False
            archive.keep(conn, web_page)
            issue_store.set_state(
                conn,
                issue_id,
                "sent",
                now=done,
                actor=actor,
                sent_at=done,
                detail={"counts": counts},
            )
            store.finish_run(conn, issue_id, done)
        return True
    except (BriefingError, IntegrityError, OperationalError):
        # another sender made the move first (the guarded UPDATE found the state changed,
        # or the database refused the concurrent write): what matters is where it ended
        with engine.connect() as conn:
            return issue_store.get_issue(conn, issue_id).state == "sent"
