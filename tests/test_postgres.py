"""The same database code on SQLite and on a real PostgreSQL (a throwaway cluster, see
tests/pgcluster.py): migrations to head and a schema that matches the declared one, the
store's round trips, the desk's sign-in, the scheduler's week, and the issue's whole flow
through the CLI, every subscriber sent to exactly once, into an outbox:// folder and
over SMTP.

The PostgreSQL cases skip, saying why, without PostgreSQL or psycopg or with
BRIEFING_SKIP_POSTGRES=1; scripts/test installs both.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select, text, update

from briefing.cli import main
from briefing.config import Settings, load_settings
from briefing.deliver.options import SendOptions
from briefing.models import Article, Confidence, IssueStory
from briefing.services import subscriptions
from briefing.services.send import send as send_issue
from briefing.store import articles as article_store
from briefing.store import issues as issue_store
from briefing.store import outbox as outbox_store
from briefing.store import subscribers as sub_store
from briefing.store.db import make_engine, newest_revision, open_engine
from briefing.store.outbox_schema import outbox
from briefing.store.schema import metadata

REPO = Path(__file__).parent.parent
BRIEFING = REPO / ".venv" / "bin" / "briefing"
SECRET = "pg-e2e-secret-" + "k" * 24
BASE_URL = "https://news.example.org"
T0 = datetime(2026, 11, 20, 9, 0, 0, 123456, tzinfo=UTC)

Sink = Any  # conftest.SMTPSink


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no tables yet, on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/empty.db"
    url: str = request.getfixturevalue("pg_empty_url")
    return url


@pytest.fixture
def engine(db_url: str) -> Any:
    made = make_engine(db_url)
    yield made
    made.dispose()


def address(i: int) -> str:
    return f"reader{i:03d}@example.org"


# --- 1. migrations ------------------------------------------------------------------------------


def test_migrations_run_to_head_and_match_the_declared_schema(empty_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = open_engine(empty_url)  # Alembic's upgrade to head, as every command does
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            assert version == [newest_revision()]
            assert set(metadata.tables) <= set(inspect(conn).get_table_names())
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": False}
            )
            diff = compare_metadata(context, metadata)
        assert diff == [], f"{engine.dialect.name}: the migrations differ from schema.py"
        open_engine(empty_url).dispose()  # opening again at head changes nothing
    finally:
        engine.dispose()


# --- 2. the store -------------------------------------------------------------------------------


def test_articles_round_trip(engine: Engine) -> None:
    stored = Article(
        id="a1",
        source_kind="feed",
        source="feed:test",
        title="North Korea condemns Japan’s missiles",
        body="Pyongyang said so on Monday. 山田 太郎.",
        url="https://wire.example.org/a",
        publisher="Wire",
        published=date(2026, 1, 19),
        labels=("defense", "asia"),
        ai_generated=True,
        confidence={"title": Confidence(0.9, "declared by the feed")},
    )
    copy = Article(
        id="a2", source_kind="feed", source="feed:test", title=stored.title, body=stored.body
    )
    with engine.begin() as conn:
        assert article_store.upsert_articles(conn, [stored], T0).outcomes == {"a1": "new"}
    with engine.begin() as conn:
        again = article_store.upsert_articles(conn, [stored, copy], T0 + timedelta(hours=1))
    assert again.outcomes == {"a1": "unchanged", "a2": "duplicate"}
    with engine.connect() as conn:
        back = article_store.get_article(conn, "a1")
        listed = [a.id for a in article_store.list_articles(conn)]
        every = [
            (a.id, a.duplicate_of)
            for a in article_store.list_articles(conn, include_duplicates=True)
        ]
    assert back is not None
    assert back.first_seen == T0 and back.first_seen.tzinfo is not None  # aware, microseconds kept
    assert (back.title, back.body, back.labels, back.ai_generated) == (
        stored.title,
        stored.body,
        stored.labels,
        True,
    )
    assert back.confidence == stored.confidence  # JSON
    assert listed == ["a1"] and every == [("a2", "a1"), ("a1", None)]
    hexed = Article(id="5eedf00d1234abcd", source_kind="feed", source="feed:test", title="T",
                    body="Another story altogether, told at length.")  # fmt: skip
    with engine.begin() as conn:
        article_store.upsert_articles(conn, [hexed], T0)
    with engine.connect() as conn:  # a prefix typed in capitals finds it on each backend
        found = article_store.get_article(conn, "5EEDF00D")
        assert found is not None and found.id == hexed.id
        assert article_store.get_article(conn, "5EEDF0_D") is None  # "_" is no wildcard


def test_an_issue_moves_through_its_states(engine: Engine) -> None:
    from briefing.issue import IssueStateError

    with engine.begin() as conn:
        article_store.upsert_articles(
            conn, [Article(id="a1", source_kind="feed", source="feed:t", title="A story")], T0
        )
        issue_id = issue_store.create_issue(conn, subject="S", preheader="P", now=T0, actor="test")
        issue_store.save_stories(
            conn, issue_id, [IssueStory(key="a1", topic="t", article_ids=("a1",), position=0)]
        )
    with engine.begin() as conn:
        issue_store.set_state(conn, issue_id, "approved", now=T0, actor="Jane")
    with pytest.raises(IssueStateError), engine.begin() as conn:
        issue_store.set_state(conn, issue_id, "sent", now=T0, actor="Jane")
    with engine.connect() as conn:
        issue = issue_store.get_issue(conn, issue_id)
        actions = [(e["actor"], e["action"]) for e in issue_store.events(conn, issue_id)]
        assert issue_store.open_issue(conn) is not None
    assert issue.state == "approved" and issue.subject == "S"
    assert [(s.key, s.article_ids) for s in issue.stories] == [("a1", ("a1",))]
    assert actions == [("test", "created"), ("Jane", "approved")]


@pytest.fixture
def settings(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)
    monkeypatch.setenv("BRIEFING_NEWSLETTER_BASE_URL", BASE_URL)
    return load_settings(REPO / "briefing.toml", overrides={"storage": {"url": db_url}})


def test_subscribers_and_suppressions_round_trip(settings: Settings, engine: Engine) -> None:
    zoe = subscriptions.add(settings, engine, "Zoe@Example.org", name="Zoë Ünal", now=T0)
    subscriptions.add(settings, engine, "ann@example.org", timezone="Asia/Tokyo", now=T0)
    with engine.begin() as conn:
        sub_store.update_subscriber(conn, zoe.id, T0 + timedelta(minutes=1), paused=True)
        sub_store.suppress(conn, "gone@example.org", "complained", T0, b"k" * 32)
    back = subscriptions.get(engine, "zoe@example.org")
    assert (back.id, back.email, back.name, back.paused, back.status) == (
        zoe.id,
        "Zoe@example.org",
        "Zoë Ünal",
        True,
        "active",
    )
    assert back.created_at == T0
    assert [(e["action"], e["at"]) for e in subscriptions.history(engine, back)] == [
        ("subscribed", T0)
    ]
    assert subscriptions.unsubscribe(engine, back, how="link", actor="reader", now=T0)
    gone = subscriptions.get(engine, "zoe@example.org")
    assert not subscriptions.unsubscribe(engine, gone, how="link", actor="reader", now=T0)
    with engine.connect() as conn:
        assert sub_store.suppressed(conn, "gone@example.org", b"k" * 32) == "complained"
        assert sub_store.suppressed(conn, "ann@example.org", b"k" * 32) is None
        assert sub_store.counts(conn)["active"] == 1
    assert [s.email for s in subscriptions.list_subscribers(engine, status="active")] == [
        "ann@example.org"
    ]
    assert subscriptions.get(engine, "zoe@example.org").unsubscribed_at == T0


def test_a_batch_of_one_click_unsubscribes(settings: Settings, engine: Engine) -> None:
    """web/batch's one transaction on each backend: UPDATE ... RETURNING, then the events
    in one executemany; a repeat and a forged token keep their places."""
    subs = [subscriptions.add(settings, engine, address(i), now=T0) for i in range(3)]
    tokens = [subscriptions.links(settings, s, settings.secrets()).token for s in subs]
    answers = subscriptions.unsubscribe_clicks(
        engine, [tokens[0], tokens[1], tokens[0], "nobody.AAAA"], settings.secrets(), now=T0
    )
    assert [a.email if a else None for a in answers] == [address(0), address(1), address(0), None]
    assert [subscriptions.get(engine, address(i)).status for i in range(3)] == [
        "unsubscribed",
        "unsubscribed",
        "active",
    ]
    events = [e["action"] for s in subs for e in subscriptions.history(engine, s)]
    assert events.count("unsubscribed") == 2


def queued_issue(settings: Settings, engine: Engine, n: int) -> int:
    """A new issue with ``n`` new subscribers queued in its outbox."""
    ids = [subscriptions.add(settings, engine, address(i), now=T0).id for i in range(n)]
    with engine.begin() as conn:
        issue_id = issue_store.create_issue(conn, subject="S", preheader="P", now=T0, actor="t")
        outbox_store.populate(conn, issue_id, ids, T0)
    return issue_id


def test_the_outbox_claim_and_the_hot_path(settings: Settings, engine: Engine) -> None:
    lease = timedelta(minutes=5)
    ids = [subscriptions.add(settings, engine, address(i), now=T0).id for i in range(5)]
    with engine.begin() as conn:
        issue_id = issue_store.create_issue(conn, subject="S", preheader="P", now=T0, actor="t")
        outbox_store.start_run(conn, issue_id, T0)
        assert outbox_store.populate(conn, issue_id, ids, T0) == 5
        assert outbox_store.populate(conn, issue_id, ids, T0) == 0  # safe to repeat
    with engine.begin() as conn:
        mine = outbox_store.claim(conn, issue_id, "w1", T0, lease=lease, limit=3)
    with engine.begin() as conn:  # another worker gets the others, never the same rows
        theirs = outbox_store.claim(conn, issue_id, "w2", T0, lease=lease, limit=10)
    assert len(mine) == 3 and len(theirs) == 2
    assert {c.email for c in mine} | {c.email for c in theirs} == {address(i) for i in range(5)}
    with engine.begin() as conn:
        assert outbox_store.claim(conn, issue_id, "w3", T0, lease=lease, limit=10) == []

    hot = outbox_store.HotPath(engine.dialect)
    raw = engine.raw_connection()
    try:
        first, second, third = mine
        answers = hot.record(
            raw,
            [(None, first.id, "w1"), (first.id, second.id, "w1"), (second.id, None, "w1")],
            T0,
        )
    finally:
        raw.close()
    assert answers[:2] == [True, True]
    with engine.begin() as conn:
        outbox_store.finish(conn, third.id, "failed", T0, code=550, error="5.1.1 unknown")
        outbox_store.finish(
            conn, theirs[0].id, "deferred", T0, code=451, error="later", retry_at=T0 + lease
        )
        outbox_store.release(conn, "w2", [theirs[1].id], T0)
    with engine.connect() as conn:
        counts = outbox_store.counts(conn, issue_id)
        sent_at = conn.execute(select(outbox.c.sent_at).where(outbox.c.id == first.id)).scalar_one()
        assert outbox_store.next_retry(conn, issue_id) == T0 + lease
        failures = outbox_store.failures(conn, issue_id)
    assert counts["sent"] == 2 and counts["failed"] == 1 and counts["deferred"] == 1
    assert counts["queued"] == 1
    assert sent_at == T0
    assert [(f["state"], f["last_code"]) for f in failures] == [("failed", 550), ("deferred", 451)]
    with engine.begin() as conn:  # the released row and the due retry come back
        later = outbox_store.claim(conn, issue_id, "w4", T0 + lease, lease=lease, limit=10)
    assert sorted(c.id for c in later) == sorted([theirs[0].id, theirs[1].id])


def test_a_claim_looks_past_the_senders_last_row_first(settings: Settings, engine: Engine) -> None:
    """``after``: rows past the sender's last claimed row come first; one given back
    behind it is taken once nothing is left ahead, in the same claim, never twice."""
    lease = timedelta(minutes=5)
    issue_id = queued_issue(settings, engine, 6)
    with engine.begin() as conn:
        first = outbox_store.claim(conn, issue_id, "w1", T0, lease=lease, limit=2)
        outbox_store.release(conn, "w1", [first[0].id], T0)
    rows = sorted(r.id for r in first)
    with engine.begin() as conn:
        ahead = outbox_store.claim(conn, issue_id, "w1", T0, lease=lease, limit=2, after=rows[1])
    assert [r.id for r in ahead] == [rows[1] + 1, rows[1] + 2]  # not the one given back
    with engine.begin() as conn:
        rest = outbox_store.claim(conn, issue_id, "w1", T0, lease=lease, limit=5, after=ahead[1].id)
    assert [r.id for r in rest] == [rows[0], ahead[1].id + 1, ahead[1].id + 2]
    with engine.begin() as conn:
        assert outbox_store.claim(conn, issue_id, "w2", T0, lease=lease, limit=5, after=0) == []


def test_several_workers_steps_recorded_together(settings: Settings, engine: Engine) -> None:
    """A group of steps (one per worker, as the send's parent records them; on PostgreSQL
    one statement): each row started only under its own worker's lease and while its
    subscriber is reachable, else skipped; the outbox's own connection is left usable."""
    from briefing.store.outbox_queue import DatabaseOutbox

    lease = timedelta(minutes=5)
    ids = [subscriptions.add(settings, engine, address(i), now=T0).id for i in range(5)]
    with engine.begin() as conn:
        issue_id = issue_store.create_issue(conn, subject="S", preheader="P", now=T0, actor="t")
        outbox_store.populate(conn, issue_id, ids, T0)
        a, b, c = outbox_store.claim(conn, issue_id, "w1", T0, lease=lease, limit=3)
        d, e = outbox_store.claim(conn, issue_id, "w2", T0, lease=lease, limit=3)
        sub_store.update_subscriber(conn, b.subscriber_id, T0, status="unsubscribed")
    box = DatabaseOutbox(engine)
    try:
        # b's subscriber left; d is w2's, not w1's
        assert box.steps([(None, a.id, "w1"), (None, b.id, "w1"), (None, d.id, "w1")], T0) == [
            True,
            False,
            False,
        ]
        assert box.steps([(a.id, c.id, "w1"), (None, d.id, "w2"), (None, None, "w2")], T0) == [
            True,
            True,
            False,
        ]
        with box.transaction():  # part of a transaction: committed with it
            assert box.steps([(c.id, None, "w1"), (d.id, e.id, "w2")], T0) == [False, True]
            box.release("w2", [], T0)
        assert box.claim(issue_id, "w3", T0, lease=lease, limit=5) == []
    finally:
        box.detach()
    with engine.connect() as conn:
        rows = {
            r.id: r
            for r in conn.execute(
                select(
                    outbox.c.id,
                    outbox.c.state,
                    outbox.c.attempts,
                    outbox.c.lease_owner,
                    outbox.c.sent_at,
                    outbox.c.last_error,
                )
            )
        }
    assert {i: rows[i].state for i in rows} == {
        a.id: "sent",
        b.id: "skipped",
        c.id: "sent",
        d.id: "sent",
        e.id: "sending",
    }
    assert rows[a.id].sent_at == T0 and rows[a.id].lease_owner is None
    assert rows[b.id].last_error == "left the list before their turn"
    assert rows[b.id].attempts == 0 and rows[b.id].lease_owner is None
    assert rows[d.id].attempts == 1  # started once: not by w1, whose lease it was not
    assert rows[e.id].lease_owner == "w2" and rows[e.id].attempts == 1


