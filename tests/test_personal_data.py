"""Personal data: `subscribers forget` erases a person from every column and every file
(the outbox's .eml files, the SQLite file and its WAL, byte for byte); the suppression list
keeps a keyed HMAC; pending requests nobody confirmed expire; forget asks first; the
database, its WAL and the outbox files are created private.

Everything runs on a real newsletter folder (a config, seeds, var/) with a real SQLite
file (or, under --backend postgresql, a PostgreSQL database its config names), the CLI,
and a real SMTP server (aiosmtpd on 127.0.0.1) for the bounce. What concerns the SQLite
file itself (its WAL, its bytes, its mode) is checked on SQLite only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pty
import re
import select as select_module
import shutil
import sqlite3
import stat
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import Engine, update

from briefing.cli import main
from briefing.clock import utcnow
from briefing.config import Settings, load_settings
from briefing.email_address import email_hash
from briefing.scheduler import Runtime, run_ingest
from briefing.services import confirmations, signins, subscriptions
from briefing.store import issues as issue_store
from briefing.store import subscribers as sub_store
from briefing.store.db import make_engine, open_engine
from briefing.store.issues_schema import issues
from briefing.store.outbox_schema import send_runs
from briefing.store.subscribers_schema import suppressions

if TYPE_CHECKING:
    from conftest import Databases

REPO = Path(__file__).parent.parent
BRIEFING = REPO / ".venv" / "bin" / "briefing"
SECRET = "personal-data-secret-" + "p" * 24
EVE = "eve.example@example.org"
NAME = "Evë Exämple"
IP = "203.0.113.9"
AGENT = "Mozilla/5.0 (EvesLaptop)"
BO = "bo@example.org"
Sink = Any  # conftest.SMTPSink


@dataclass
class Run:
    code: int
    out: str
    err: str


@dataclass
class Newsletter:
    """A newsletter's folder: briefing.toml (https base_url), seeds/, var/ made by Briefing."""

    root: Path
    capsys: pytest.CaptureFixture[str]
    database_url: str | None = None  # None: the config's own, sqlite:///var/briefing.db

    @property
    def config(self) -> Path:
        return self.root / "briefing.toml"

    @property
    def db_file(self) -> Path:
        return self.root / "var" / "briefing.db"

    @property
    def outbox(self) -> Path:
        return self.root / "var" / "outbox"

    def settings(self) -> Settings:
        return load_settings(self.config)

    def engine(self) -> Engine:
        return open_engine(self.settings().database_url)

    def cli(self, *args: str) -> Run:
        self.capsys.readouterr()
        with pytest.raises(SystemExit) as done:
            main(["--config", str(self.config), *args])
        out, err = self.capsys.readouterr()
        return Run(int(done.value.code or 0), out, " ".join(err.split()))

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")}
        env["BRIEFING_SECRET"] = SECRET
        env.update(extra)
        return env

    def process(self, *args: str, timeout: float = 60, **env: str) -> Run:
        done = subprocess.run(
            [str(BRIEFING), "--config", str(self.config), *args],
            cwd=self.root,
            env=self.env(**env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            preexec_fn=lambda: os.umask(0o022),  # an ordinary umask: the modes are Briefing's
        )
        return Run(done.returncode, done.stdout.decode(), " ".join(done.stderr.decode().split()))


def make_newsletter(
    root: Path,
    capsys: pytest.CaptureFixture[str],
    databases: Databases,
    **config: str,
) -> Newsletter:
    """On SQLite the config's own database (var/briefing.db, made by Briefing); on
    PostgreSQL a new database, named in the config's storage.url."""
    shutil.copytree(REPO / "seeds", root / "seeds")
    text = (REPO / "briefing.toml").read_text()
    text = text.replace(
        'base_url = "http://127.0.0.1:8000"', 'base_url = "https://news.example.org"'
    )
    url = databases.new(root) if databases.postgresql else None
    if url is not None:
        text, found = re.subn(r'(?m)^url = "sqlite:///var/briefing\.db"$', f'url = "{url}"', text)
        assert found == 1
    for key, line in config.items():  # into the section's table, or a new one at the end
        text, found = re.subn(rf"(?m)^\[{key}\]$", f"[{key}]\n{line}", text, count=1)
        if not found:
            text = text.replace("\n[schedule]\n", f"\n[{key}]\n{line}\n\n[schedule]\n")
    (root / "briefing.toml").write_text(text)
    return Newsletter(root, capsys, url)


@pytest.fixture
def newsletter(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    databases: Databases,
) -> Newsletter:
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)
    for key in [k for k in os.environ if k.startswith("BRIEFING_") and k != "BRIEFING_SECRET"]:
        monkeypatch.delenv(key)
    return make_newsletter(tmp_path / "news", capsys, databases)


