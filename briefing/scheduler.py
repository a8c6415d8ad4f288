"""The weekly cycle, kept by APScheduler 3: ingest, draft and proof, send.

    ingest      every [schedule].ingest_every: read the feeds and seeds
    draft       draft_before the send: ingest, build (or refresh) the draft for the coming
                send, email a proof to [schedule].editors
    send        at the send time: send the approved issue (or approve it, when no approval
                is required); an unapproved one waits, the editors are told
    send-retry  every retry_every: the same check, so a late approval still goes out, a
                send cut short resumes, and an issue past expire_after is marked expired

Each job decides from the database alone what is due at the moment it runs (the ``now``
it is given), so a job that runs twice, late, or in two schedulers at once does no harm:
every job runs under a named lease in the database (APScheduler 3 has no cross-process
locking), the issue's state says whether it was sent, and Step 4's outbox makes sure a
send that is cut short and resumed reaches everyone exactly once.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from briefing.clock import utcnow
from briefing.config import DAYS, Schedule, Settings
from briefing.deliver.message import notice
from briefing.deliver.sender import Stop
from briefing.deliver.transport import open_transport
from briefing.errors import BriefingError
from briefing.models import AUTO_APPROVER, Issue
from briefing.services import erasure
from briefing.services import issues as editorial
from briefing.services import send as sending
from briefing.store import issues as issue_store
from briefing.store import locks
from briefing.store import outbox as outbox_store
from briefing.store.issues_schema import issue_events, issues

log = logging.getLogger("briefing.schedule")

JOB_IDS = ("ingest", "draft", "send", "send-retry")
RELEASE_JOB = "send-release"  # per-subscriber timezones: the next batch's local send time
JOBSTORE_TABLE = "apscheduler_jobs"


# --- the calendar -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cycle:
    """One weekly send: when it is planned, when its draft is built, when it expires."""

    planned: datetime  # aware, UTC
    draft_at: datetime
    expires: datetime


def _planned_on(schedule: Schedule, day: date) -> datetime:
    """The send time on ``day`` in the schedule's timezone, as a UTC instant (a time that
    a DST change skips or repeats resolves as zoneinfo does: the earlier offset)."""
    return datetime.combine(day, schedule.time, tzinfo=schedule.tz).astimezone(UTC)


def cycle_of(schedule: Schedule, planned: datetime) -> Cycle:
    # the draft time is counted on the wall clock, as the draft job's cron trigger does
    # (36h before "mon 07:00" is Saturday 19:00 local, whether or not DST changes between)
    wall = planned.astimezone(schedule.tz).replace(tzinfo=None) - schedule.duration("draft_before")
    return Cycle(
        planned=planned,
        draft_at=wall.replace(tzinfo=schedule.tz).astimezone(UTC),
        expires=planned + schedule.duration("expire_after"),
    )


def current_cycle(schedule: Schedule, now: datetime) -> Cycle:
    """The latest send planned at or before ``now``."""
    local = now.astimezone(schedule.tz).date()
    day = local - timedelta(days=(local.weekday() - schedule.weekday) % 7)
    planned = _planned_on(schedule, day)
    if planned > now:
        planned = _planned_on(schedule, day - timedelta(days=7))
    return cycle_of(schedule, planned)


def next_cycle(schedule: Schedule, now: datetime) -> Cycle:
    """The first send planned after ``now``."""
    current = current_cycle(schedule, now).planned.astimezone(schedule.tz).date()
    return cycle_of(schedule, _planned_on(schedule, current + timedelta(days=7)))


def release_times(
    schedule: Schedule, cycle: Cycle
) -> Callable[[list[str | None]], dict[str | None, datetime]]:
    """Per-subscriber local time: the cycle's send day and time in each subscriber's own
    timezone (subscribers without one get the schedule's)."""
    day = cycle.planned.astimezone(schedule.tz).date()

    def times(zones: list[str | None]) -> dict[str | None, datetime]:
        out: dict[str | None, datetime] = {}
        for zone in zones:
            tz = schedule.tz
            if zone:
                try:
                    tz = ZoneInfo(zone)
                except (KeyError, ValueError):  # stored before validation: use the default
                    tz = schedule.tz
            out[zone] = datetime.combine(day, schedule.time, tzinfo=tz).astimezone(UTC)
        return out

    return times


# The widest spread of local times (UTC-12 to UTC+14) around the planned send.
ZONE_SPREAD = timedelta(hours=26)


# --- what the jobs run with ---------------------------------------------------------------------


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    transport: str | None = None  # delivery URL override (--transport)
    workers: int = 1  # senders run as threads inside the scheduler
    stop: Stop = field(default_factory=Stop)
    clock: Callable[[], datetime] = utcnow
    owner: str = field(default_factory=lambda: locks.new_owner("scheduler"))
    on_release: Callable[[datetime], None] | None = None  # schedule the next local-time batch

    @property
    def schedule(self) -> Schedule:
        return self.settings.schedule


Outcome = dict[str, Any]


def _fmt(schedule: Schedule, at: datetime) -> str:
    return at.astimezone(schedule.tz).strftime(f"%a %d %b %Y, %H:%M {schedule.timezone}")


def _issue_for(engine: Engine, planned: datetime) -> Issue | None:
    """The issue planned for this send, whatever its state."""
    with engine.connect() as conn:
        row = conn.execute(
            select(issues.c.id)
            .where(issues.c.planned_for == planned)
            .order_by(issues.c.id.desc())
            .limit(1)
        ).first()
        return issue_store.get_issue(conn, row.id) if row else None


def _told(engine: Engine, issue_id: int | None, action: str, key: str) -> bool:
    """Whether the editors were already told ``action`` about ``key`` (a planned send)."""
    if issue_id is None:
        return False
    with engine.connect() as conn:
        rows = conn.execute(
            select(issue_events.c.detail).where(
                issue_events.c.issue_id == issue_id, issue_events.c.action == action
            )
        ).scalars()
        return any((d or {}).get("planned") == key for d in rows)


def tell_editors(rt: Runtime, subject: str, body: str) -> list[str]:
    """A short plain-text email to [schedule].editors; returns who it went to."""
    editors = list(rt.schedule.editors)
    if not editors:
        return []
    sender = rt.settings.newsletter.sender
    channel = open_transport(rt.transport or rt.settings.delivery.url, rt.settings)
    try:
        for to in editors:
            recipient, data = notice(
                rt.settings, to, f"[{rt.settings.newsletter.name}] {subject}", body
            )
            channel.send(parseaddr(sender)[1], recipient, data)
    finally:
        channel.close()
    return editors


def _record(engine: Engine, issue_id: int, now: datetime, action: str, detail: Outcome) -> None:
    with engine.begin() as conn:
        issue_store.add_event(conn, issue_id, now, "scheduler", action, detail)


# --- the jobs -----------------------------------------------------------------------------------


def run_ingest(rt: Runtime, now: datetime) -> Outcome:
    from briefing.services.ingest import ingest

    with locks.held(rt.engine, "job:ingest", rt.owner) as ok:
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


def run_draft(rt: Runtime, now: datetime) -> Outcome:
    """Build (or refresh) the draft for the coming send and email the proof."""
    schedule = rt.schedule
    cycle = next_cycle(schedule, now)
    with locks.held(rt.engine, "job:draft", rt.owner) as ok:
        if not ok:
            return {"outcome": "skipped", "why": "another scheduler is drafting"}
        existing = _issue_for(rt.engine, cycle.planned)
        if existing is not None and existing.state not in ("draft", "approved"):
            return {"outcome": "nothing to do", "issue": existing.id, "state": existing.state}
        from briefing.services.ingest import ingest

        try:
            ingest(rt.settings, rt.engine, now=now)
        except BriefingError as exc:  # a draft from what is stored beats no draft
            log.warning("ingest before the draft failed: %s", exc)
        issue = editorial.draft(rt.settings, rt.engine, actor="scheduler", now=now)
        key = cycle.planned.isoformat()
        with rt.engine.begin() as conn:
            issue_store.update_issue(conn, issue.id, now, planned_for=cycle.planned)
        proofs: list[str] = []
        if not _told(rt.engine, issue.id, "proof", key):
            for editor in schedule.editors:
                sending.send_test(
                    rt.settings,
                    rt.engine,
                    issue,
                    editor,
                    transport=rt.transport,
                    now=now,
                    planned=_fmt(schedule, cycle.planned),
                )
                proofs.append(editor)
            _record(rt.engine, issue.id, now, "proof", {"planned": key, "to": proofs})
    return {
        "outcome": "drafted",
        "issue": issue.id,
        "state": issue.state,
        "stories": len(issue.included),
        "planned": key,
        "proofs": proofs,
    }


def run_send(rt: Runtime, now: datetime) -> Outcome:
    """Whatever the send calls for at ``now``: send, resume, wait, approve, expire."""
    with locks.held(rt.engine, "job:send", rt.owner) as ok:
        if not ok:
            return {"outcome": "skipped", "why": "another scheduler is sending"}
        return _send_locked(rt, now)


def _send_locked(rt: Runtime, now: datetime) -> Outcome:
    schedule, engine = rt.schedule, rt.engine
    by_zone = schedule.deliver_in_subscriber_timezone
    spread = ZONE_SPREAD if by_zone else timedelta(0)
    # with local times, the first subscribers are due up to a day before the planned time
    cycle = current_cycle(schedule, now + spread)
    key = cycle.planned.isoformat()
    expires = cycle.expires + spread

    with engine.connect() as conn:
        in_flight = [i for i in issue_store.list_issues(conn) if i.state == "sending"]
    for flying in in_flight:  # a send cut short (a restart, a stop): resume it, if still fresh
        planned = flying.planned_for
        if planned is None or now <= cycle_of(schedule, planned).expires + spread:
            return _deliver(rt, flying, now, cycle if planned == cycle.planned else None)
        if not _told(engine, flying.id, "told_stale", planned.isoformat()):
            tell_editors(
                rt,
                f"issue {flying.id} stopped part-way and is now too old to finish",
                f"Issue {flying.id} was being sent for {_fmt(schedule, planned)} and stopped "
                "part-way; its expiry has passed, so the scheduler will not finish it.\n"
                f"To finish it anyway: briefing send {flying.id}\n",
            )
            _record(engine, flying.id, now, "told_stale", {"planned": planned.isoformat()})

    issue = _issue_for(engine, cycle.planned)
    if issue is None:
        with engine.connect() as conn:
            open_issue = issue_store.open_issue(conn)
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
            if locks.acquire(engine, f"told:no-issue:{key}", locks.new_owner(), timedelta(days=8)):
                tell_editors(
                    rt,
                    "no issue to send",
                    f"The send planned for {_fmt(schedule, cycle.planned)} has no issue. "
                    "Build one with `briefing draft` and approve it before "
                    f"{_fmt(schedule, expires)}.\n",
                )
            return {"outcome": "no issue", "planned": key}
        issue = editorial.draft(rt.settings, engine, actor="scheduler", now=now)
    if issue.planned_for != cycle.planned:
        with engine.begin() as conn:
            issue_store.update_issue(conn, issue.id, now, planned_for=cycle.planned)

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
            if not _told(engine, issue.id, "told_unapproved", key):
                told = tell_editors(
                    rt,
                    f"issue {issue.id} is not approved: the send is on hold",
                    f"Issue {issue.id} ({issue.subject}) was due to go out at "
                    f"{_fmt(schedule, cycle.planned)} but is not approved.\n"
                    f"The scheduler tries again every {schedule.retry_every} until "
                    f"{_fmt(schedule, expires)}; after that the issue expires.\n"
                    f"Approve it: briefing approve {issue.id} --by 'YOUR NAME'\n",
                )
                _record(engine, issue.id, now, "told_unapproved", {"planned": key, "to": told})
            return {
                "outcome": "waiting for approval",
                "issue": issue.id,
                "until": expires.isoformat(),
                "told": told,
            }
        issue = editorial.approve(
            engine, issue.id, by=f"{AUTO_APPROVER} (require_approval = false)", now=now
        )
        _record(
            engine,
            issue.id,
            now,
            "auto_approved",
            {"planned": key, "why": "require_approval = false"},
        )
    return _deliver(rt, issue, now, cycle)


def _expire(rt: Runtime, issue: Issue, now: datetime, cycle: Cycle) -> Outcome:
    with rt.engine.begin() as conn:
        issue_store.set_state(
            conn,
            issue.id,
            "expired",
            now=now,
            actor="scheduler",
            detail={"planned": cycle.planned.isoformat(), "why": "not sent before expire_after"},
        )
    told = tell_editors(
        rt,
        f"issue {issue.id} expired unsent",
        f"Issue {issue.id} ({issue.subject}) was planned for {_fmt(rt.schedule, cycle.planned)} "
        f"and was not approved before {_fmt(rt.schedule, cycle.expires)}, so it was not sent "
        "and is now marked expired.\n",
    )
    return {
        "outcome": "expired",
        "issue": issue.id,
        "planned": cycle.planned.isoformat(),
        "told": told,
    }


def _deliver(rt: Runtime, issue: Issue, now: datetime, cycle: Cycle | None) -> Outcome:
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
        with rt.engine.begin() as conn:
            stale = outbox_store.expire_unreleased(
                conn, issue.id, now - schedule.duration("expire_after"), now
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
        with rt.engine.connect() as conn:
            due = outbox_store.next_retry(conn, issue.id)
        if due is not None:
            outcome["next_batch"] = due.isoformat()
            if rt.on_release is not None and not rt.stop.is_set():
                rt.on_release(due)
    return outcome


# --- APScheduler --------------------------------------------------------------------------------

_RUNTIME: Runtime | None = None
TASKS: dict[str, Callable[[Runtime, datetime], Outcome]] = {
    "ingest": run_ingest,
    "draft": run_draft,
    "send": run_send,
    "send-retry": run_send,
    RELEASE_JOB: run_send,
}


def run_job(name: str) -> Outcome:
    """What APScheduler calls (by reference, so the job store holds no objects): run one
    job with the process's runtime and log one JSON line with its outcome."""
    rt = _RUNTIME
    if rt is None:
        raise RuntimeError("the scheduler runtime is not set up")
    return execute(rt, name)


def execute(rt: Runtime, name: str, now: datetime | None = None) -> Outcome:
    now = now or rt.clock()
    started = time.monotonic()
    try:
        result = TASKS[name](rt, now)
    except BriefingError as exc:
        result = {"outcome": "error", "error": exc.message, "hint": exc.hint}
    except Exception as exc:  # one failed run must not stop the scheduler
        log.exception("job %s failed", name)
        result = {"outcome": "error", "error": f"{type(exc).__name__}: {exc}"}
    line = {
        "ts": utcnow().isoformat(timespec="seconds"),
        "job": name,
        "at": now.isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 3),
        **result,
    }
    log.info("%s", json.dumps(line, default=str, ensure_ascii=False))
    return result


def triggers(schedule: Schedule, start: datetime | None = None) -> dict[str, Any]:
    """Each job's APScheduler trigger, in the schedule's timezone (``start``: where the
    interval jobs count from; default one interval from now)."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    # the draft: the send's wall-clock time minus draft_before, on the right weekday
    ref = datetime(2024, 1, 1 + schedule.weekday, schedule.time.hour, schedule.time.minute)
    draft = ref - schedule.duration("draft_before")
    return {
        "ingest": IntervalTrigger(
            seconds=int(schedule.duration("ingest_every").total_seconds()),
            start_date=start,
            timezone=schedule.tz,
        ),
        "draft": CronTrigger(
            day_of_week=DAYS[draft.weekday()],
            hour=draft.hour,
            minute=draft.minute,
            timezone=schedule.tz,
        ),
        "send": CronTrigger(
            day_of_week=DAYS[schedule.weekday],
            hour=schedule.time.hour,
            minute=schedule.time.minute,
            timezone=schedule.tz,
        ),
        "send-retry": IntervalTrigger(
            seconds=int(schedule.duration("retry_every").total_seconds()),
            start_date=start,
            timezone=schedule.tz,
        ),
    }


def _describe(schedule: Schedule, job_id: str) -> str:
    """A job's timing in the config's own words."""
    if job_id == "ingest":
        return f"every {schedule.ingest_every}"
    if job_id == "send-retry":
        return f"every {schedule.retry_every}"
    if job_id == "send":
        return f"weekly, {schedule.send}"
    return f"weekly, {schedule.draft_before} before the send"


def make_scheduler(rt: Runtime) -> Any:
    """A BackgroundScheduler with the jobs in the database (SQLAlchemyJobStore, stable
    ids). A job whose trigger is unchanged keeps its stored next run time, so a run missed
    while the scheduler was down fires on restart (once: coalesce) within the misfire
    grace time; a changed trigger replaces the job."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    schedule = rt.schedule
    grace = int(schedule.duration("expire_after").total_seconds())
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=rt.engine, tablename=JOBSTORE_TABLE)},
        executors={"default": ThreadPoolExecutor(2)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace},
        timezone=schedule.tz,
    )
    return scheduler


