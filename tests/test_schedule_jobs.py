"""The send job's decisions on a SQLite file, with the editors' notices written to an
outbox:// folder: nothing due, no issue, on hold, expired; each notice once. And the
briefing.scheduler shim: job rows stored before the split still load and run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from briefing.config import Settings, load_settings
from briefing.schedule import runner
from briefing.schedule.calendar import next_cycle
from briefing.schedule.runner import Runtime, execute
from briefing.store import issues as issue_store
from briefing.store.db import open_engine

EDITOR = "editor@example.org"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# Mon 23 Nov 2026, 07:00 in London (GMT): the send this file's ticks are about
PLANNED = utc(2026, 11, 23, 7)


@pytest.fixture
def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[Runtime]:
    monkeypatch.chdir(tmp_path)
    for key in [k for k in __import__("os").environ if k.startswith("BRIEFING_")]:
        monkeypatch.delenv(key)
    settings: Settings = load_settings(
        None,
        env={},
        overrides={
            "storage": {"url": database_url},
            "delivery": {"url": f"outbox://{tmp_path}/outbox"},
            "newsletter": {"name": "Test Briefing", "sender": "Briefing <news@example.org>"},
            "schedule": {
                "send": "mon 07:00",
                "timezone": "Europe/London",
                "editors": [EDITOR],
                "expire_after": "6h",
                "retry_every": "10m",
            },
        },
    )
    engine = open_engine(settings.database_url)
    yield Runtime(settings, engine)
    engine.dispose()


def notices(rt: Runtime) -> list[EmailMessage]:
    folder = Path(str(rt.settings.delivery.url).removeprefix("outbox://")) / "new"
    if not folder.exists():
        return []
    out = []
    for path in sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime_ns):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        out.append(msg)
    return out


def body(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")  # the wire has CRLF


def draft_issue(rt: Runtime, subject: str = "This week") -> int:
    with rt.engine.begin() as conn:
        return issue_store.create_issue(
            conn, subject=subject, preheader="", now=PLANNED - timedelta(days=1), actor="test"
        )


def test_before_the_send_time_nothing_is_due_and_nobody_is_told(rt: Runtime) -> None:
    result = execute(rt, "send", PLANNED - timedelta(minutes=1))
    assert result == {"outcome": "nothing due", "next": PLANNED.isoformat()}
    assert notices(rt) == []


def test_no_issue_at_the_send_time_tells_the_editors_once(rt: Runtime) -> None:
    first = execute(rt, "send", PLANNED + timedelta(minutes=5))
    assert first == {"outcome": "no issue", "planned": PLANNED.isoformat()}
    again = execute(rt, "send", PLANNED + timedelta(minutes=15))
    assert again == first
    [msg] = notices(rt)
    assert msg["To"] == EDITOR
    assert msg["Subject"] == "[Test Briefing] no issue to send"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert body(msg) == (
        "The send planned for Mon 23 Nov 2026, 07:00 Europe/London has no issue. "
        "Build one with `briefing draft` and approve it before "
        "Mon 23 Nov 2026, 13:00 Europe/London.\n"
    )


def test_an_unapproved_issue_waits_and_the_editors_are_told_once(rt: Runtime) -> None:
    issue_id = draft_issue(rt)
    first = execute(rt, "send", PLANNED + timedelta(minutes=1))
    until = (PLANNED + timedelta(hours=6)).isoformat()
    assert first == {
        "outcome": "waiting for approval",
        "issue": issue_id,
        "until": until,
        "told": [EDITOR],
    }
    second = execute(rt, "send", PLANNED + timedelta(minutes=11))
    assert second == {**first, "told": []}
    [msg] = notices(rt)
    assert (
        msg["Subject"] == f"[Test Briefing] issue {issue_id} is not approved: the send is on hold"
    )
    assert body(msg) == (
        f"Issue {issue_id} (This week) was due to go out at "
        "Mon 23 Nov 2026, 07:00 Europe/London but is not approved.\n"
        "The scheduler tries again every 10m until "
        "Mon 23 Nov 2026, 13:00 Europe/London; after that the issue expires.\n"
        f"Approve it: briefing approve {issue_id} --by 'YOUR NAME'\n"
    )
    with rt.engine.connect() as conn:
        issue = issue_store.get_issue(conn, issue_id)
        actions = [e["action"] for e in issue_store.events(conn, issue_id)]
    assert issue.planned_for == PLANNED and issue.state == "draft"
    assert actions.count("told_unapproved") == 1


def test_past_its_expiry_the_issue_is_marked_expired_and_the_editors_told(rt: Runtime) -> None:
    issue_id = draft_issue(rt)
    execute(rt, "send", PLANNED + timedelta(minutes=1))  # on hold: now planned for this send
    result = execute(rt, "send", PLANNED + timedelta(hours=6, minutes=1))
    assert result == {
        "outcome": "expired",
        "issue": issue_id,
        "planned": PLANNED.isoformat(),
        "told": [EDITOR],
    }
    assert execute(rt, "send", PLANNED + timedelta(hours=7)) == {
        "outcome": "already expired",
        "issue": issue_id,
        "planned": PLANNED.isoformat(),
    }
    _held, expired = notices(rt)
    assert expired["Subject"] == f"[Test Briefing] issue {issue_id} expired unsent"
    assert body(expired) == (
        f"Issue {issue_id} (This week) was planned for Mon 23 Nov 2026, 07:00 Europe/London "
        "and was not approved before Mon 23 Nov 2026, 13:00 Europe/London, so it was not sent "
        "and is now marked expired.\n"
    )


def test_without_editors_nothing_is_sent_and_nobody_is_listed(rt: Runtime) -> None:
    bare = Runtime(
        rt.settings.model_copy(
            update={"schedule": rt.settings.schedule.model_copy(update={"editors": ()})}
        ),
        rt.engine,
    )
    draft_issue(bare)
    result = execute(bare, "send", PLANNED + timedelta(minutes=1))
    assert result["outcome"] == "waiting for approval" and result["told"] == []
    assert notices(bare) == []


def test_an_error_becomes_an_outcome_with_its_hint(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from briefing.errors import BriefingError

    def broken(_rt: Any, _now: datetime) -> dict[str, Any]:
        raise BriefingError("the feeds are gone", "check [feeds]")

    monkeypatch.setitem(runner.TASKS, "ingest", broken)
    assert execute(rt, "ingest", PLANNED) == {
        "outcome": "error",
        "error": "the feeds are gone",
        "hint": "check [feeds]",
    }


def test_the_draft_window_is_the_calendars(rt: Runtime) -> None:
    cycle = next_cycle(rt.schedule, PLANNED - timedelta(days=2))
    assert cycle.planned == PLANNED
    assert cycle.draft_at == PLANNED - timedelta(hours=24)


# --- the shim -----------------------------------------------------------------------------------


def test_job_rows_stored_before_the_split_still_resolve() -> None:
    from apscheduler.util import obj_to_ref, ref_to_obj

    import briefing.scheduler as shim

    assert ref_to_obj("briefing.scheduler:run_job") is runner.run_job
    assert obj_to_ref(runner.run_job) == "briefing.schedule.runner:run_job"
    assert shim.TASKS is runner.TASKS
    for name in shim.__all__:
        assert getattr(shim, name) is not None, name


def test_an_old_job_row_loads_and_runs_with_the_processs_runtime(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=rt.engine, tablename="apscheduler_jobs")},
        timezone=UTC,
    )
    scheduler.start(paused=True)
    try:
        scheduler.add_job(
            "briefing.scheduler:run_job", "interval", hours=1, args=["send"], id="send"
        )
    finally:
        scheduler.shutdown()
    store = SQLAlchemyJobStore(engine=rt.engine, tablename="apscheduler_jobs")
    [job] = store.get_all_jobs()
    assert job.func_ref == "briefing.scheduler:run_job"
    ran: list[str] = []
    monkeypatch.setitem(runner.TASKS, "send", lambda _rt, _now: ran.append("send") or {})
    monkeypatch.setattr(runner, "_RUNTIME", rt)
    job.func(*job.args)
    assert ran == ["send"]
