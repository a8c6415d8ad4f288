"""`briefing send` against real SMTP servers (aiosmtpd on 127.0.0.1): what each subscriber
receives, temporary and permanent refusals, a connection dropped in the middle of DATA,
the error-rate pause and its resume, an unsubscribe in the middle of a send, a SIGKILL of
the whole sender and the run after it, and the dry run, the proof and --force; on the
run's backend (a SQLite file, or PostgreSQL under --backend postgresql).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine, select, update

from briefing.cli import main
from briefing.config import Settings, load_settings
from briefing.deliver.message import list_id
from briefing.deliver.options import SendOptions
from briefing.models import Issue, Subscriber
from briefing.services import ingest as pipeline
from briefing.services import issues as editorial
from briefing.services import subscriptions
from briefing.services.send import send as send_issue
from briefing.store import issues as issue_store
from briefing.store import outbox as outbox_store
from briefing.store import subscribers as sub_store
from briefing.store.db import open_engine
from briefing.store.outbox_schema import outbox, send_runs
from briefing.store.subscribers_schema import subscribers
from briefing.tokens import verify

if TYPE_CHECKING:
    from conftest import Databases

REPO = Path(__file__).parent.parent.parent
BRIEFING = REPO / ".venv" / "bin" / "briefing"
SECRET = "send-e2e-secret-" + "k" * 24
SENDER = "briefing@example.org"
BASE_URL = "https://news.example.org"
TOKEN = re.compile(
    r"(https?://[^\s\"'<>]+)/([up])/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22})(?![A-Za-z0-9_-])"
)

Sink = Any  # conftest.SMTPSink
# each SMTP test with and without PIPELINING (RFC 2920); the database sees the same either
# way, so the PostgreSQL pass runs the plain one only
PIPELINING = [
    pytest.param(False, id="plain"),
    pytest.param(
        True,
        id="pipelining",
        marks=pytest.mark.sqlite_only(reason="PIPELINING changes only the SMTP dialogue"),
    ),
]


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.out)
        return doc


@dataclass
class World:
    root: Path
    db: str
    settings: Settings
    engine: Engine
    issue_id: int
    emails: list[str]
    names: dict[str, str | None]
    capsys: pytest.CaptureFixture[str]
    env: dict[str, str] = field(default_factory=dict)

    # --- running the command ------------------------------------------------------------------

    def base(self) -> list[str]:
        return ["--config", str(REPO / "briefing.toml"), "--db", self.db]

    def cli(self, *args: str) -> Run:
        """`briefing ARGS` in this process (workers > 1 fork from it)."""
        self.capsys.readouterr()
        with pytest.raises(SystemExit) as done:
            main([*self.base(), *args])
        out, err = self.capsys.readouterr()
        return Run(int(done.value.code or 0), out, " ".join(err.split()))

    def popen(self, *args: str) -> subprocess.Popen[bytes]:
        """`briefing ARGS` as its own process group (so it can be killed whole)."""
        return subprocess.Popen(
            [str(BRIEFING), *self.base(), *args],
            cwd=self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )

    def run_process(self, *args: str, timeout: float = 30) -> Run:
        proc = self.popen(*args)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise AssertionError(f"`briefing {' '.join(args)}` did not end in {timeout} s") from exc
        return Run(proc.returncode, out.decode(), " ".join(err.decode().split()))

    # --- looking at the database --------------------------------------------------------------

    def issue(self) -> Issue:
        with self.engine.connect() as conn:
            return issue_store.get_issue(conn, self.issue_id)

    def sub(self, email: str) -> Subscriber:
        with self.engine.connect() as conn:
            found = sub_store.by_email(conn, email)
        assert found is not None, email
        return found

    def rows(self) -> dict[str, dict[str, Any]]:
        """The outbox by subscriber address."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(outbox, subscribers.c.email)
                .join(subscribers, subscribers.c.id == outbox.c.subscriber_id)
                .where(outbox.c.issue_id == self.issue_id)
            ).mappings()
            return {r["email"]: dict(r) for r in found}

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return outbox_store.counts(conn, self.issue_id)

    def events(self, email: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return sub_store.events(conn, self.sub(email).id)

    def suppressed(self, email: str) -> str | None:
        with self.engine.connect() as conn:
            return sub_store.suppressed(conn, email, None)


def address(i: int) -> str:
    return f"reader{i:03d}@example.org"


@pytest.fixture
def make_world(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    databases: Databases,
) -> Iterator[Callable[..., World]]:
    """make_world(n, names=..., approve=True): seeds ingested, an issue drafted (and approved
    by "Ed"), ``n`` active subscribers imported from a CSV (reader000@example.org, ...), in
    a new database on the run's backend."""
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)  # Settings.secrets() reads os.environ
    # a real send refuses links that would not work (http://, loopback): public ones here
    monkeypatch.setenv("BRIEFING_NEWSLETTER_BASE_URL", BASE_URL)
    engines: list[Engine] = []

    def make(n: int, *, names: dict[int, str] | None = None, approve: bool = True) -> World:
        root = tmp_path_factory.mktemp("send")
        shutil.copytree(REPO / "seeds", root / "seeds")
        db = databases.new(root)
        settings = load_settings(
            REPO / "briefing.toml",
            overrides={"storage": {"url": db}, "seeds": {"folder": str(root / "seeds")}},
        )
        engine = open_engine(settings.database_url)
        engines.append(engine)
        pipeline.ingest(settings, engine, seeds_dir=root / "seeds", only_given=True)
        issue = editorial.draft(settings, engine)
        assert issue.included, "the seeds gave the issue no story"
        if approve:
            issue = editorial.approve(engine, issue.id, by="Ed")
        chosen = {i: (names or {}).get(i, f"Reader {i}") for i in range(n)}
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["email", "name"])
        for i in range(n):
            writer.writerow([address(i), chosen[i]])
        (root / "subscribers.csv").write_text(buffer.getvalue(), encoding="utf-8")
        report = subscriptions.import_file(settings, engine, root / "subscribers.csv")
        assert report.added == n, report
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")}
        env["BRIEFING_SECRET"] = SECRET
        env["BRIEFING_NEWSLETTER_BASE_URL"] = BASE_URL
        return World(
            root=root,
            db=db,
            settings=settings,
            engine=engine,
            issue_id=issue.id,
            emails=[address(i) for i in range(n)],
            names={address(i): chosen[i] or None for i in range(n)},
            capsys=capsys,
            env=env,
        )

    yield make
    for engine in engines:
        engine.dispose()