def raw_cells(nl: Newsletter) -> str:
    """Every value in every table, as stored (JSON as its text), lower-cased: on SQLite
    read with sqlite3 from the file, on PostgreSQL each row's text form (``t::text``)."""
    if nl.database_url is None:
        conn = sqlite3.connect(nl.db_file)
        try:
            out: list[str] = []
            tables = [
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            for table in tables:
                for row in conn.execute(f'SELECT * FROM "{table}"'):
                    out.extend(str(v) for v in row)
            return "\n".join(out).lower()
        finally:
            conn.close()
    from sqlalchemy import inspect, text

    engine = make_engine(nl.database_url)
    try:
        with engine.connect() as pg:
            rows = [
                row
                for table in inspect(pg).get_table_names()
                for row in pg.execute(text(f'SELECT t::text FROM "{table}" t')).scalars()
            ]
        return "\n".join(rows).lower()
    finally:
        engine.dispose()


def forms(text: str) -> list[bytes]:
    """The ways a string can sit in the database's bytes: UTF-8, and JSON-escaped."""
    escaped = json.dumps(text)[1:-1]
    return sorted({text.lower().encode(), escaped.lower().encode()})


def files_mentioning(folder: Path, needle: str) -> list[Path]:
    return [
        p
        for p in folder.rglob("*")
        if p.is_file() and needle.lower().encode() in p.read_bytes().lower()
    ]


def subscribe_by_form(nl: Newsletter, engine: Engine, address: str, name: str | None) -> None:
    """The public form's path: a pending request (IP, user agent), its email, the link."""
    settings = nl.settings()
    sub = subscriptions.request_subscription(
        settings, engine, address, name=name, topics=None, ip=IP, user_agent=AGENT
    )
    assert sub is not None
    link = subscriptions.confirmation_link(settings, sub, settings.secrets(), utcnow())
    subscriptions.send_confirmation(settings, sub, link)
    confirmed = subscriptions.confirm(settings, engine, link.rsplit("/", 1)[1], settings.secrets())
    assert confirmed is not None and confirmed.status == "active"


# --- forget: every column, every file, every byte ------------------------------------------------


def test_forget_erases_the_person_from_every_table_file_and_byte(
    newsletter: Newsletter, smtp_server: Sink
) -> None:
    nl = newsletter
    assert nl.cli("ingest").code == 0
    engine = nl.engine()  # held open, as `serve` would: the WAL is not removed on close
    subscribe_by_form(nl, engine, EVE, NAME)
    assert nl.cli("subscribers", "add", BO, "--name", "Bo Other").code == 0
    draft = json.loads(nl.cli("draft", "--json").out)
    issue_id = draft["id"]
    assert nl.cli("approve", str(issue_id), "--by", "Ed Itor").code == 0
    # the preview shows the issue as its first recipient gets it: Eve, with her name
    assert nl.cli("preview", str(issue_id)).code == 0
    preview = nl.root / "var" / "preview" / f"issue-{issue_id}"
    assert files_mentioning(preview, EVE)
    assert {mode(p) for p in preview.iterdir()} == {0o600} and mode(preview) == 0o700

    # the server refuses Eve for good, echoing her address: outbox.last_error and the
    # bounced event's detail carry it
    smtp_server.refuse = lambda addr, nth: (
        f"550 5.1.1 <{addr}>: Recipient address rejected: User unknown" if addr == EVE else None
    )
    run = nl.cli("send", "--transport", smtp_server.url, "--workers", "1", "--json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["failed"] == 1
    # proofs to her and to Bo in the outbox folder, beside her confirmation email
    assert nl.cli("send", str(issue_id), "--test-to", EVE).code == 0
    assert nl.cli("send", str(issue_id), "--test-to", BO).code == 0
    # a second request of hers waiting in the web app's queue, a sign-in tried with her
    # address on the desk (from her IP)
    confirmations.enqueue(engine, email=EVE, name=NAME, topics=None, ip=IP, user_agent=AGENT)
    signins.record(engine, EVE, "failed", ip=IP, user_agent=AGENT)
    # free text elsewhere that names her: a paused run's reason, a scheduler event, a note
    with engine.begin() as conn:
        conn.execute(
            update(send_runs)
            .where(send_runs.c.issue_id == issue_id)
            .values(paused_reason=f"paused: 1 refused ({EVE.upper()})")
        )
        issue_store.add_event(conn, issue_id, utcnow(), "scheduler", "proof", {"to": [EVE, BO]})
        conn.execute(
            update(issues)
            .where(issues.c.id == issue_id)
            .values(editor_note=f'Thanks to "{NAME}" <{EVE}> and to {BO} for the tip.')
        )

    before = raw_cells(nl)
    for personal in (EVE, IP, AGENT.lower()):
        assert personal.lower() in before, personal  # the scan sees what is there
    assert len(files_mentioning(nl.outbox, EVE)) == 2  # her confirmation and her proof

    run = nl.cli("subscribers", "forget", EVE, "--yes")
    assert run.code == 0, run.err

    after = raw_cells(nl)
    for personal in (EVE, IP, AGENT):
        assert personal.lower() not in after, f"{personal!r} is still in the database"
    for form in forms(NAME):
        assert form.decode() not in after, f"{form!r} is still in the database"
    assert BO in after and "bo other" in after  # nobody else is touched
    assert "and to bo@example.org for the tip" in after
    assert "user unknown" in after  # the reason stays, without her address
    # her files are gone from the outbox folder; Bo's proof stays
    assert files_mentioning(nl.outbox, EVE) == []
    assert len(files_mentioning(nl.outbox, BO)) == 1
    assert files_mentioning(preview, EVE) == [] and (preview / "web.html").exists()
    engine.dispose()
    if nl.database_url is not None:
        return
    # on SQLite, the bytes on disk: the main file and the WAL (checkpointed and truncated)
    wal = nl.db_file.with_name("briefing.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "the WAL was not truncated"
    for path in (nl.db_file, wal):
        data = path.read_bytes().lower() if path.exists() else b""
        for needle in [*forms(EVE), *forms(NAME), IP.encode(), AGENT.lower().encode()]:
            assert needle not in data, f"{needle!r} is still in the bytes of {path.name}"


def test_forget_an_international_address_leaves_none_of_its_forms(
    newsletter: Newsletter,
) -> None:
    nl = newsletter
    engine = nl.engine()
    address, name = "zoë@bücher.example", "Zoë Ünicode"
    sub = subscriptions.request_subscription(
        nl.settings(), engine, address, name=name, topics=None, ip=IP, user_agent=AGENT
    )
    assert sub is not None
    with engine.begin() as conn:  # what a server would echo: the punycode form
        sub_store.add_event(
            conn,
            sub.id,
            utcnow(),
            "bounced",
            "send",
            {"reason": "550 5.1.1 <zoë@xn--bcher-kva.example>: user unknown"},
        )
    run = nl.cli("subscribers", "forget", address, "--yes")
    assert run.code == 0, run.err
    after = raw_cells(nl)
    for text in (address, name, "zoë@xn--bcher-kva.example", IP, AGENT):
        for form in forms(text):
            assert form.decode() not in after, form
    engine.dispose()


def test_forget_refuses_without_yes_when_nobody_can_be_asked(newsletter: Newsletter) -> None:
    nl = newsletter
    assert nl.cli("subscribers", "add", EVE, "--name", NAME).code == 0
    run = nl.process("subscribers", "forget", EVE)  # stdin is /dev/null: no terminal
    assert run.code == 1, run
    assert "error:" in run.err and "hint:" in run.err and "--yes" in run.err, run.err
    engine = nl.engine()
    assert subscriptions.get(engine, EVE).status == "active"  # nothing erased
    engine.dispose()


def _in_terminal(nl: Newsletter, args: list[str], answer: bytes) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as its stdin and stdout; answer the prompt."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [str(BRIEFING), "--config", str(nl.config), *args],
        cwd=nl.root,
        env=nl.env(),
        stdin=follower,
        stdout=follower,
        stderr=follower,
        close_fds=True,
    )
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 30
    answered = False
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select_module.select([leader], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            if not answered and b"[y/N]" in seen:
                os.write(leader, answer)
                answered = True
            if proc.poll() is not None and not ready:
                break
        code = proc.wait(timeout=10)
    finally:
        os.close(leader)
    return code, seen.decode(errors="replace")


def test_forget_asks_in_a_terminal(newsletter: Newsletter) -> None:
    nl = newsletter
    assert nl.cli("subscribers", "add", EVE).code == 0
    code, screen = _in_terminal(nl, ["subscribers", "forget", EVE], b"n\n")
    assert code == 1 and f"Erase {EVE}" in screen, screen
    engine = nl.engine()
    assert subscriptions.get(engine, EVE).status == "active"
    code, screen = _in_terminal(nl, ["subscribers", "forget", EVE], b"y\n")
    assert code == 0, screen
    assert EVE not in raw_cells(nl)
    engine.dispose()


# --- the suppression list: a keyed HMAC, old hashes still read --------------------------------


def test_suppression_list_keeps_a_keyed_hmac_and_still_reads_old_hashes(
    newsletter: Newsletter, monkeypatch: pytest.MonkeyPatch
) -> None:
    nl = newsletter
    engine = nl.engine()
    assert nl.cli("subscribers", "add", EVE).code == 0
    assert nl.cli("subscribers", "forget", EVE, "--yes").code == 0
    with engine.connect() as conn:
        stored = [r.email_hash for r in conn.execute(suppressions.select())]
    assert len(stored) == 1
    assert stored[0] != email_hash(EVE), "a bare SHA-256: a dictionary of addresses reverses it"
    key = (nl.root / "var" / "suppression-key").read_text().strip()
    assert stat.S_IMODE((nl.root / "var" / "suppression-key").stat().st_mode) == 0o600
    assert stored[0] == hmac.new(key.encode(), EVE.lower().encode(), hashlib.sha256).hexdigest()
    # the address is refused again, also after the signing secret rotates away entirely
    monkeypatch.setenv("BRIEFING_SECRET", "a-completely-new-signing-secret-" + "n" * 10)
    run = nl.cli("subscribers", "add", EVE.upper())
    assert run.code == 1 and "suppression list (forgotten)" in run.err, run.err
    (nl.root / "in.csv").write_text(f"email,name\n{EVE}\nnew@example.org\n")
    run = nl.cli("subscribers", "import", str(nl.root / "in.csv"))
    summary = " ".join(run.out.split())
    assert run.code == 0 and "1 added" in summary and "1 suppressed" in summary, run
    # a row written by an older version (bare SHA-256) still suppresses
    with engine.begin() as conn:
        conn.execute(
            suppressions.insert().values(
                email_hash=email_hash("old@example.org"), reason="forgotten", at=utcnow()
            )
        )
    run = nl.cli("subscribers", "add", "old@example.org")
    assert run.code == 1 and "suppression list (forgotten)" in run.err, run.err
    engine.dispose()


def test_a_lost_suppression_key_stops_instead_of_letting_forgotten_people_back(
    newsletter: Newsletter,
) -> None:
    nl = newsletter
    assert nl.cli("subscribers", "add", EVE).code == 0
    assert nl.cli("subscribers", "forget", EVE, "--yes").code == 0
    key_file = nl.root / "var" / "suppression-key"
    key_file.unlink()  # e.g. run from another folder, or var/ not restored from a backup
    run = nl.cli("subscribers", "add", EVE)
    assert run.code == 1, run
    assert "suppression" in run.err and "hint:" in run.err, run.err
    assert not key_file.exists(), "a new key would let every forgotten address back in"
    engine = nl.engine()
    with engine.connect() as conn:
        assert conn.execute(suppressions.select()).first() is not None
    engine.dispose()


# --- pending requests nobody confirmed expire ----------------------------------------------------


def _pending(
    nl: Newsletter, engine: Engine, address: str, days_ago: int, status: str = "pending"
) -> None:
    sub = subscriptions.request_subscription(
        nl.settings(),
        engine,
        address,
        name="Pending Person",
        topics=None,
        ip=IP,
        user_agent=AGENT,
        now=utcnow() - timedelta(days=days_ago),
    )
    assert sub is not None and sub.status == status


def test_unconfirmed_requests_expire_with_their_ip_and_user_agent(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    databases: Databases,
) -> None:
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)
    nl = make_newsletter(tmp_path / "news", capsys, databases, subscriptions="pending_days = 10")
    engine = nl.engine()
    _pending(nl, engine, "old@example.org", days_ago=11)
    _pending(nl, engine, "recent@example.org", days_ago=3)
    # a returning subscriber's own new request, never confirmed: its details go too
    assert nl.cli("subscribers", "add", "back@example.org").code == 0
    assert nl.cli("subscribers", "remove", "back@example.org").code == 0
    _pending(nl, engine, "back@example.org", days_ago=12, status="unsubscribed")
    assert "old@example.org" in raw_cells(nl)

    run = nl.cli("subscribers", "expire", "--json")
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["expired"] == 1 and doc["requests_dropped"] == 1, doc
    cells = raw_cells(nl)
    assert "old@example.org" not in cells
    assert "recent@example.org" in cells
    assert cells.count(IP) == 2, "the recent request keeps its consent record"  # row + event
    assert subscriptions.get(engine, "back@example.org").status == "unsubscribed"
    engine.dispose()


def test_the_scheduler_ingest_job_expires_pending_requests(newsletter: Newsletter) -> None:
    nl = newsletter
    engine = nl.engine()
    _pending(nl, engine, "old@example.org", days_ago=31)  # default pending_days = 30
    _pending(nl, engine, "recent@example.org", days_ago=29)
    outcome = run_ingest(Runtime(nl.settings(), engine), utcnow())
    assert outcome.get("expired_requests") == 1, outcome
    cells = raw_cells(nl)
    assert "old@example.org" not in cells and "recent@example.org" in cells
    engine.dispose()


# --- files: private from the start --------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.sqlite_only  # the SQLite file, its WAL and SHM
def test_database_wal_outbox_and_var_are_private_after_ingest_and_send(
    newsletter: Newsletter,
) -> None:
    nl = newsletter
    run = nl.process("ingest")
    assert run.code == 0, run.err
    var = nl.root / "var"
    assert mode(var) == 0o700
    assert mode(nl.db_file) == 0o600
    (nl.root / "list.csv").write_text(f"email,name\n{EVE},Eve\n{BO},Bo\n")
    assert nl.process("subscribers", "import", str(nl.root / "list.csv")).code == 0
    draft = json.loads(nl.process("draft", "--json").out)
    assert nl.process("approve", str(draft["id"]), "--by", "Ed").code == 0
    # a connection held open keeps the WAL and SHM files in place to be looked at
    holder = sqlite3.connect(nl.db_file)
    holder.execute("SELECT count(*) FROM subscribers").fetchall()
    try:
        run = nl.process("send")
        assert run.code == 0, run.err
        for suffix in ("-wal", "-shm"):
            side = nl.db_file.with_name("briefing.db" + suffix)
            assert side.exists(), side
            assert mode(side) == 0o600, (side.name, oct(mode(side)))
    finally:
        holder.close()
    emails = sorted((nl.outbox / "new").glob("*"))
    assert len(emails) == 2
    assert {mode(p) for p in emails} == {0o600}
    for folder in (nl.outbox, nl.outbox / "new", nl.outbox / "tmp", nl.outbox / "cur"):
        assert mode(folder) == 0o700, folder
    assert mode(var / "suppression-key") == 0o600


@pytest.mark.sqlite_only(reason="the export file's mode, whatever the database")
def test_an_export_file_is_private_like_the_database(newsletter: Newsletter) -> None:
    # the whole list (addresses, names, consent sources) in one file: readable by its owner
    nl = newsletter
    (nl.root / "list.csv").write_text(f"email,name\n{EVE},Eve\n{BO},Bo\n")
    assert nl.process("subscribers", "import", str(nl.root / "list.csv")).code == 0
    new = nl.root / "backup.csv"
    run = nl.process("subscribers", "export", str(new))
    assert run.code == 0, run.err
    assert EVE in new.read_text()
    assert mode(new) == 0o600, oct(mode(new))
    # an export over a file that others could read takes their permission away too
    old = nl.root / "old-backup.csv"
    old.write_text("stale\n")
    old.chmod(0o644)
    assert nl.process("subscribers", "export", str(old)).code == 0
    assert EVE in old.read_text() and "stale" not in old.read_text()
    assert mode(old) == 0o600, oct(mode(old))


@pytest.mark.sqlite_only  # the SQLite file and its mode
def test_serve_creates_a_private_database_and_expires_old_requests(
    newsletter: Newsletter, free_port: Callable[[], int]
) -> None:
    nl = newsletter
    # an existing database made readable by others (an older version, a copy): tightened
    engine = nl.engine()
    _pending(nl, engine, "old@example.org", days_ago=45)
    engine.dispose()
    os.chmod(nl.db_file, 0o644)
    port = free_port()
    proc = subprocess.Popen(
        [str(BRIEFING), "--config", str(nl.config), "serve", "--port", str(port)],
        cwd=nl.root,
        env=nl.env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.umask(0o022),
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "no serve")
            time.sleep(0.1)
        assert mode(nl.db_file) == 0o600
        for suffix in ("-wal", "-shm"):
            side = nl.db_file.with_name("briefing.db" + suffix)
            if side.exists():
                assert mode(side) == 0o600, side
        assert "old@example.org" not in raw_cells(nl)
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_forget_writes_no_traceback_for_an_unknown_person(newsletter: Newsletter) -> None:
    run = newsletter.cli("subscribers", "forget", "nobody@example.org", "--yes")
    assert run.code == 1 and "no subscriber nobody@example.org" in run.err


@pytest.mark.sqlite_only
def test_every_sqlite_connection_zeroes_freed_space(tmp_path: Path) -> None:
    """PRAGMA secure_delete on every connection: erased rows leave no bytes in free pages.
    (Debian builds SQLite with it on by default; other builds have it off, which the
    listener that runs first here imitates.)"""
    from sqlalchemy import create_engine, event, text

    from briefing.store.db import make_engine

    def off(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA secure_delete=OFF")

    url = f"sqlite:///{tmp_path}/x.db"
    plain = create_engine(url)
    event.listen(plain, "connect", off)
    with plain.connect() as conn:
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 0  # the control
    plain.dispose()
    engine = make_engine(url)
    event.listen(engine, "connect", off, insert=True)  # before Briefing's own
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1
    engine.dispose()


def test_the_address_pattern_takes_the_display_form_and_spares_other_addresses() -> None:
    from briefing.services.erasure import address_forms
    from briefing.store.erasure import REPLACEMENT, address_pattern, name_pattern

    pattern = address_pattern(address_forms("eve@example.org"), "Eve Example")
    for text, expected in (
        ('To: "Eve Example" <eve@example.org>', f"To: {REPLACEMENT}"),
        ("550 5.1.1 <EVE@EXAMPLE.ORG>: unknown", f"550 5.1.1 {REPLACEMENT}: unknown"),
        ("sent to eve@example.org.", f"sent to {REPLACEMENT}."),
        ("steve@example.org, eve@example.org.uk", "steve@example.org, eve@example.org.uk"),
        ("x.eve@example.org and eve@example.organic", "x.eve@example.org and eve@example.organic"),
    ):
        assert pattern.sub(REPLACEMENT, text) == expected, text
    idn = address_forms("zoë@bücher.example")
    assert idn == ["zoë@bücher.example", "zoë@xn--bcher-kva.example"]
    assert (
        name_pattern("Eve").sub(REPLACEMENT, "Eve, Steve, eve.")
        == f"{REPLACEMENT}, Steve, {REPLACEMENT}."
    )


def test_pending_days_shorter_than_the_link_is_refused_naming_the_key(tmp_path: Path) -> None:
    from briefing.errors import ConfigError

    config = tmp_path / "briefing.toml"
    config.write_text("[subscriptions]\nconfirm_days = 7\npending_days = 3\n")
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert "subscriptions" in info.value.message and "pending_days" in info.value.message
    assert str(config) in info.value.message


def test_write_private_never_leaves_a_file_others_can_read(tmp_path: Path) -> None:
    """Under a wide-open umask, a new file is 0600 from its creation, and an existing file
    that others could read is narrowed before the new content goes into it."""
    from briefing.private import write_private

    old = os.umask(0)
    try:
        fresh = tmp_path / "fresh.eml"
        write_private(fresh, b"To: ann@example.org\r\n")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
        assert fresh.read_bytes() == b"To: ann@example.org\r\n"
        wide = tmp_path / "wide.html"
        wide.write_bytes(b"old content that is longer")
        os.chmod(wide, 0o666)
        write_private(wide, b"new")
        assert stat.S_IMODE(wide.stat().st_mode) == 0o600 and wide.read_bytes() == b"new"
    finally:
        os.umask(old)
