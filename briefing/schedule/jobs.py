"""What each job does when it runs: ingest; draft and proof; send, resume, wait, approve
or expire; tell the editors. Each decides from the database alone (through the
services) what is due at the ``now`` it is given, so a job that runs twice, late, or in
two schedulers at once does no harm."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine

from briefing.config import Schedule, Settings
from briefing.deliver.options import Stop
from briefing.errors import BriefingError
from briefing.models import AUTO_APPROVER, Issue
from briefing.schedule.calendar import (
    ZONE_SPREAD,
    Cycle,
    current_cycle,
    cycle_of,
    local_text,
    next_cycle,
    release_times,
)
from briefing.services import erasure, notices
from briefing.services import issues as editorial
from briefing.services import schedule as service
from briefing.services import send as sending

log = logging.getLogger("briefing.schedule")

Outcome = dict[str, Any]


class Context(Protocol):
    """What a job runs with (runner.Runtime is one)."""

    settings: Settings
    engine: Engine
    transport: str | None  # delivery URL override (--transport)
    workers: int
    stop: Stop
    owner: str
    on_release: Callable[[datetime], None] | None  # schedule the next local-time batch

    @property
    def schedule(self) -> Schedule: ...


def tell_editors(rt: Context, subject: str, body: str) -> list[str]:
    """A short plain-text email to [schedule].editors; returns who it went to."""
    return notices.tell_editors(rt.settings, subject, body, transport=rt.transport)


# --- the jobs -----------------------------------------------------------------------------------


def run_ingest(rt: Context, now: datetime) -> Outcome:
    from briefing.services.ingest import ingest

    with service.job_lease(rt.engine, "job:ingest", rt.owner) as ok:
        if not ok:
            return {"outcome": "skipped", "why": "another scheduler is ingesting"}
        reports = ingest(rt.settings, rt.engine, now=now)
        # requests nobody confirmed go after subscriptions.pending_days, IP and all
        expiry = erasure.expire_requests(rt.settings, rt.engine, now=now)
    failed = [r.source for r in reports if r.error]
    return {
        "outcome": "failed" if reports and len(failed) == len(reports) else "ok",
        "sources": len(reports),
        "new": sum(r.new for r in reports),
        "updated": sum(r.updated for r in reports),
        "failed_sources": failed,
        "expired_requests": expiry.expired + expiry.requests_dropped,
    }


def run_draft(rt: Context, now: datetime) -> Outcome:
    """Build (or refresh) the draft for the coming send and email the proof."""
    schedule = rt.schedule
    cycle = next_cycle(schedule, now)
    with service.job_lease(rt.engine, "job:draft", rt.owner) as ok:
        if not ok:
            return {"outcome": "skipped", "why": "another scheduler is drafting"}
        existing = service.issue_for(rt.engine, cycle.planned)
        if existing is not None and existing.state not in ("draft", "approved"):
            return {"outcome": "nothing to do", "issue": existing.id, "state": existing.state}
        from briefing.services.ingest import ingest

        try:
            ingest(rt.settings, rt.engine, now=now)
        except BriefingError as exc:  # a draft from what is stored beats no draft
            log.warning("ingest before the draft failed: %s", exc)
        issue = editorial.draft(rt.settings, rt.engine, actor="scheduler", now=now)
        key = cycle.planned.isoformat()
        service.plan(rt.engine, issue.id, cycle.planned, now)
        proofs: list[str] = []
        if not service.told(rt.engine, issue.id, "proof", key):
            for editor in schedule.editors:
                sending.send_test(
                    rt.settings,
                    rt.engine,
                    issue,
                    editor,
                    transport=rt.transport,
                    now=now,
                    planned=local_text(schedule, cycle.planned),
                )
                proofs.append(editor)
            service.record(rt.engine, issue.id, now, "proof", {"planned": key, "to": proofs})
    return {
        "outcome": "drafted",
        "issue": issue.id,
        "state": issue.state,
        "stories": len(issue.included),
        "planned": key,
        "proofs": proofs,
    }


def run_send(rt: Context, now: datetime) -> Outcome:
    """Whatever the send calls for at ``now``: send, resume, wait, approve, expire."""
    with service.job_lease(rt.engine, "job:send", rt.owner) as ok:
        if not ok:
            return {"outcome": "skipped", "why": "another scheduler is sending"}
        return _send_locked(rt, now)


def _send_locked(rt: Context, now: datetime) -> Outcome:
    schedule, engine = rt.schedule, rt.engine
    by_zone = schedule.deliver_in_subscriber_timezone
    spread = ZONE_SPREAD if by_zone else timedelta(0)
    # with local times, the first subscribers are due up to a day before the planned time
    cycle = current_cycle(schedule, now + spread)
    key = cycle.planned.isoformat()
    expires = cycle.expires + spread

    for flying in service.in_flight(engine):  # a send cut short (a restart, a stop): resume it
        planned = flying.planned_for  # ... if still fresh
        if planned is None or now <= cycle_of(schedule, planned).expires + spread:
            return _deliver(rt, flying, now, cycle if planned == cycle.planned else None)
        if not service.told(engine, flying.id, "told_stale", planned.isoformat()):
            tell_editors(
                rt,
                f"issue {flying.id} stopped part-way and is now too old to finish",
                f"Issue {flying.id} was being sent for {local_text(schedule, planned)} and "
                "stopped part-way; its expiry has passed, so the scheduler will not finish "
                f"it.\nTo finish it anyway: briefing send {flying.id}\n",
            )
            service.record(engine, flying.id, now, "told_stale", {"planned": planned.isoformat()})

    issue = service.issue_for(engine, cycle.planned)
    if issue is None:
        open_issue = service.open_issue(engine)
        if open_issue is not None and (
            open_issue.planned_for is None or open_issue.planned_for < cycle.planned
        ):
            issue = open_issue  # made by hand, or left over: it is this send's now
    if issue is not None and issue.state in ("sent", "cancelled", "expired"):
        return {"outcome": f"already {issue.state}", "issue": issue.id, "planned": key}

    if now < cycle.planned - spread:
        return {"outcome": "nothing due", "next": next_cycle(schedule, now).planned.isoformat()}
    if now > expires:
        if issue is not None and issue.planned_for == cycle.planned:
            return _expire(rt, issue, now, cycle)
        return {"outcome": "nothing due", "next": next_cycle(schedule, now).planned.isoformat()}

    # with local times the window opens before the send time in schedule.timezone; the
    # editors are told, and the scheduler drafts, only from the send time itself
    early = now < cycle.planned
    if issue is None and early:
        return {"outcome": "no issue yet", "planned": key}
    if issue is None:
        if schedule.require_approval:
            # no issue to hang an event on: a lease that outlives the week says "told"
            if service.first_to_tell(engine, f"told:no-issue:{key}", timedelta(days=8)):
                tell_editors(
                    rt,
                    "no issue to send",
                    f"The send planned for {local_text(schedule, cycle.planned)} has no issue. "
                    "Build one with `briefing draft` and approve it before "
                    f"{local_text(schedule, expires)}.\n",
                )
            return {"outcome": "no issue", "planned": key}
        issue = editorial.draft(rt.settings, engine, actor="scheduler", now=now)
    if issue.planned_for != cycle.planned:
        service.plan(engine, issue.id, cycle.planned, now)

    if (
        issue.state == "draft"
        and early
        and (schedule.require_approval or now < cycle.draft_at or not issue.included)
    ):
        return {
            "outcome": "waiting for approval",
            "issue": issue.id,
            "until": expires.isoformat(),
        }
    if issue.state == "draft":
        if schedule.require_approval:
            told: list[str] = []
            if not service.told(engine, issue.id, "told_unapproved", key):
                told = tell_editors(
                    rt,
                    f"issue {issue.id} is not approved: the send is on hold",
                    f"Issue {issue.id} ({issue.subject}) was due to go out at "
                    f"{local_text(schedule, cycle.planned)} but is not approved.\n"
                    f"The scheduler tries again every {schedule.retry_every} until "
                    f"{local_text(schedule, expires)}; after that the issue expires.\n"
                    f"Approve it: briefing approve {issue.id} --by 'YOUR NAME'\n",
                )
                service.record(
                    engine, issue.id, now, "told_unapproved", {"planned": key, "to": told}
                )
            return {
                "outcome": "waiting for approval",
                "issue": issue.id,
                "until": expires.isoformat(),
                "told": told,
            }
        issue = editorial.approve(
            engine, issue.id, by=f"{AUTO_APPROVER} (require_approval = false)", now=now
        )
        service.record(
            engine,
            issue.id,
            now,
            "auto_approved",
            {"planned": key, "why": "require_approval = false"},
        )
    return _deliver(rt, issue, now, cycle)


def _expire(rt: Context, issue: Issue, now: datetime, cycle: Cycle) -> Outcome:
    service.expire(rt.engine, issue.id, cycle.planned, now)
    told = tell_editors(
        rt,
        f"issue {issue.id} expired unsent",
        f"Issue {issue.id} ({issue.subject}) was planned for "
        f"{local_text(rt.schedule, cycle.planned)} and was not approved before "
        f"{local_text(rt.schedule, cycle.expires)}, so it was not sent "
        "and is now marked expired.\n",
    )
    return {
        "outcome": "expired",
        "issue": issue.id,
        "planned": cycle.planned.isoformat(),
        "told": told,
    }


def _deliver(rt: Context, issue: Issue, now: datetime, cycle: Cycle | None) -> Outcome:
    schedule = rt.schedule
    by_zone = schedule.deliver_in_subscriber_timezone and cycle is not None
    options = sending.options_from(
        rt.settings, transport=rt.transport, workers=rt.workers, rate=None
    )
    sending.preflight(rt.settings, rt.engine, options.transport_url, now=now)
    stale = 0
    if by_zone and cycle is not None:
        # queue everyone with their release times first, then drop the zones whose local
        # send time is too long past: never a stale issue hours late, whatever the zone
        issue = sending.prepare(
            rt.settings,
            rt.engine,
            issue,
            force=False,
            actor="scheduler",
            now=now,
            release_times=release_times(schedule, cycle),
        )
        stale = service.expire_unreleased(
            rt.engine, issue.id, now - schedule.duration("expire_after"), now
        )
    summary = sending.send(
        rt.settings,
        rt.engine,
        issue,
        options,
        actor="scheduler",
        now=now,
        stop=rt.stop,
        release_times=release_times(schedule, cycle) if by_zone and cycle else None,
        lift_operator_pause=False,  # an operator's `send N --pause` is theirs to lift
    )
    outcome: Outcome = {
        "outcome": "sent"
        if summary.finished
        else ("stopped" if rt.stop.is_set() else "partly sent"),
        "issue": issue.id,
        "sent_this_run": summary.sent_this_run,
        **{
            k: summary.counts.get(k, 0) for k in ("sent", "deferred", "failed", "skipped", "queued")
        },
    }
    if stale:
        outcome["expired_rows"] = stale
    if summary.paused:
        outcome["paused"] = summary.paused
    if not summary.finished:
        due = service.next_batch(rt.engine, issue.id)
        if due is not None:
            outcome["next_batch"] = due.isoformat()
            if rt.on_release is not None and not rt.stop.is_set():
                rt.on_release(due)
    return outcome