def message_id_of(data: bytes) -> str:
    found = re.search(rb"^Message-ID: (<[^>\r\n]+>)\r\n", data, re.M | re.I)
    assert found, data[:400]
    return found.group(1).decode()


def each_once(sink: Sink, emails: list[str]) -> None:
    got = sink.received()
    assert got == Counter({e: 1 for e in emails}), {
        e: got.get(e, 0) for e in set(emails) | set(got) if got.get(e, 0) != 1
    }


# --- 1. a full delivery: every header, both parts, each recipient's own links -------------------


NAMES = {
    1: "Zoë Ünal-Æsir",
    2: "O'Brien, Ann",
    3: 'Dr. "Q" Smith',
    4: "",
    5: "山田 太郎",
}


@pytest.mark.parametrize("pipelining", PIPELINING)
def test_full_delivery_every_message_is_right_for_its_recipient(
    make_world: Callable[..., World], smtp_server: Sink, pipelining: bool
) -> None:
    smtp_server.pipelining = pipelining
    world = make_world(30, names=NAMES)
    issue = world.issue()
    started = datetime.now(UTC)

    run = world.cli("send", "--transport", smtp_server.url, "--workers", "2", "--json")

    assert run.code == 0, run.err
    doc = run.doc
    assert doc["issue"] == world.issue_id
    assert doc["finished"] is True and doc["paused"] is None
    assert (doc["sent"], doc["sent_this_run"]) == (30, 30)
    assert (doc["deferred"], doc["failed"], doc["skipped"], doc["queued"]) == (0, 0, 0, 0)
    assert doc["ambiguous"] == [] and doc["problems"] == []
    each_once(smtp_server, world.emails)
    assert world.issue().state == "sent" and world.issue().sent_at is not None
    assert {r["state"] for r in world.rows().values()} == {"sent"}

    message_ids: set[str] = set()
    for mail in smtp_server.messages:
        (rcpt,) = mail.rcpt_tos
        sub = world.sub(rcpt)
        assert mail.mail_from == SENDER
        raw = mail.data
        msg = message_from_bytes(raw, policy=policy.default)

        # the wire format: CRLF everywhere, no line over 998 octets, ASCII headers
        assert b"\n" not in raw.replace(b"\r\n", b""), f"bare LF in the message to {rcpt}"
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998
        head = raw.split(b"\r\n\r\n", 1)[0]
        assert head.isascii(), f"8-bit bytes in the header of the message to {rcpt}"

        # the headers
        assert msg["From"].addresses[0].addr_spec == SENDER
        assert str(msg["From"]) == world.settings.newsletter.sender
        to = msg["To"].addresses
        assert len(to) == 1 and to[0].addr_spec == rcpt, (rcpt, str(msg["To"]))
        assert to[0].display_name == (world.names[rcpt] or ""), (rcpt, str(msg["To"]))
        assert msg["Subject"] == issue.subject
        assert msg["MIME-Version"] == "1.0"
        date = parsedate_to_datetime(msg["Date"])
        assert date.tzinfo is not None
        assert started - timedelta(minutes=2) <= date <= datetime.now(UTC) + timedelta(minutes=2)
        mid = msg["Message-ID"]
        assert mid == f"<briefing.{world.issue_id}.{sub.id}@example.org>", mid
        message_ids.add(mid)
        assert msg["List-Id"] == list_id(world.settings)
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg["Feedback-ID"].startswith(f"{world.issue_id}:")
        assert msg["Auto-Submitted"] == "auto-generated"
        assert msg["X-Briefing-AI-Content"], "the seeds carry AI-generated analysis"
        assert msg["Reply-To"] == world.settings.newsletter.reply_to

        # List-Unsubscribe: plain ASCII bytes on the wire (no encoded word), URL + mailto,
        # the URL's token is this subscriber's
        found = re.search(rb"^List-Unsubscribe: ([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)\r\n", head, re.M)
        assert found, head
        value = found.group(1).replace(b"\r\n", b"").decode("ascii")
        assert "=?" not in value, value
        pair = re.fullmatch(r"\s*<(https?://[^>]+)>\s*,\s*<(mailto:[^>]+)>\s*", value)
        assert pair, value
        url, mailto = pair.groups()
        assert url.startswith(world.settings.newsletter.base_url + "/u/"), url
        token = url.rsplit("/", 1)[1]
        assert verify(token, [SECRET]) == sub.token_id, (rcpt, url)
        assert mailto.startswith("mailto:unsubscribe@example.org?") and token in mailto

        # the body: multipart/alternative, text/plain first, text/html last, UTF-8 QP
        assert msg.get_content_type() == "multipart/alternative"
        parts = list(msg.iter_parts())
        assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
        for part in parts:
            assert part.get_content_charset() == "utf-8"
            assert part["Content-Transfer-Encoding"] == "quoted-printable"
            content = part.get_content()
            assert "@@=" not in content, f"a placeholder left in the message to {rcpt}"
            links = TOKEN.findall(content)
            kinds = {kind for _, kind, _ in links}
            assert kinds == {"u", "p"}, (rcpt, part.get_content_type(), links)
            for base, _kind, tok in links:
                assert base == world.settings.newsletter.base_url
                assert verify(tok, [SECRET]) == sub.token_id, (rcpt, tok)
            assert f"{world.settings.newsletter.base_url}/u/{token}" in content
            assert f"{world.settings.newsletter.base_url}/p/{token}" in content
        assert issue.subject.split()[0] in parts[0].get_content()
    assert len(message_ids) == 30

    # a sent issue is never sent again
    again = world.cli("send", str(world.issue_id), "--transport", smtp_server.url, "--json")
    assert again.code == 1
    assert "never sent twice" in again.err, again.err
    again = world.cli("send", "--transport", smtp_server.url, "--json")
    assert again.code == 1, again.out
    assert len(smtp_server.messages) == 30


