"""Compatibility shim: the scheduler now lives in briefing/schedule/ (calendar.py, jobs.py,
runner.py), its SQL in services/schedule.py and its notices in services/notices.py.

Kept because APScheduler stores each job's function as "module:function" text in its job
table: job rows written before the split say "briefing.scheduler:run_job", and
existing databases must keep loading them (``run_job`` below is the runner's own, so such
a row runs with the same runtime). The other names are the ones tests and older imports
use. New code imports from briefing.schedule.*; do not add to this module.
"""

from __future__ import annotations

from briefing.schedule.calendar import (
    ZONE_SPREAD,
    Cycle,
    current_cycle,
    cycle_of,
    next_cycle,
    release_times,
)
from briefing.schedule.jobs import Outcome, run_draft, run_ingest, run_send, tell_editors
from briefing.schedule.runner import (
    JOB_IDS,
    JOBSTORE_TABLE,
    RELEASE_JOB,
    SETUP_LEASE,
    TASKS,
    JSONLines,
    Runtime,
    execute,
    install_jobs,
    make_scheduler,
    run,
    run_job,
    show,
    start_scheduler,
    triggers,
)

__all__ = [
    "JOBSTORE_TABLE",
    "JOB_IDS",
    "RELEASE_JOB",
    "SETUP_LEASE",
    "TASKS",
    "ZONE_SPREAD",
    "Cycle",
    "JSONLines",
    "Outcome",
    "Runtime",
    "current_cycle",
    "cycle_of",
    "execute",
    "install_jobs",
    "make_scheduler",
    "next_cycle",
    "release_times",
    "run",
    "run_draft",
    "run_ingest",
    "run_job",
    "run_send",
    "show",
    "start_scheduler",
    "tell_editors",
    "triggers",
]
