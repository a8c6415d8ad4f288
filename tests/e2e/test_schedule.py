"""The weekly cycle with a controlled clock: the jobs' own APScheduler triggers give the
times, each job runs at its time (``execute(rt, job, now)``) against a real SMTP server
(aiosmtpd on 127.0.0.1) and a real SQLite file."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from briefing.config import Settings, load_settings
from briefing.issue import IssueStateError
from briefing.models import Issue
from briefing.schedule.runner import Runtime, execute, triggers
from briefing.services import issues as editorial
from briefing.services import subscriptions
from briefing.store import issues as issue_store
from briefing.store.db import open_engine

REPO = Path(__file__).parent.parent.parent
SECRET = "schedule-e2e-secret-" + "s" * 24
LONDON = ZoneInfo("Europe/London")
EDITOR = "desk@example.org"
Sink = Any  # conftest.SMTPSink


@dataclass
class Week:
    settings: Settings
    engine: Engine
    rt: Runtime
    readers: list[str]

    def latest(self) -> Issue:
        with self.engine.connect() as conn:
            issue = issue_store.latest_issue(conn)
        assert issue is not None
        return issue

    def events(self, issue_id: int) -> list[str]:
        with self.engine.connect() as conn:
            return [e["action"] for e in issue_store.events(conn, issue_id)]


def schedule_settings(root: Path, db: str, delivery_url: str, **schedule: Any) -> Settings:
    """The repo's config on the database ``db`` and a copy of the seeds in ``root``,
    delivering to ``delivery_url``, with a Monday 07:00 London send (``schedule``
    overrides)."""
    shutil.copytree(REPO / "seeds", root / "seeds")
    return load_settings(
        REPO / "briefing.toml",
        overrides={
            "storage": {"url": db},
            "seeds": {"folder": str(root / "seeds")},
            "delivery": {"url": delivery_url},
            # a real send refuses links that would not work (http://, loopback)
            "newsletter": {"base_url": "https://news.example.org"},
            "schedule": {
                "send": "mon 07:00",
                "timezone": "Europe/London",
                "ingest_every": "6h",
                "draft_before": "24h",
                "retry_every": "10m",
                "expire_after": "6h",
                "editors": [EDITOR],
                **schedule,
            },
        },
    )


@pytest.fixture
def make_week(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: Sink, database_url: str
) -> Iterator[Callable[..., Week]]:
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)
    engines: list[Engine] = []

    def make(**schedule: Any) -> Week:
        settings = schedule_settings(
            tmp_path, database_url, smtp_server.url, retry_every="30m", **schedule
        )
        engine = open_engine(settings.database_url)
        engines.append(engine)
        report = subscriptions.import_file(settings, engine, REPO / "subscribers" / "sample.csv")
        readers = [
            s.email for s in subscriptions.recipients(engine, {"japan-defense-dprk"}) if s.email
        ]
        assert report.added == len(readers) == 4
        rt = Runtime(settings, engine, transport=smtp_server.url, workers=1)
        return Week(settings, engine, rt, readers)

    yield make
    for engine in engines:
        engine.dispose()


def timeline(settings: Settings, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """Every run of every job between start and end, from the jobs' own triggers."""
    runs: list[tuple[datetime, str]] = []
    for job, trigger in triggers(settings.schedule, start=start).items():
        previous = None
        at = trigger.get_next_fire_time(None, start)
        while at is not None and at <= end:
            runs.append((at, job))
            previous = at
            at = trigger.get_next_fire_time(previous, at + timedelta(seconds=1))
    order = {"ingest": 0, "draft": 1, "send": 2, "send-retry": 3}
    return sorted(runs, key=lambda r: (r[0], order[r[1]]))


def test_a_full_week_ingest_draft_proof_approval_send(
    make_week: Callable[..., Week], smtp_server: Sink
) -> None:
    week = make_week()
    start = datetime(2026, 11, 16, 14, 0, tzinfo=LONDON)  # Monday, past that week's expiry
    end = datetime(2026, 11, 23, 12, 0, tzinfo=LONDON)
    runs = timeline(week.settings, start, end)

    drafts = [at for at, job in runs if job == "draft"]
    sends = [at for at, job in runs if job == "send"]
    assert drafts == [datetime(2026, 11, 22, 7, 0, tzinfo=LONDON)]  # Sunday, 24 h before
    assert sends == [datetime(2026, 11, 23, 7, 0, tzinfo=LONDON)]
    assert sum(job == "ingest" for _, job in runs) == 28  # every 6 h, from the start
    approve_at = datetime(2026, 11, 22, 9, 30, tzinfo=LONDON)

    outcomes: dict[str, list[tuple[datetime, dict[str, Any]]]] = {}
    approved = False
    for at, job in runs:
        if not approved and at >= approve_at:
            # the editor reads the proof and approves (what the desk or the CLI does)
            editorial.approve(week.engine, week.latest().id, by="Ann Editor", now=approve_at)
            approved = True
        outcomes.setdefault(job, []).append((at, execute(week.rt, job, at)))

    # ingest ran and stored the seeds
    assert outcomes["ingest"][0][1]["outcome"] == "ok"
    assert outcomes["ingest"][0][1]["new"] == 2
    # the draft and its proof, to the editor only
    ((_, drafted),) = outcomes["draft"]
    assert drafted["outcome"] == "drafted" and drafted["proofs"] == [EDITOR]
    proof = smtp_server.to(EDITOR)
    assert len(proof) == 1, [
        (message_from_bytes(m.data, policy=policy.default)["Subject"]) for m in proof
    ]
    msg = message_from_bytes(proof[0].data, policy=policy.default)
    assert msg["Subject"].startswith("[Proof] ")
    text = " ".join(msg.get_body(preferencelist=("plain",)).get_content().split())
    assert f"briefing approve {drafted['issue']} --by" in text
    assert "Planned for Mon 23 Nov 2026, 07:00 Europe/London" in text
    # retries before the send time do nothing; the send itself sends
    before = [o for at, o in outcomes["send-retry"] if at < sends[0]]
    assert before and all(o["outcome"] in ("nothing due",) for o in before)
    ((_, sent),) = outcomes["send"]
    assert sent["outcome"] == "sent" and sent["sent"] == 4, sent
    after = [o for at, o in outcomes["send-retry"] if at > sends[0]]
    assert after and all(o["outcome"] == "already sent" for o in after)
    for reader in week.readers:
        assert len(smtp_server.to(reader)) == 1
    issue = week.latest()
    assert issue.state == "sent" and issue.approved_by == "Ann Editor"
    assert issue.planned_for == datetime(2026, 11, 23, 7, 0, tzinfo=LONDON).astimezone(UTC)
    assert "proof" in week.events(issue.id)