# --- 2. temporary refusals (4xx): deferred, then sent ------------------------------------------


@pytest.mark.parametrize("pipelining", PIPELINING)
def test_temporary_refusals_are_retried_within_the_run(
    make_world: Callable[..., World], smtp_server: Sink, pipelining: bool
) -> None:
    smtp_server.pipelining = pipelining
    world = make_world(24)
    once_rcpt = {address(3), address(7)}
    twice_rcpt = {address(11)}
    once_data = {address(15)}

    def refuse(addr: str, nth: int) -> str | None:
        if (addr in once_rcpt and nth == 1) or (addr in twice_rcpt and nth <= 2):
            return "451 4.7.1 Greylisted, try again later"
        return None

    smtp_server.refuse = refuse
    smtp_server.refuse_data = lambda mail, nth: (
        "451 4.3.0 Queue full, try later" if mail.rcpt_tos[0] in once_data and nth == 1 else None
    )
    options = SendOptions(transport_url=smtp_server.url, workers=2, retry_delays=(0, 1))
    started = time.monotonic()

    summary = send_issue(world.settings, world.engine, world.issue(), options, actor="test")

    assert time.monotonic() - started < 15
    assert summary.finished and summary.paused is None, summary
    assert summary.counts["sent"] == 24 and summary.counts["deferred"] == 0
    each_once(smtp_server, world.emails)
    rows = world.rows()
    for email in world.emails:
        expected = 3 if email in twice_rcpt else 2 if email in once_rcpt | once_data else 1
        assert (rows[email]["state"], rows[email]["attempts"]) == ("sent", expected), email
    assert smtp_server.rcpt_count[address(11)] == 3
    assert world.issue().state == "sent"
    # the same Message-ID on the retry of the same recipient
    ((refused_mail, _),) = smtp_server.refused_data
    (accepted,) = smtp_server.to(address(15))
    assert message_id_of(refused_mail.data) == message_id_of(accepted.data)


