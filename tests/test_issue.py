"""Drafting, refreshing, editing, approving: the issue lifecycle against a real SQLite file."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from briefing.config import Settings, load_settings
from briefing.errors import BriefingError, NoApprover
from briefing.issue import IssueStateError
from briefing.services import issues as editorial
from briefing.services.ingest import ingest
from briefing.store import issues as store
from briefing.store.db import open_engine

REPO = Path(__file__).parent.parent
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><link>https://wire.example.org/</link>
<item><title>North Korea condemns Japan's new counterstrike missiles</title><link>https://wire.example.org/a</link>
<guid>https://wire.example.org/a</guid><pubDate>Mon, 19 Jan 2026 08:00:00 GMT</pubDate>
<description>North Korea said Japan's deployment of counterstrike missiles threatens the region. Pyongyang's
Rodong Sinmun called the Japanese defense buildup a return to militarism, and Japan's defense ministry
said the missiles are for deterrence against North Korea.</description></item></channel></rss>"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    seeds = tmp_path / "seeds"
    shutil.copytree(REPO / "seeds", seeds)
    return load_settings(
        REPO / "briefing.toml",
        env={},
        overrides={
            "storage": {"url": f"sqlite:///{tmp_path}/i.db"},
            "seeds": {"folder": str(seeds)},
        },
    )


@pytest.fixture
def engine(settings: Settings) -> Engine:
    e = open_engine(settings.database_url)
    ingest(settings, e, now=T0)
    return e


def test_first_draft_holds_the_january_seeds(settings: Settings, engine: Engine) -> None:
    issue = editorial.draft(settings, engine, now=T0)
    assert issue.state == "draft"
    assert len(issue.included) == 2  # "new since the last sent issue", not "the last 7 days"
    assert {s.topic for s in issue.stories} == {"japan-defense-dprk"}
    assert (
        issue.subject == "Why North Korea Fears Japan’s Record Defense Buildup"
    )  # dated, human-written first
    assert issue.preheader.startswith("2 stories on Japan defense and DPRK reaction")


def test_refresh_keeps_the_editors_changes(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    issue = editorial.draft(settings, engine, now=T0)
    second = issue.stories[1].key
    editorial.edit(
        settings,
        engine,
        issue.id,
        actor="Jane",
        subject="A better subject",
        note="Welcome.",
        exclude=[issue.stories[0].key[:8]],
        order=[second],
    )
    feed = tmp_path / "wire.xml"
    feed.write_text(FEED)
    ingest(settings, engine, feeds=[str(feed)], only_given=True, now=T0 + timedelta(hours=1))
    refreshed = editorial.draft(settings, engine, now=T0 + timedelta(hours=2))
    assert refreshed.id == issue.id
    assert refreshed.subject == "A better subject"
    assert refreshed.editor_note == "Welcome."
    assert len(refreshed.stories) == 3
    assert refreshed.stories[0].key == second  # the editor's order, new story after it
    excluded = [s for s in refreshed.stories if s.excluded]
    assert [(s.key, s.reason) for s in excluded] == [(issue.stories[0].key, "editor")]
    assert refreshed.stories[-1].title == "North Korea condemns Japan's new counterstrike missiles"


def test_approve_records_who_and_when_and_edit_reverts(settings: Settings, engine: Engine) -> None:
    issue = editorial.draft(settings, engine, now=T0)
    approved = editorial.approve(engine, issue.id, by="Jane Editor", now=T0 + timedelta(minutes=5))
    assert (approved.state, approved.approved_by, approved.approved_at) == (
        "approved",
        "Jane Editor",
        T0 + timedelta(minutes=5),
    )
    with engine.connect() as conn:
        actions = [(e["actor"], e["action"]) for e in store.events(conn, issue.id)]
    assert ("Jane Editor", "approved") in actions
    # an unchanged refresh keeps the approval; an edit sends the issue back to draft
    assert editorial.draft(settings, engine, now=T0 + timedelta(minutes=6)).state == "approved"
    edited = editorial.edit(settings, engine, issue.id, actor="Sam", preheader="New preheader")
    assert edited.state == "draft" and edited.approved_by is None


def test_sent_issue_consumes_its_articles(settings: Settings, engine: Engine) -> None:
    issue = editorial.draft(settings, engine, now=T0)
    editorial.approve(engine, issue.id, by="Jane", now=T0)
    with engine.begin() as conn:
        store.set_state(conn, issue.id, "sending", now=T0, actor="test")
        store.set_state(conn, issue.id, "sent", now=T0, actor="test", sent_at=T0)
    nxt = editorial.draft(settings, engine, now=T0 + timedelta(days=7))
    assert nxt.id != issue.id and nxt.stories == ()


def test_illegal_transitions_are_refused(settings: Settings, engine: Engine) -> None:
    issue = editorial.draft(settings, engine, now=T0)
    with engine.begin() as conn, pytest.raises(IssueStateError, match="cannot become sent"):
        store.set_state(conn, issue.id, "sent", now=T0, actor="x")
    with pytest.raises(NoApprover, match="approving editor's name"):
        editorial.approve(engine, issue.id, by="  ")
    editorial.cancel(engine, issue.id, by="x")
    with pytest.raises(BriefingError, match="cancelled"):
        editorial.edit(settings, engine, issue.id, actor="x", subject="s")


def test_cap_excludes_the_overflow(settings: Settings, engine: Engine) -> None:
    capped = load_settings(
        REPO / "briefing.toml",
        env={},
        overrides={
            "storage": {"url": settings.storage.url},
            "seeds": {"folder": settings.seeds.folder},
            "topics": [{**settings.topics[0].model_dump(), "max_stories": 1}],
        },
    )
    issue = editorial.draft(capped, engine, now=T0)
    assert [(s.excluded, s.reason) for s in issue.stories] == [(False, None), (True, "cap")]


def test_who_did_it_is_one_clean_line(settings: Settings, engine: Engine) -> None:
    """`--by` and the desk's actor reach `briefing issue` on a terminal and the proofs: a
    line break or a terminal escape in them is cleaned, never stored."""
    issue = editorial.draft(settings, engine, now=T0, actor="cron\x1b[2J")
    hostile = "Jane\r\nEditor\x1b]0;pwned\x07 \u202eevil"
    edited = editorial.edit(settings, engine, issue.id, actor=hostile, note="n")
    approved = editorial.approve(engine, edited.id, by=hostile, now=T0)
    assert approved.approved_by == "Jane Editor]0;pwned evil"
    with engine.connect() as conn:
        actors = {e["actor"] for e in store.events(conn, issue.id)}
    assert actors == {"cron[2J", "Jane Editor]0;pwned evil"}
    with pytest.raises(NoApprover):
        editorial.approve(engine, issue.id, by="\x1b\r\n")