# --- 3. the whole flow through the CLI ---------------------------------------------------------


class Flow:
    def __init__(self, root: Path, db: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.root, self.db, self.capsys = root, db, capsys

    def base(self) -> list[str]:
        return ["--config", str(REPO / "briefing.toml"), "--db", self.db]

    def cli(self, *args: str, code: int = 0) -> str:
        """`briefing ARGS` in this process: stdout (stderr for an expected error)."""
        self.capsys.readouterr()
        with pytest.raises(SystemExit) as done:
            main([*self.base(), *args])
        out, err = self.capsys.readouterr()
        assert int(done.value.code or 0) == code, (args, out, err)
        return out if code == 0 else err

    def process(self, *args: str) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")}
        env.update(BRIEFING_SECRET=SECRET, BRIEFING_NEWSLETTER_BASE_URL=BASE_URL)
        done = subprocess.run(
            [str(BRIEFING), *self.base(), *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout


@pytest.fixture
def flow(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Flow:
    """Seeds ingested, an issue drafted and approved, 12 subscribers imported: all through
    the CLI, on each backend."""
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)
    monkeypatch.setenv("BRIEFING_NEWSLETTER_BASE_URL", BASE_URL)
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    run = Flow(tmp_path, db_url, capsys)
    ingest = json.loads(run.cli("ingest", "--seeds", str(tmp_path / "seeds"), "--json"))
    assert ingest
    issue = json.loads(run.cli("draft", "--json"))
    assert issue["id"] == 1
    run.cli("approve", "1", "--by", "Ed")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["email", "name"])
    for i in range(12):
        writer.writerow([address(i), f"Reader {i}" if i % 3 else "Zoë Ünal-Æsir"])
    (tmp_path / "list.csv").write_text(buffer.getvalue(), encoding="utf-8")
    run.cli("subscribers", "import", str(tmp_path / "list.csv"))
    return run


def recipients(folder: Path) -> Counter[str]:
    got: Counter[str] = Counter()
    for path in (folder / "new").iterdir():
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        got[str(msg["To"].addresses[0].addr_spec).lower()] += 1
    return got


def test_the_issue_flow_to_an_outbox_folder(flow: Flow) -> None:
    folder = flow.root / "outbox"
    summary = json.loads(
        flow.cli("send", "--transport", f"outbox://{folder}", "--workers", "2", "--json")
    )
    assert summary["finished"] is True, summary
    assert recipients(folder) == Counter({address(i): 1 for i in range(12)})
    again = flow.cli("send", "1", "--transport", f"outbox://{folder}", code=1)
    assert "it is never sent twice" in again
    assert recipients(folder) == Counter({address(i): 1 for i in range(12)})  # nothing twice
    issues = json.loads(flow.process("issues", "--json"))  # a fresh process reads the same
    assert [(i["id"], i["state"]) for i in issues] == [(1, "sent")]


def test_the_issue_flow_over_smtp_from_another_process(flow: Flow, smtp_server: Sink) -> None:
    out = flow.process("send", "--transport", smtp_server.url, "--workers", "2", "--json")
    summary = json.loads(out)
    assert summary["finished"] is True, summary
    assert smtp_server.received() == Counter({address(i): 1 for i in range(12)})
    engine = make_engine(flow.db)
    try:
        with engine.connect() as conn:
            counts = outbox_store.counts(conn, 1)
            leased = conn.execute(
                select(outbox.c.id).where(outbox.c.lease_owner.is_not(None))
            ).all()
    finally:
        engine.dispose()
    assert counts["sent"] == 12 and leased == []


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def test_a_sender_killed_alone_takes_its_workers_with_it(flow: Flow, smtp_server: Sink) -> None:
    """SIGKILL of `briefing send` only, not its forked workers (on PostgreSQL they record
    on their own connections, so nothing else would stop them): they stop after the
    message in hand, and `briefing send` again gives everyone the issue; twice only to
    an address reported ambiguous (on PostgreSQL, where the workers record their last
    message themselves, none)."""
    smtp_server.delay = 0.25  # a message takes a quarter second: 12 of them over 2 workers
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")}
    env.update(BRIEFING_SECRET=SECRET, BRIEFING_NEWSLETTER_BASE_URL=BASE_URL)
    command = [str(BRIEFING), *flow.base(), "send", "--transport", smtp_server.url]
    proc = subprocess.Popen(
        [*command, "--workers", "2", "--json"],
        cwd=flow.root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while len(smtp_server.messages) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, "no send under way"
            time.sleep(0.01)
        workers = [
            int(stat.parent.name)
            for stat in Path("/proc").glob("[0-9]*/stat")
            if stat.exists() and int(stat.read_text().rsplit(")", 1)[-1].split()[1]) == proc.pid
        ]
        assert len(workers) == 2, workers
        proc.kill()
        proc.wait(timeout=10)
        deadline = time.monotonic() + 20
        while not all(_gone(pid) for pid in workers):
            assert time.monotonic() < deadline, "the workers went on without their parent"
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert len(smtp_server.messages) < 12

    smtp_server.delay = 0
    done = subprocess.run(
        [*command, "1", "--json"], cwd=flow.root, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["finished"] is True, summary
    got = smtp_server.received()
    assert set(got) == {address(i) for i in range(12)}
    twice = {a for a, n in got.items() if n > 1}
    assert twice <= set(summary["ambiguous"]) and len(summary["ambiguous"]) <= 2
    if flow.db.startswith("postgresql"):
        assert summary["ambiguous"] == [] and twice == set()


def test_the_send_service_on_the_database(flow: Flow, smtp_server: Sink) -> None:
    """The send as the scheduler calls it (services, not the CLI), refusals included."""
    smtp_server.refuse = lambda addr, nth: (
        "550 5.1.1 no such user"
        if addr == address(3)
        else "451 4.7.1 later"
        if nth == 1 and addr == address(5)
        else None
    )
    settings = load_settings(REPO / "briefing.toml", overrides={"storage": {"url": flow.db}})
    engine = open_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            issue = issue_store.get_issue(conn, 1)
        options = SendOptions(transport_url=smtp_server.url, workers=1, retry_delays=(0, 1))
        summary = send_issue(settings, engine, issue, options, actor="test")
        assert summary.finished, summary
        with engine.connect() as conn:
            counts = outbox_store.counts(conn, 1)
            gone = sub_store.by_email(conn, address(3))
    finally:
        engine.dispose()
    assert counts["sent"] == 11 and counts["failed"] == 1
    assert gone is not None and gone.status == "bounced"
    assert smtp_server.received() == Counter({address(i): 1 for i in range(12) if i != 3})


def test_a_postgres_server_not_there_is_an_error_with_a_hint() -> None:
    pytest.importorskip("psycopg", reason="needs psycopg: pip install -e '.[postgres]'")
    from briefing.errors import StorageError

    with pytest.raises(StorageError) as info:
        open_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert "cannot open the database" in str(info.value)
    assert "server is running" in str(info.value.hint)


def test_a_read_only_postgres_session_is_an_error_with_a_hint(
    pg_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)
    read_only = pg_url + "?options=-c%20default_transaction_read_only%3Don"
    with pytest.raises(SystemExit) as done:
        main(
            [
                "--config",
                str(REPO / "briefing.toml"),
                "--db",
                read_only,
                "subscribers",
                "add",
                "a@example.org",
            ]
        )
    _, err = capsys.readouterr()
    assert done.value.code == 1
    assert "refused the statement (read-only transaction" in err and "hint:" in err
    assert "Traceback" not in err


# --- 4. the web app on the database: the desk's sign-in, its session and a control ---------


def test_the_desk_signs_in_and_approves_the_draft(
    db_url: str, tmp_path: Path, asgi_server: Any, free_port: Any
) -> None:
    import re

    import httpx

    from briefing.services import accounts
    from briefing.services import ingest as pipeline
    from briefing.services import issues as editorial
    from briefing.web.app import create_app

    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = load_settings(
        REPO / "briefing.toml",
        env={"BRIEFING_SECRET": SECRET},
        overrides={
            "storage": {"url": db_url},
            "seeds": {"folder": str(tmp_path / "seeds")},
            "newsletter": {"base_url": url},
        },
    )
    engine = open_engine(settings.database_url)
    try:
        pipeline.ingest(settings, engine, seeds_dir=tmp_path / "seeds", only_given=True)
        editorial.draft(settings, engine)
        accounts.add(engine, "ed@example.org", "correct horse battery staple", name="Ed")
        assert asgi_server.start(create_app(settings, engine), port=port) == url

        def csrf(page: str) -> str:
            found = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert found, page[:300]
            return found.group(1)

        with httpx.Client(base_url=url, timeout=15, follow_redirects=False) as client:
            form = client.get("/desk/login")
            done = client.post(
                "/desk/login",
                data={
                    "email": "ed@example.org",
                    "password": "correct horse battery staple",
                    "csrf_token": csrf(form.text),
                },
            )
            assert done.status_code == 303, done.text[:500]
            page = client.get("/desk/issues/1")
            assert page.status_code == 200
            approved = client.post("/desk/issues/1/approve", data={"csrf_token": csrf(page.text)})
            assert approved.status_code == 303, approved.text[:500]
            assert client.get("/healthz").status_code == 200
        with engine.connect() as conn:
            issue = issue_store.get_issue(conn, 1)
        assert issue.state == "approved" and issue.approved_by == "Ed <ed@example.org>"
    finally:
        engine.dispose()


# --- 5. without PostgreSQL the tests skip, saying why and how to get them ------------------------


def test_the_skip_reasons_say_why_and_how(monkeypatch: pytest.MonkeyPatch) -> None:
    import pgcluster

    monkeypatch.setenv("BRIEFING_SKIP_POSTGRES", "1")
    reason = pgcluster.available()
    assert reason is not None and reason.startswith("BRIEFING_SKIP_POSTGRES=1")
    monkeypatch.delenv("BRIEFING_SKIP_POSTGRES")
    monkeypatch.setattr(pgcluster, "find_bindir", lambda: None)
    reason = pgcluster.available()
    assert reason is not None and "not installed" in reason
    assert "apt-get install postgresql" in reason and "BRIEFING_SKIP_POSTGRES=1" in reason


# --- 6. the scheduler's jobs on the database ----------------------------------------------------


def test_the_scheduled_week_ingests_drafts_and_sends_once(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: Sink
) -> None:
    from zoneinfo import ZoneInfo

    from briefing.schedule.runner import Runtime, execute
    from briefing.services import issues as editorial

    london = ZoneInfo("Europe/London")
    editor = "desk@example.org"
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    settings = load_settings(
        REPO / "briefing.toml",
        overrides={
            "storage": {"url": db_url},
            "seeds": {"folder": str(tmp_path / "seeds")},
            "delivery": {"url": smtp_server.url},
            "newsletter": {"base_url": BASE_URL},
            "schedule": {
                "send": "mon 07:00",
                "timezone": "Europe/London",
                "draft_before": "24h",
                "retry_every": "30m",
                "expire_after": "6h",
                "editors": [editor],
            },
        },
    )
    engine = open_engine(settings.database_url)
    try:
        report = subscriptions.import_file(settings, engine, REPO / "subscribers" / "sample.csv")
        readers = [
            s.email for s in subscriptions.recipients(engine, {"japan-defense-dprk"}) if s.email
        ]
        assert report.added >= len(readers) > 0
        rt = Runtime(settings, engine, transport=smtp_server.url, workers=1)
        ingested = execute(rt, "ingest", datetime(2026, 11, 22, 1, 0, tzinfo=london))
        assert ingested["outcome"] == "ok" and ingested["new"] == 2, ingested
        drafted = execute(rt, "draft", datetime(2026, 11, 22, 7, 0, tzinfo=london))
        assert drafted["outcome"] == "drafted" and drafted["proofs"] == [editor], drafted
        editorial.approve(
            engine, drafted["issue"], by="Ann", now=datetime(2026, 11, 22, 9, 0, tzinfo=london)
        )
        sent = execute(rt, "send", datetime(2026, 11, 23, 7, 0, tzinfo=london))
        again = execute(rt, "send-retry", datetime(2026, 11, 23, 7, 30, tzinfo=london))
        with engine.connect() as conn:
            issue = issue_store.get_issue(conn, drafted["issue"])
    finally:
        engine.dispose()
    assert sent["outcome"] == "sent" and sent["sent"] == len(readers), sent
    assert again["outcome"] != "sent", again
    assert issue.state == "sent"
    assert smtp_server.received() == Counter({editor: 1, **{r.lower(): 1 for r in readers}})


def test_queueing_a_send_gives_the_planner_fresh_statistics(
    settings: Settings, engine: Engine
) -> None:
    """A list imported just before a send (the usual week: import, send) leaves PostgreSQL
    with no statistics on subscribers. The foreign-key check of each queued outbox row then
    keeps a plan made for an empty table, a sequential scan: queueing 20,000 recipients took
    13-18 s instead of 0.5 s (bench_send --db postgres). Queueing analyzes both tables first."""
    if engine.dialect.name != "postgresql":
        pytest.skip("statistics are PostgreSQL's planner's; SQLite has no such step")
    from sqlalchemy import text

    for i in range(3):
        subscriptions.add(settings, engine, address(i), now=T0)
    with engine.begin() as conn:
        issue_id = issue_store.create_issue(conn, subject="S", preheader="P", now=T0, actor="t")
        queued_now = outbox_store.populate_all_topics(conn, issue_id, T0)
    with engine.connect() as conn:
        analyzed = dict(
            conn.execute(
                text(
                    "SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables "
                    "WHERE relname IN ('subscribers', 'outbox')"
                )
            ).all()
        )
        queued = outbox_store.counts(conn, issue_id)["queued"]
    assert queued == 3
    assert queued_now == 3  # the rows this call queued (once -1 on PostgreSQL)
    assert analyzed == {"subscribers": True, "outbox": True}


def test_two_senders_recovering_at_once_report_each_ambiguous_row_once(
    settings: Settings, engine: Engine
) -> None:
    """Rows a dead sender left in `sending` are ambiguous: whoever takes them up reports
    them (and resends them once). Two senders recovering at the same moment: the second's
    update waits for the first's row locks and then finds nothing left to take, so the
    rows are reported by one of them only (on PostgreSQL both once saw them in their read
    and both reported, and resent, them)."""
    import threading

    if engine.dialect.name != "postgresql":
        pytest.skip("one writer at a time on SQLite: the second waits before it reads")
    lease = timedelta(minutes=5)
    issue_id = queued_issue(settings, engine, 4)
    with engine.begin() as conn:
        held = outbox_store.claim(conn, issue_id, "elsewhere:1:dead", T0, lease=lease, limit=2)
        conn.execute(
            update(outbox).where(outbox.c.id.in_([r.id for r in held])).values(state="sending")
        )
    later = T0 + 2 * lease
    reported: dict[str, list[str]] = {}
    first = engine.connect()
    first_tx = first.begin()
    reported["first"] = outbox_store.recover(first, issue_id, later, resend=True)

    def second() -> None:
        with engine.begin() as conn:
            reported["second"] = outbox_store.recover(conn, issue_id, later, resend=True)

    thread = threading.Thread(target=second)
    thread.start()
    deadline = time.monotonic() + 10
    with engine.connect() as watch:  # the second is waiting for the first's row locks
        while True:
            waiting = watch.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            ).scalar_one()
            if waiting or time.monotonic() > deadline:
                break
            time.sleep(0.02)
    assert waiting, "the second recovery never waited for the first"
    first_tx.commit()
    first.close()
    thread.join(10)
    assert sorted(reported["first"]) == sorted(r.email for r in held)
    assert reported["second"] == []
    with engine.connect() as conn:
        assert outbox_store.counts(conn, issue_id)["queued"] == 4