def test_a_deferred_recipient_is_sent_by_the_next_run(
    make_world: Callable[..., World], smtp_server: Sink
) -> None:
    world = make_world(10)
    later = {address(2), address(6)}
    smtp_server.refuse = lambda addr, nth: (
        "452 4.2.2 Mailbox full, try later" if addr in later and nth == 1 else None
    )
    options = SendOptions(
        transport_url=smtp_server.url, workers=1, retry_delays=(1,), wait_for_retries=0
    )

    first = send_issue(world.settings, world.engine, world.issue(), options)

    assert not first.finished and first.paused is None
    assert first.counts["deferred"] == 2 and first.counts["sent"] == 8
    assert world.issue().state == "sending"
    rows = world.rows()
    assert {e for e, r in rows.items() if r["state"] == "deferred"} == later
    assert all(rows[e]["last_code"] == 452 and rows[e]["next_attempt_at"] for e in later)

    run = world.cli("send", "--transport", smtp_server.url, "--json")

    assert run.code == 0, run.err
    assert run.doc["finished"] is True and run.doc["sent_this_run"] == 2
    each_once(smtp_server, world.emails)
    assert world.issue().state == "sent"


# --- 3. permanent refusals (5xx): failed; 5.1.1 is a bounce --------------------------------------


@pytest.mark.parametrize("pipelining", PIPELINING)
def test_hard_bounces_fail_bounce_and_suppress_without_pausing(
    make_world: Callable[..., World], smtp_server: Sink, pipelining: bool
) -> None:
    smtp_server.pipelining = pipelining
    world = make_world(60)
    unknown = {address(i) for i in range(60) if i % 5 == 2}  # 12 of 60
    spam = {address(3), address(8)}  # refused for the message, not the mailbox

    def refuse(addr: str, nth: int) -> str | None:
        if addr in unknown:
            return f"550 5.1.1 <{addr}>: Recipient address rejected: User unknown"
        if addr in spam:
            return "550 5.7.1 Message rejected as spam"
        return None

    smtp_server.refuse = refuse

    run = world.cli("send", "--transport", smtp_server.url, "--workers", "2", "--json")

    assert run.code == 0, run.err
    doc = run.doc
    assert doc["paused"] is None and doc["finished"] is True
    assert (doc["sent"], doc["failed"], doc["deferred"]) == (46, 14, 0)
    assert {p["email"] for p in doc["problems"]} == unknown | spam
    assert {p["code"] for p in doc["problems"]} == {550}
    assert world.issue().state == "sent"
    each_once(smtp_server, [e for e in world.emails if e not in unknown | spam])
    rows = world.rows()
    for email in unknown:
        assert rows[email]["state"] == "failed" and rows[email]["last_code"] == 550
        assert world.sub(email).status == "bounced"
        assert world.suppressed(email) == "bounced"
        bounce = [e for e in world.events(email) if e["action"] == "bounced"]
        assert len(bounce) == 1 and bounce[0]["detail"]["code"] == 550, bounce
        assert bounce[0]["detail"]["issue"] == world.issue_id
    for email in spam:
        assert rows[email]["state"] == "failed" and rows[email]["last_code"] == 550
        assert world.sub(email).status == "active", "a 5.7.1 is about the message"
        assert world.suppressed(email) is None