def test_not_approved_is_not_sent_and_expires(
    make_week: Callable[..., Week], smtp_server: Sink
) -> None:
    week = make_week()
    start = datetime(2026, 11, 22, 6, 0, tzinfo=LONDON)
    end = datetime(2026, 11, 23, 18, 0, tzinfo=LONDON)
    results = [
        (at, job, execute(week.rt, job, at)) for at, job in timeline(week.settings, start, end)
    ]

    sends = [(at, r) for at, job, r in results if job in ("send", "send-retry")]
    planned = datetime(2026, 11, 23, 7, 0, tzinfo=LONDON)
    expiry = planned + timedelta(hours=6)
    waiting = [r for at, r in sends if planned <= at <= expiry]
    assert waiting and all(r["outcome"] == "waiting for approval" for r in waiting)
    expired = [r for at, r in sends if r["outcome"] == "expired"]
    assert len(expired) == 1
    issue = week.latest()
    assert issue.state == "expired"
    for reader in week.readers:
        assert smtp_server.to(reader) == []
    notices = [
        message_from_bytes(m.data, policy=policy.default)["Subject"] for m in smtp_server.to(EDITOR)
    ]
    assert sum("not approved" in s for s in notices) == 1, notices  # told once, not every retry
    assert sum("expired" in s for s in notices) == 1, notices
    # an approval after expiry changes nothing: the issue is not open any more
    with pytest.raises(IssueStateError):
        editorial.approve(week.engine, issue.id, by="Late Editor")


def test_downtime_across_the_send_time_sends_once_within_grace_not_after(
    make_week: Callable[..., Week], smtp_server: Sink
) -> None:
    week = make_week()
    draft_at = datetime(2026, 11, 22, 7, 0, tzinfo=LONDON)
    execute(week.rt, "draft", draft_at)
    editorial.approve(week.engine, week.latest().id, by="Ann Editor")
    # the scheduler was down at 07:00; it comes back at 09:10 (within the 6 h grace)
    back = datetime(2026, 11, 23, 9, 10, tzinfo=LONDON)
    first = execute(week.rt, "send-retry", back)
    again = execute(week.rt, "send", back + timedelta(minutes=1))  # the missed cron, coalesced
    assert first["outcome"] == "sent" and again["outcome"] == "already sent"
    for reader in week.readers:
        assert len(smtp_server.to(reader)) == 1


def test_downtime_past_the_expiry_never_sends_a_stale_issue(
    make_week: Callable[..., Week], smtp_server: Sink
) -> None:
    week = make_week()
    execute(week.rt, "draft", datetime(2026, 11, 22, 7, 0, tzinfo=LONDON))
    editorial.approve(week.engine, week.latest().id, by="Ann Editor")
    back = datetime(2026, 11, 23, 13, 30, tzinfo=LONDON)  # 6.5 h late: past expire_after
    result = execute(week.rt, "send-retry", back)
    assert result["outcome"] == "expired"
    assert week.latest().state == "expired"
    for reader in week.readers:
        assert smtp_server.to(reader) == []


def test_without_required_approval_the_scheduler_approves_and_says_so(
    make_week: Callable[..., Week], smtp_server: Sink
) -> None:
    week = make_week(require_approval=False)
    execute(week.rt, "draft", datetime(2026, 11, 22, 7, 0, tzinfo=LONDON))
    result = execute(week.rt, "send", datetime(2026, 11, 23, 7, 0, tzinfo=LONDON))
    assert result["outcome"] == "sent", result
    issue = week.latest()
    assert issue.approved_by is not None and issue.approved_by.startswith("scheduler")
    assert not issue.reviewed
    assert "auto_approved" in week.events(issue.id)
    got = smtp_server.to(week.readers[0])
    assert len(got) == 1
    msg = message_from_bytes(got[0].data, policy=policy.default)
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "The editors reviewed" not in text and "The editors reviewed" not in html
    assert "sent automatically, without an" in " ".join(text.split())
    assert "without an editor" in html