def install_jobs(scheduler: Any, rt: Runtime) -> None:
    wanted = triggers(rt.schedule)
    for job_id, trigger in wanted.items():
        stored = scheduler.get_job(job_id)
        if stored is not None and repr(stored.trigger) == repr(trigger):
            # keep its persisted next run time (a missed run fires now); the retry job
            # looks at once, so a send cut short by a restart resumes straight away
            if job_id == "send-retry":
                scheduler.modify_job(job_id, next_run_time=rt.clock())
            continue
        extra: dict[str, Any] = {}
        if job_id == "send-retry":
            extra["next_run_time"] = rt.clock()  # look at once: a window may be open
        scheduler.add_job(
            run_job,
            trigger,
            args=[job_id],
            id=job_id,
            name=job_id,
            replace_existing=True,
            **extra,
        )
    for job in scheduler.get_jobs():
        if job.id not in wanted and job.id != RELEASE_JOB:
            scheduler.remove_job(job.id)


SETUP_LEASE = "scheduler-setup"


def start_scheduler(scheduler: Any, rt: Runtime, *, wait: float = 60.0) -> None:
    """Start ``scheduler`` paused, install the jobs, then resume it: one process at a time
    (a lease), because APScheduler creates its job table and inserts the job ids without
    regard for another process doing the same at that moment."""
    deadline = time.monotonic() + wait
    while not locks.acquire(rt.engine, SETUP_LEASE, rt.owner, timedelta(seconds=30)):
        if time.monotonic() > deadline:
            raise BriefingError(
                "another scheduler has been setting up its jobs for a minute",
                "see `briefing schedule show`; if no other scheduler runs, try again",
            )
        time.sleep(0.05)
    try:
        scheduler.start(paused=True)
        install_jobs(scheduler, rt)
    finally:
        locks.release(rt.engine, SETUP_LEASE, rt.owner)
    scheduler.resume()