# --- 4. the connection drops in the middle of DATA ---------------------------------------------


@pytest.mark.parametrize("pipelining", PIPELINING)
def test_connection_dropped_mid_data_is_resent_on_a_new_connection(
    make_world: Callable[..., World], smtp_server: Sink, pipelining: bool
) -> None:
    smtp_server.pipelining = pipelining
    world = make_world(30)
    victims = {address(4), address(21)}
    smtp_server.drop = lambda rcpt, nth: rcpt in victims and nth == 1

    run = world.cli("send", "--transport", smtp_server.url, "--workers", "2", "--json")

    assert run.code == 0, run.err
    assert run.doc["finished"] is True and run.doc["sent"] == 30
    assert {r for r, _ in smtp_server.dropped} == victims
    each_once(smtp_server, world.emails)
    rows = world.rows()
    for email in victims:
        assert rows[email]["state"] == "sent" and rows[email]["attempts"] == 2
        partial = next(d for r, d in smtp_server.dropped if r == email)
        (accepted,) = smtp_server.to(email)
        assert message_id_of(partial) == message_id_of(accepted.data)
    assert world.issue().state == "sent"


# --- 5. the error-rate pause, and the resume -----------------------------------------------------


def test_mass_refusal_pauses_and_a_second_send_resumes(
    make_world: Callable[..., World], smtp_server: Sink
) -> None:
    world = make_world(60)
    smtp_server.refuse = lambda addr, nth: (
        None if int(addr[6:9]) % 10 == 0 else "550 5.7.1 Service unavailable; client host blocked"
    )

    first = world.cli("send", "--transport", smtp_server.url, "--workers", "2", "--json")

    assert first.code == 1
    assert "paused" in first.err, first.err
    assert "briefing send" in first.err  # the way out
    assert first.doc["paused"] and first.doc["finished"] is False
    assert world.issue().state == "sending"
    counts = world.counts()
    assert counts["queued"] > 0 and counts["sending"] == 0, counts
    got_first = smtp_server.received()
    assert all(n == 1 for n in got_first.values())

    smtp_server.refuse = None  # the server is fixed
    second = world.cli("send", "--transport", smtp_server.url, "--workers", "2", "--json")

    assert second.code == 0, second.err
    assert second.doc["finished"] is True and second.doc["paused"] is None
    # the refusals of the paused run get another try (their subscribers are still active)
    assert second.doc["sent_this_run"] == counts["queued"] + counts["failed"]
    assert world.issue().state == "sent"
    got = smtp_server.received()
    assert max(got.values()) == 1, [e for e, n in got.items() if n > 1]
    rows = world.rows()
    assert {e for e, r in rows.items() if r["state"] == "sent"} == set(got)
    assert {r["state"] for r in rows.values()} <= {"sent", "failed"}


def test_a_small_list_refused_entirely_is_not_marked_sent(
    make_world: Callable[..., World], smtp_server: Sink
) -> None:
    """20 subscribers, every one refused (550 5.7.1): the run should pause like a big one,
    not end with the issue `sent` to nobody."""
    world = make_world(20)
    smtp_server.refuse = lambda addr, nth: "550 5.7.1 Service unavailable; client host blocked"

    run = world.cli("send", "--transport", smtp_server.url, "--workers", "2", "--json")

    assert smtp_server.messages == []
    assert run.doc["sent"] == 0
    assert run.code == 1 and "paused" in run.err, (run.code, run.err, run.doc["paused"])
    assert world.issue().state == "sending"


