"""The scheduler process: the jobs' APScheduler triggers and job store, the set-up lease,
``run`` (the foreground service), ``execute`` (one job, one JSON log line), ``show``
(each job's next run) and the JSONLines log formatter.

APScheduler 3 has no cross-process locking: every job runs under a named lease in the
database (see jobs.py), and the jobs are installed under one more, so schedulers started
at once on a new database do not race to create the job table.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from briefing.clock import utcnow
from briefing.config import Schedule, Settings
from briefing.deliver.options import Stop
from briefing.errors import BriefingError
from briefing.schedule.calendar import draft_time, send_time
from briefing.schedule.jobs import Outcome, run_draft, run_ingest, run_send
from briefing.services import schedule as service

log = logging.getLogger("briefing.schedule")

JOB_IDS = ("ingest", "draft", "send", "send-retry")
RELEASE_JOB = "send-release"  # per-subscriber timezones: the next batch's local send time
JOBSTORE_TABLE = "apscheduler_jobs"


@dataclass
class Runtime:
    """What the jobs run with (a jobs.Context)."""

    settings: Settings
    engine: Engine
    transport: str | None = None  # delivery URL override (--transport)
    workers: int = 1  # senders run as threads inside the scheduler
    stop: Stop = field(default_factory=Stop)
    clock: Callable[[], datetime] = utcnow
    owner: str = field(default_factory=lambda: service.new_owner("scheduler"))
    on_release: Callable[[datetime], None] | None = None  # schedule the next local-time batch
    standby_every: float = 3.0  # PostgreSQL: a standby tries to become the leader this often

    @property
    def schedule(self) -> Schedule:
        return self.settings.schedule


# --- APScheduler --------------------------------------------------------------------------------

_RUNTIME: Runtime | None = None  # the process's runtime, for run_job (set by run)
TASKS: dict[str, Callable[[Runtime, datetime], Outcome]] = {
    "ingest": run_ingest,
    "draft": run_draft,
    "send": run_send,
    "send-retry": run_send,
    RELEASE_JOB: run_send,
}


def run_job(name: str) -> Outcome:
    """What APScheduler calls (by reference, so the job store holds no objects): run one
    job with the process's runtime and log one JSON line with its outcome. Its reference,
    as stored in the job rows, is "briefing.schedule.runner:run_job"; rows stored before
    the scheduler was split say "briefing.scheduler:run_job", which the shim keeps."""
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

    draft, send = draft_time(schedule), send_time(schedule)
    return {
        "ingest": IntervalTrigger(
            seconds=int(schedule.duration("ingest_every").total_seconds()),
            start_date=start,
            timezone=schedule.tz,
        ),
        "draft": CronTrigger(
            day_of_week=draft.day_of_week,
            hour=draft.hour,
            minute=draft.minute,
            timezone=schedule.tz,
        ),
        "send": CronTrigger(
            day_of_week=send.day_of_week,
            hour=send.hour,
            minute=send.minute,
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
    while not service.acquire(rt.engine, SETUP_LEASE, rt.owner, timedelta(seconds=30)):
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
        service.release(rt.engine, SETUP_LEASE, rt.owner)
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
    lead = service.leadership(rt.engine)  # PostgreSQL: one leader; SQLite: None
    code = 0
    started = False
    try:
        if lead is not None:
            told = False
            while not finished.is_set() and not lead.try_acquire():
                if not told:
                    _event(rt, "standing by", "another scheduler leads; retrying")
                    told = True
                finished.wait(rt.standby_every)
            if finished.is_set():
                return 0
            _event(rt, "leading", "this scheduler holds the leader lock")
        start_scheduler(scheduler, rt)
        started = True
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
        beats = 0
        while not finished.wait(1.0):
            beats += 1
            if lead is not None and beats % 5 == 0 and not lead.alive():
                rt.stop.set("lost the leader lock (its database connection)")
                code = 1  # a supervisor restarts it; it stands by until it leads again
                break
    finally:
        if started:
            scheduler.shutdown(wait=True)  # the running job returns once its senders stopped
        if lead is not None:
            lead.release()
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
    return code


def _event(rt: Runtime, event: str, detail: str) -> None:
    line = {
        "ts": utcnow().isoformat(timespec="seconds"),
        "event": event,
        "owner": rt.owner,
        "detail": detail,
    }
    log.info("%s", json.dumps(line))
