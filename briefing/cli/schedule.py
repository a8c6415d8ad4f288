"""The schedule commands: schedule run, schedule show, schedule tick."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import click
from rich.table import Table

from briefing.cli.app import cli, emit_json, err_console, global_options, out_console, state
from briefing.clock import utcnow
from briefing.errors import BriefingError

JOB_CHOICES = ("ingest", "draft", "send")


@cli.group()
@global_options
def schedule() -> None:
    """The weekly cycle: ingest, draft and proof, send ([schedule] in briefing.toml).

    \b
    Examples:
        briefing schedule show             # each job and its next run
        briefing schedule run              # keep the cycle in the foreground (a service)
        briefing schedule tick --job send  # what the send job would do now, once
    """


def _parse_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BriefingError(
            f"--at {value!r} is not an ISO 8601 time", "e.g. --at 2026-11-23T07:05:00+00:00"
        ) from exc
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@contextlib.contextmanager
def _logging() -> Iterator[None]:
    """JSON log lines on stderr while a schedule command runs. Run in-process (a test, a
    caller's CliRunner), the command gives logging back as it found it: the handler's
    stream is closed once it returns, and the root logger is the caller's."""
    from briefing.schedule.runner import JSONLines

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONLines())
    root = logging.getLogger()
    aps = logging.getLogger("apscheduler")
    saved = root.handlers[:], root.level, aps.level
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    aps.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        aps.setLevel(saved[2])


@schedule.command("run")
@click.option("--transport", metavar="URL", help="Delivery URL for sends, proofs and notices.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Parallel SMTP connections for a send (default delivery.workers).",
)
@global_options
def run_cmd(transport: str | None, workers: int | None) -> None:
    """Run the scheduler in the foreground until SIGTERM or Ctrl-C.

    One JSON line per job run goes to stderr. SIGTERM lets a send finish the messages in
    flight, leaves the outbox consistent and exits 0; starting again resumes. Jobs are
    kept in the database, so a send missed while the scheduler was down runs on restart
    (within expire_after), once.

    \b
    Examples:
        briefing schedule run
        briefing schedule run --transport smtp://mailer@smtp.example.org:587 --workers 4
    """
    from briefing.schedule.runner import Runtime, run
    from briefing.services.schedule import check_writable

    st = state()
    settings, engine = st.settings(), st.engine()
    check_writable(engine)  # a read-only database: refuse now, not fail in every job
    rt = Runtime(
        settings, engine, transport=transport, workers=workers or settings.delivery.workers
    )
    with _logging():
        code = run(rt)
    sys.exit(code)


@schedule.command("show")
@click.option("--json", "as_json", is_flag=True, help='A list of {"id", "next_run"} (ISO 8601).')
@global_options
def show_cmd(as_json: bool) -> None:
    """Each job with its next run time, in the configured timezone and in UTC.

    \b
    Examples:
        briefing schedule show
        briefing schedule show --json | jq -r '.[].next_run'
    """
    from briefing.schedule.calendar import next_cycle
    from briefing.schedule.runner import show

    st = state()
    settings, engine = st.settings(), st.engine()
    jobs = show(settings, engine)
    if as_json:
        emit_json(jobs)
        return
    s = settings.schedule
    table = Table(title=f"schedule ({s.timezone})", title_justify="left")
    for col in ("job", f"next run ({s.timezone})", "next run (UTC)", "trigger"):
        table.add_column(col)
    for job in jobs:
        local = (
            datetime.fromisoformat(job["next_run_local"]).astimezone(s.tz)
            if job["next_run_local"]
            else None
        )
        utc = datetime.fromisoformat(job["next_run"]) if job["next_run"] else None
        table.add_row(
            job["id"],
            local.strftime("%a %Y-%m-%d %H:%M %Z") if local else "-",
            utc.strftime("%a %Y-%m-%d %H:%M") if utc else "-",
            job["trigger"],
        )
    out_console.print(table)
    cycle = next_cycle(s, utcnow())
    approval = "an editor's approval is required" if s.require_approval else "no approval needed"
    out_console.print(
        f"next send {cycle.planned.astimezone(s.tz):%a %d %b %Y %H:%M %Z}; draft and proof "
        f"{cycle.draft_at.astimezone(s.tz):%a %d %b %H:%M}; {approval}; expires "
        f"{cycle.expires.astimezone(s.tz):%a %d %b %H:%M} if not sent"
        + ("; each subscriber at their local time" if s.deliver_in_subscriber_timezone else "")
    )


@schedule.command("tick")
@click.option(
    "--job",
    "jobs",
    type=click.Choice(JOB_CHOICES),
    multiple=True,
    help="Which job(s) to run (default: draft then send). Repeatable.",
)
@click.option("--at", "at", metavar="TIME", help="Act as if it were TIME (ISO 8601; default now).")
@click.option("--transport", metavar="URL", help="Delivery URL for sends, proofs and notices.")
@click.option("--workers", type=click.IntRange(1, 64), help="Parallel SMTP connections.")
@click.option("--json", "as_json", is_flag=True, help="Print each job's outcome as JSON.")
@global_options
def tick_cmd(
    jobs: tuple[str, ...], at: str | None, transport: str | None, workers: int | None, as_json: bool
) -> None:
    """Run the jobs once, now (or --at TIME), and exit.

    For cron or a systemd timer instead of `schedule run`, and to see what the scheduler
    would do. The draft job acts only in
    its window before a send (from draft_before), the send job only from the send time
    to its expiry; both are safe to run any number of times.

    \b
    Examples:
        briefing schedule tick --job send --json
        briefing schedule tick --at 2026-11-23T07:00:00+00:00 --transport outbox://var/try
    """
    from briefing.schedule.calendar import next_cycle
    from briefing.schedule.runner import Runtime, execute

    st = state()
    settings, engine = st.settings(), st.engine()
    when = _parse_at(at)
    rt = Runtime(
        settings,
        engine,
        transport=transport,
        workers=workers or settings.delivery.workers,
        clock=(lambda: when) if when else utcnow,
    )
    results = {}
    with _logging():
        for name in jobs or ("draft", "send"):
            now = rt.clock()
            if name == "draft" and not jobs:
                cycle = next_cycle(settings.schedule, now)
                if now < cycle.draft_at:
                    results[name] = {"outcome": "not yet", "draft_at": cycle.draft_at.isoformat()}
                    continue
            results[name] = execute(rt, name, now)
    if as_json:
        emit_json(results)
    else:
        for name, result in results.items():
            out_console.print(f"{name}: {result.get('outcome')}")
    failed = {name: r for name, r in results.items() if r.get("outcome") == "error"}
    for name, r in failed.items():  # the JSON line above is for logs; this is for people
        err_console.print(f"error: {name}: {r.get('error')}", markup=False)
        err_console.print(
            f"hint: {r.get('hint') or 'the log line above has the details'}", markup=False
        )
    if failed:
        sys.exit(1)