# --- 6. an unsubscribe in the middle of a send --------------------------------------------------


@pytest.mark.parametrize("pipelining", PIPELINING)
def test_unsubscribed_mid_send_is_skipped(
    make_world: Callable[..., World], smtp_server: Sink, pipelining: bool
) -> None:
    smtp_server.pipelining = pipelining
    world = make_world(10)
    leaver = address(9)
    engine = open_engine(world.settings.database_url)
    done: list[bool] = []

    def on_message(mail: Any) -> None:
        # the send has started and claimed its batch; the last in line unsubscribes
        if not done and mail.rcpt_tos[0] != leaver:
            with engine.connect() as conn:
                sub = sub_store.by_email(conn, leaver)
            assert sub is not None
            done.append(subscriptions.unsubscribe(engine, sub, how="one-click", actor="web"))

    smtp_server.on_message = on_message
    try:
        run = world.cli("send", "--transport", smtp_server.url, "--workers", "1", "--json")
    finally:
        engine.dispose()

    assert done == [True]
    assert run.code == 0, run.err
    assert run.doc["finished"] is True
    assert (run.doc["sent"], run.doc["skipped"]) == (9, 1)
    assert smtp_server.to(leaver) == []
    each_once(smtp_server, [e for e in world.emails if e != leaver])
    assert world.rows()[leaver]["state"] == "skipped"
    assert world.issue().state == "sent"


# --- 7. SIGKILL of the whole sender, then `briefing send` again ---------------------------------


def _kill_midway(world: World, sink: Sink, *, at_least: int) -> set[str]:
    """Start `briefing send --workers 2` as a process group, SIGKILL it once ``at_least``
    messages arrived; return the addresses whose rows were caught in `sending`."""
    proc = world.popen("send", "--transport", sink.url, "--workers", "2", "--json")
    try:
        deadline = time.monotonic() + 20
        while len(sink.messages) < at_least:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the sender did not get going"
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    time.sleep(sink.delay * 3)  # a message in the server's hands lands (or not) now
    received = len(sink.messages)
    assert at_least <= received < len(world.emails), "killed too late to test anything"
    assert world.issue().state == "sending"
    return {e for e, r in world.rows().items() if r["state"] == "sending"}


def _check_exactly_once(world: World, sink: Sink, doc: dict[str, Any], caught: set[str]) -> None:
    assert doc["finished"] is True, {
        k: doc[k] for k in ("sent", "queued", "ambiguous", "sent_this_run")
    }
    assert doc["paused"] is None
    assert doc["sent"] == len(world.emails)
    ambiguous = set(doc["ambiguous"])
    assert ambiguous == caught
    assert len(ambiguous) <= 2  # at most one per worker
    got = sink.received()
    assert set(got) == set(world.emails), set(world.emails) - set(got)
    twice = {e for e, n in got.items() if n > 1}
    assert twice <= ambiguous, twice - ambiguous
    assert max(got.values()) <= 2
    assert world.issue().state == "sent"


@pytest.mark.parametrize("pipelining", PIPELINING)
def test_sigkill_then_send_again_resumes_at_once(
    make_world: Callable[..., World], smtp_server: Sink, pipelining: bool
) -> None:
    """The operator's view: the sender was killed; `briefing send` again finishes the job."""
    smtp_server.pipelining = pipelining
    world = make_world(200)
    smtp_server.delay = 0.02
    caught = _kill_midway(world, smtp_server, at_least=30)
    smtp_server.delay = 0

    again = world.run_process("send", "--transport", smtp_server.url, "--workers", "2", "--json")

    assert again.code == 0, again.err
    _check_exactly_once(world, smtp_server, again.doc, caught)


