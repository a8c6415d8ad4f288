"""Delivery mistakes an operator makes in their first hour, through the real `briefing`
command (its sender processes included): an outbox folder that cannot be written, a proof
sent "to a file", an outbox that fails in the middle of a send. Each ends with `error:`
and `hint:`, exit 1, no traceback, and nothing stuck: the next good run sends everyone
exactly once."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, update

from briefing.config import Settings, load_settings
from briefing.deliver.compose import compose
from briefing.deliver.engine import deliver
from briefing.deliver.options import SendOptions
from briefing.render import render_issue
from briefing.services import ingest as pipeline
from briefing.services import issues as editorial
from briefing.services import send as sending
from briefing.services import subscriptions
from briefing.store import issues as issue_store
from briefing.store import outbox as outbox_store
from briefing.store.db import open_engine
from briefing.store.outbox_queue import DatabaseOutbox
from briefing.store.outbox_schema import outbox

REPO = Path(__file__).parent.parent.parent
BRIEFING = REPO / ".venv" / "bin" / "briefing"
SECRET = "operator-mistakes-" + "m" * 22
PEOPLE = 12


@dataclass
class Place:
    root: Path
    db: str
    settings: Settings
    engine: Engine
    issue_id: int

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")}
        env["BRIEFING_SECRET"] = SECRET
        return subprocess.run(
            [str(BRIEFING), "--config", str(REPO / "briefing.toml"), "--db", self.db, *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def state(self) -> str:
        with self.engine.connect() as conn:
            return issue_store.get_issue(conn, self.issue_id).state

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return outbox_store.counts(conn, self.issue_id)

    def outbox_files(self, folder: Path) -> list[Path]:
        return sorted((folder / "new").glob("*.eml"))


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[Place]:
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    db = database_url
    settings = load_settings(REPO / "briefing.toml", overrides={"storage": {"url": db}})
    engine = open_engine(settings.database_url)
    pipeline.ingest(settings, engine, seeds_dir=tmp_path / "seeds", only_given=True)
    issue = editorial.approve(engine, editorial.draft(settings, engine).id, by="Ed")
    for i in range(PEOPLE):
        subscriptions.add(settings, engine, f"reader{i}@example.org", name=f"Reader {i}")
    yield Place(tmp_path, db, settings, engine, issue.id)
    engine.dispose()


def assert_clean_failure(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    assert "error: " in done.stderr and "hint: " in done.stderr, done.stderr
    for word in words:
        assert word in done.stderr, done.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_outbox_folder_that_cannot_be_written_fails_cleanly(place: Place, workers: str) -> None:
    done = place.run(
        "send", str(place.issue_id), "--transport", "outbox:///proc/nope", "--workers", workers
    )
    assert_clean_failure(done, "/proc/nope")
    assert "0 sent" not in done.stdout
    # nothing is stuck: the issue can be sent as it was, and everyone gets it once
    assert place.state() in ("approved", "sending")
    counts = place.counts()
    assert counts["sending"] == 0 and counts["sent"] == 0
    good = place.root / "out"
    done = place.run(
        "send", str(place.issue_id), "--transport", f"outbox://{good}", "--workers", workers
    )
    assert done.returncode == 0, done.stderr
    assert place.state() == "sent"
    assert len(place.outbox_files(good)) == PEOPLE


def test_a_proof_to_an_unwritable_outbox_or_to_a_file_fails_cleanly(place: Place) -> None:
    done = place.run(
        "send",
        str(place.issue_id),
        "--test-to",
        "me@example.org",
        "--transport",
        "outbox:///proc/nope",
    )
    assert_clean_failure(done, "/proc/nope")
    done = place.run("send", str(place.issue_id), "--test-to", str(place.root / "proof.eml"))
    assert_clean_failure(done, "--test-to", "outbox://")
    assert not (place.root / "proof.eml").exists()
    assert place.state() == "approved"


@pytest.mark.parametrize("workers", [1, 2], ids=["thread", "2-procs"])
def test_an_outbox_that_fails_in_the_middle_pauses_and_requeues(place: Place, workers: int) -> None:
    # the folder exists and looks fine, but a message cannot be moved into new/ (another
    # file system): the senders find out only when they write
    folder = place.root / "broken"
    (folder / "tmp").mkdir(parents=True)
    (folder / "cur").mkdir()
    (folder / "new").symlink_to("/proc/self")
    settings, engine = place.settings, place.engine
    with engine.connect() as conn:
        issue = issue_store.get_issue(conn, place.issue_id)
    issue = sending.prepare(settings, engine, issue, force=False, actor="test")
    rendered = render_issue(editorial.view(settings, engine, issue), settings, now=issue.updated_at)
    message = compose(rendered, settings, issue_id=issue.id, date=issue.updated_at)
    summary = deliver(
        settings,
        DatabaseOutbox(engine),
        issue.id,
        message,
        SendOptions(transport_url=f"outbox://{folder}", workers=workers),
    )
    assert summary.paused is not None and "outbox" in summary.paused, summary.paused
    assert not summary.paused.startswith("stopped: OSError"), summary.paused
    counts = place.counts()
    assert counts["sending"] == 0 and counts["sent"] == 0, counts
    assert counts["queued"] == PEOPLE, counts
    # with the folder fixed, the next run sends everyone exactly once
    (folder / "new").unlink()
    summary = sending.send(settings, engine, issue, SendOptions(transport_url=f"outbox://{folder}"))
    assert summary.finished and place.state() == "sent"
    assert len(place.outbox_files(folder)) == PEOPLE


def test_rows_left_in_sending_by_a_crash_are_not_blamed_on_the_outbox(place: Place) -> None:
    """A resumed send with a bad folder: the rows stay queued for the next run."""
    with place.engine.connect() as conn:
        issue = issue_store.get_issue(conn, place.issue_id)
    sending.prepare(place.settings, place.engine, issue, force=False, actor="test")
    done = place.run("send", str(place.issue_id), "--transport", "outbox:///proc/nope")
    assert_clean_failure(done, "/proc/nope")
    assert place.state() == "sending"
    assert place.counts()["queued"] == PEOPLE
    with place.engine.begin() as conn:
        conn.execute(update(outbox).values(lease_owner=None))
    done = place.run("send", str(place.issue_id), "--transport", f"outbox://{place.root}/ok")
    assert done.returncode == 0, done.stderr
    assert place.state() == "sent"