def show(settings: Settings, engine: Engine, now: datetime | None = None) -> list[dict[str, Any]]:
    """Each job and its next run: as stored by a scheduler that has run, else as the
    triggers compute it from ``now``."""
    now = now or utcnow()
    schedule = settings.schedule
    stored: dict[str, datetime | None] = {}
    from sqlalchemy import inspect

    if inspect(engine).has_table(JOBSTORE_TABLE):
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

        store = SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)
        try:
            for job in store.get_all_jobs():
                stored[job.id] = job.next_run_time
        except Exception:  # a job stored by another version: fall back to the triggers
            stored = {}
    out = []
    wanted = triggers(schedule)
    for job_id in (*JOB_IDS, RELEASE_JOB):
        if job_id in wanted:
            same = job_id in stored
            at = stored[job_id] if same else wanted[job_id].get_next_fire_time(None, now)
        elif job_id in stored:
            at = stored[job_id]
        else:
            continue
        out.append(
            {
                "id": job_id,
                "next_run": at.astimezone(UTC).isoformat() if at else None,
                "next_run_local": at.astimezone(schedule.tz).isoformat() if at else None,
                "trigger": _describe(schedule, job_id) if job_id in wanted else "once",
                "stored": job_id in stored,
            }
        )
    return out


class JSONLines(logging.Formatter):
    """Log records as one JSON object per line (job lines are JSON already)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.name == log.name and message.startswith("{"):
            return message
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": message,
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def run(rt: Runtime, *, until: threading.Event | None = None) -> int:
    """Run the scheduler in the foreground until SIGTERM or Ctrl-C (or ``until``): a send
    in progress finishes its messages in flight and leaves the outbox consistent; exit 0."""
    global _RUNTIME
    _RUNTIME = rt
    scheduler = make_scheduler(rt)
    finished = until or threading.Event()

    def release(at: datetime) -> None:
        scheduler.add_job(
            run_job,
            "date",
            run_date=at,
            args=[RELEASE_JOB],
            id=RELEASE_JOB,
            name=RELEASE_JOB,
            replace_existing=True,
        )

    rt.on_release = release

    def on_signal(signum: int, _frame: Any) -> None:
        rt.stop.set(f"stopped by {signal.Signals(signum).name}")
        finished.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        start_scheduler(scheduler, rt)
        log.info(
            "%s",
            json.dumps(
                {
                    "ts": utcnow().isoformat(timespec="seconds"),
                    "event": "scheduler started",
                    "owner": rt.owner,
                    "jobs": show(rt.settings, rt.engine),
                }
            ),
        )
        while not finished.wait(1.0):
            pass
    finally:
        scheduler.shutdown(wait=True)  # the running job returns once its senders stopped
        for s, handler in previous.items():
            signal.signal(s, handler)
        log.info(
            "%s",
            json.dumps(
                {
                    "ts": utcnow().isoformat(timespec="seconds"),
                    "event": "scheduler stopped",
                    "why": rt.stop.reason or "asked to stop",
                }
            ),
        )
        _RUNTIME = None
    return 0