@pytest.mark.parametrize("pipelining", PIPELINING)
def test_sigkill_then_send_again_once_the_leases_ran_out(
    make_world: Callable[..., World], smtp_server: Sink, pipelining: bool
) -> None:
    """The at-most-once guarantee itself: after the dead workers' leases expired (moved into
    the past here, as if the lease time had passed), nobody gets the issue twice except
    the rows caught in `sending`, which are reported as ambiguous and resent."""
    smtp_server.pipelining = pipelining
    world = make_world(200)
    smtp_server.delay = 0.02
    caught = _kill_midway(world, smtp_server, at_least=30)
    smtp_server.delay = 0
    with world.engine.begin() as conn:
        conn.execute(
            update(outbox)
            .where(outbox.c.lease_until.is_not(None))
            .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )

    again = world.run_process("send", "--transport", smtp_server.url, "--workers", "2", "--json")

    assert again.code == 0, again.err
    _check_exactly_once(world, smtp_server, again.doc, caught)


# --- 8. dry run, proof, draft and --force --------------------------------------------------------


def test_dry_run_and_proof_touch_nothing(
    make_world: Callable[..., World], smtp_server: Sink
) -> None:
    world = make_world(5)
    subscriptions.unsubscribe(world.engine, world.sub(address(2)), how="test", actor="test")
    expected = [e for e in world.emails if e != address(2)]

    dry = world.cli("send", "--dry-run", "--transport", smtp_server.url, "--json")

    assert dry.code == 0, dry.err
    assert sorted(dry.doc["recipients"]) == expected and dry.doc["count"] == 4
    assert dry.doc["subject"] == world.issue().subject
    text = world.cli("send", "--dry-run", "--transport", smtp_server.url)
    assert text.code == 0 and all(e in text.out for e in expected)
    assert address(2) not in text.out

    proof = world.cli(
        "send", "--test-to", "Editor@Example.org", "--transport", smtp_server.url, "--json"
    )

    assert proof.code == 0, proof.err
    (mail,) = smtp_server.messages
    assert [r.lower() for r in mail.rcpt_tos] == ["editor@example.org"]
    msg = mail.message()
    assert msg["Subject"] == "[Proof] " + world.issue().subject
    assert msg["To"].addresses[0].addr_spec.lower() == "editor@example.org"
    for email in world.emails:  # no subscriber's link in the proof
        token_id = world.sub(email).token_id
        for part in msg.iter_parts():
            for _, _, tok in TOKEN.findall(part.get_content()):
                assert verify(tok, [SECRET]) != token_id

    # neither the dry run nor the proof touched the outbox or the issue
    assert world.counts() == dict.fromkeys(world.counts(), 0)
    with world.engine.connect() as conn:
        assert conn.execute(select(send_runs)).first() is None
    assert world.issue().state == "approved"
    assert len(smtp_server.messages) == 1


def test_a_draft_needs_force_and_force_is_recorded(
    make_world: Callable[..., World], smtp_server: Sink
) -> None:
    world = make_world(4, approve=False)
    assert world.issue().state == "draft"

    refused = world.cli("send", str(world.issue_id), "--transport", smtp_server.url, "--json")

    assert refused.code == 1
    assert "draft" in refused.err and "--force" in refused.err, refused.err
    assert smtp_server.messages == [] and world.issue().state == "draft"
    assert world.counts()["queued"] == 0

    forced = world.cli(
        "send", str(world.issue_id), "--force", "--by", "Alice",
        "--transport", smtp_server.url, "--json",
    )  # fmt: skip

    assert forced.code == 0, forced.err
    assert forced.doc["finished"] is True and forced.doc["sent"] == 4
    each_once(smtp_server, world.emails)
    issue = world.issue()
    assert issue.state == "sent"
    assert issue.approved_by == "Alice (send --force)" and issue.approved_at is not None
    with world.engine.connect() as conn:
        events = issue_store.events(conn, world.issue_id)
    approved = [e for e in events if e["action"] == "approved"]
    assert len(approved) == 1 and approved[0]["actor"] == "Alice (send --force)"
    assert [e["action"] for e in events][-3:] == ["approved", "sending", "sent"]


def test_force_without_an_issue_number_sends_the_draft(
    make_world: Callable[..., World], smtp_server: Sink
) -> None:
    """The refusal's hint says "(or send --force)"; `briefing send --force` then works."""
    world = make_world(3, approve=False)

    forced = world.cli("send", "--force", "--transport", smtp_server.url, "--json")

    assert forced.code == 0, forced.err
    each_once(smtp_server, world.emails)
    assert world.issue().state == "sent"


