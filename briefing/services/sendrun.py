"""A send run's shared steps, whoever runs it (`briefing send`, `briefing worker`, the
scheduler): the issue's compiled message, an operator's pause and lifting a pause, and
marking the issue sent once its outbox is done, race-safe when several senders finish at
once.
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


OPERATOR_PAUSE = "paused by "  # how an operator's pause reads: "paused by Ann"


def operator_pause(actor: str) -> str:
    return f"{OPERATOR_PAUSE}{actor}"


def is_operator_pause(reason: str | None) -> bool:
    """A pause someone asked for (`send N --pause`), not one a sender ran into."""
    return bool(reason) and str(reason).startswith(OPERATOR_PAUSE)


class NotSending(BriefingError):
    """A pause asked of an issue whose send is not under way."""

    default_hint = "only a send under way can be paused: see `briefing issues`"


def pause(engine: Engine, issue_id: int, *, actor: str, now: datetime | None = None) -> str:
    """Pause the issue's send run: every sender of it, in any process on any machine,
    stops within a second or two (the messages in flight finish and are recorded, the
    rows not reached are given back) and no worker takes it up until the pause is lifted
    (`briefing send N --queue`, or `briefing send N`). The scheduler leaves a run an
    operator paused alone. Returns the run's pause reason: an earlier one if it was
    paused already."""
    now = now or utcnow()
    with engine.begin() as conn:
        issue = issue_store.get_issue(conn, issue_id)
        run = store.run(conn, issue_id)
        if issue.state != "sending" or run is None:
            raise NotSending(f"issue {issue_id} is {issue.state}, not being sent")
        if run.get("paused_reason"):
            return str(run["paused_reason"])
        reason = operator_pause(actor)
        store.set_paused(conn, issue_id, reason)
        issue_store.add_event(conn, issue_id, now, actor, "paused", {"reason": reason})
        return reason


def resume(
    engine: Engine, issue_id: int, now: datetime, *, lift_operator: bool = True
) -> str | None:
    """Lift the run's pause; if a sender ran into it (refusals, an error rate), give the
    failed rows another try. An operator's pause is lifted only with ``lift_operator``
    (an operator sending again; not the scheduler). Returns the pause left, if any."""
    with engine.begin() as conn:
        run = store.run(conn, issue_id) or {}
        reason = run.get("paused_reason")
        if not reason:
            return None
        if is_operator_pause(reason):
            if not lift_operator:
                return str(reason)
        else:
            store.requeue_failed(conn, issue_id, now)
        store.set_paused(conn, issue_id, None)
        return None


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