# --- beyond the brief's list: a graceful stop, and a lease that runs out mid-batch --------------


@pytest.mark.parametrize("pipelining", PIPELINING)
def test_sigterm_stops_cleanly_and_send_again_resumes_at_once(
    make_world: Callable[..., World], smtp_server: Sink, pipelining: bool
) -> None:
    """SIGTERM (what a service manager sends the whole group): in-flight messages finish,
    unstarted rows are given back, and `briefing send` again finishes at once."""
    smtp_server.pipelining = pipelining
    world = make_world(200)
    smtp_server.delay = 0.02
    proc = world.popen("send", "--transport", smtp_server.url, "--workers", "2", "--json")
    try:
        deadline = time.monotonic() + 20
        while len(smtp_server.messages) < 30:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the sender did not get going"
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 1, err
    assert "SIGTERM" in err.decode()
    stopped = json.loads(out)
    assert stopped["finished"] is False and stopped["sent"] < 200
    counts = world.counts()
    assert counts["sending"] == 0, counts
    with world.engine.connect() as conn:
        leased = conn.execute(select(outbox.c.id).where(outbox.c.lease_owner.is_not(None))).all()
    assert leased == [], "a clean stop gives its claimed rows back"
    smtp_server.delay = 0

    again = world.run_process("send", "--transport", smtp_server.url, "--workers", "2", "--json")

    assert again.code == 0, again.err
    assert again.doc["finished"] is True and again.doc["ambiguous"] == []
    each_once(smtp_server, world.emails)
    assert world.issue().state == "sent"


@pytest.mark.parametrize("pipelining", PIPELINING)
def test_rows_reclaimed_after_their_lease_ran_out_are_not_skipped(
    make_world: Callable[..., World], smtp_server: Sink, pipelining: bool
) -> None:
    """A batch that takes longer than the lease (a slow server, a low --rate): the other
    worker claims the rows whose lease ran out. Nobody left the list, so nobody may end
    `skipped`, and everyone gets the issue exactly once."""
    smtp_server.pipelining = pipelining
    world = make_world(14)
    smtp_server.delay = 0.15
    options = SendOptions(
        transport_url=smtp_server.url, workers=2, batch=10, lease=timedelta(seconds=0.5)
    )

    summary = send_issue(world.settings, world.engine, world.issue(), options)

    rows = world.rows()
    skipped = sorted(e for e, r in rows.items() if r["state"] == "skipped")
    got = smtp_server.received()
    assert skipped == [], [(e, rows[e]["last_error"], f"received {got[e]}") for e in skipped]
    assert summary.finished and summary.counts["sent"] == 14
    each_once(smtp_server, world.emails)


def test_the_seeds_issue_reaches_the_sample_subscribers(
    make_world: Callable[..., World], smtp_server: Sink
) -> None:
    """Step 4's "done when": the repo's sample list, the seeds' issue, a real SMTP server."""
    world = make_world(0)
    imported = world.cli(
        "subscribers", "import", str(REPO / "subscribers" / "sample.csv"), "--json"
    )
    assert imported.code == 0 and imported.doc["added"] == 4
    run = world.cli("send", "--transport", smtp_server.url, "--json")
    assert run.code == 0, run.err
    assert run.doc["sent"] == 4 and run.doc["finished"] is True
    got = smtp_server.received()
    assert set(got) == {
        "ann.editor@example.org",
        "bo.reader@example.org",
        "chen.analyst@example.org",
        "dana@example.org",
    }
    assert set(got.values()) == {1}
    for email in got:
        (message,) = smtp_server.to(email)
        parsed = message_from_bytes(message.data, policy=policy.default)
        text = " ".join(parsed.get_body(("plain",)).get_content().split())
        assert "Why North Korea Fears Japan’s Record Defense Buildup" in text
        assert "Why North Korea Really Fears Japan's Defense Partnerships" in text
        assert 'the source says: "This content is AI-generated based on source articles."' in text
        assert (
            parsed["X-Briefing-AI-Content"] == "1 of 2 items declared AI-generated by their source"
        )
    assert world.issue().state == "sent"
