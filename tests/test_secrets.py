"""Secrets and careless sends: a signing secret that changed without keeping the old one
stops `send` and `serve` (the links already sent would 404); a real send with links that
cannot work (http://, loopback) is refused; a send started from another folder does not
mint a new var/secret.

Real SQLite files, the CLI, a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from briefing.cli import main
from briefing.clock import utcnow

REPO = Path(__file__).parent.parent
BRIEFING = REPO / ".venv" / "bin" / "briefing"
OLD = "the-old-signing-secret-" + "o" * 20
NEW = "the-new-signing-secret-" + "n" * 20
Sink = Any  # conftest.SMTPSink


@dataclass
class Run:
    code: int
    out: str
    err: str


class Folder:
    """A newsletter folder with its config, seeds and two subscribers, one issue approved."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str], base_url: str) -> None:
        self.root, self.capsys = root, capsys
        self.stories = 0
        shutil.copytree(REPO / "seeds", root / "seeds")
        text = (REPO / "briefing.toml").read_text()
        text = text.replace('base_url = "http://127.0.0.1:8000"', f'base_url = "{base_url}"')
        (root / "briefing.toml").write_text(text)

    @property
    def config(self) -> Path:
        return self.root / "briefing.toml"

    @property
    def db(self) -> Path:
        return self.root / "var" / "briefing.db"

    def cli(self, *args: str, secret: str | None = OLD) -> Run:
        saved = os.environ.get("BRIEFING_SECRET")
        if secret is None:
            os.environ.pop("BRIEFING_SECRET", None)
        else:
            os.environ["BRIEFING_SECRET"] = secret
        try:
            self.capsys.readouterr()
            with pytest.raises(SystemExit) as done:
                main(["--config", str(self.config), *args])
            out, err = self.capsys.readouterr()
        finally:
            if saved is None:
                os.environ.pop("BRIEFING_SECRET", None)
            else:
                os.environ["BRIEFING_SECRET"] = saved
        return Run(int(done.value.code or 0), out, " ".join(err.split()))

    def prepare(self, secret: str | None = OLD) -> int:
        assert self.cli("ingest", secret=secret).code == 0
        (self.root / "list.csv").write_text("email,name\nann@example.org,Ann\nbo@example.org,Bo\n")
        assert (
            self.cli("subscribers", "import", str(self.root / "list.csv"), secret=secret).code == 0
        )
        return self.approve_next(secret)

    def approve_next(self, secret: str | None = OLD) -> int:
        """Another story (a seed page under a new URL), drafted and approved."""
        self.stories += 1
        seed = sorted((REPO / "seeds").glob("*.txt"))[0]
        (self.root / "seeds" / f"again_{self.stories}.txt").write_text(
            f'+++\nurl = "https://example.org/story-{self.stories}"\n'
            f'title = "North Korea and Japan, part {self.stories}"\n+++\n' + seed.read_text()
        )
        assert self.cli("ingest", secret=secret).code == 0
        issue = json.loads(self.cli("draft", "--json", secret=secret).out)["id"]
        assert self.cli("approve", str(issue), "--by", "Ed", secret=secret).code == 0
        return int(issue)

    def state(self, issue: int) -> str:
        conn = sqlite3.connect(self.db)
        try:
            return str(
                conn.execute("SELECT state FROM issues WHERE id = ?", (issue,)).fetchone()[0]
            )
        finally:
            conn.close()

    def sent_files(self) -> int:
        return len(list((self.root / "var" / "outbox" / "new").glob("*")))

    def cells(self) -> str:
        conn = sqlite3.connect(self.db)
        try:
            out: list[str] = []
            for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"):
                for row in conn.execute(f'SELECT * FROM "{table}"'):
                    out.extend(str(v) for v in row)
            return "\n".join(out)
        finally:
            conn.close()


@pytest.fixture
def folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Folder:
    for key in [k for k in os.environ if k.startswith("BRIEFING_")]:
        monkeypatch.delenv(key)
    return Folder(tmp_path / "news", capsys, "https://news.example.org")


# --- the signing secret changed ------------------------------------------------------------------


def test_a_changed_secret_that_drops_the_old_key_stops_send_until_told(folder: Folder) -> None:
    first = folder.prepare()
    assert folder.cli("send").code == 0
    assert folder.state(first) == "sent" and folder.sent_files() == 2
    assert OLD not in folder.cells(), "the secret itself is never stored"

    second = folder.approve_next()
    run = folder.cli("send", secret=NEW)
    assert run.code == 1, run
    assert "error:" in run.err and "secret" in run.err, run.err
    assert 'BRIEFING_SECRET="NEW,OLD"' in run.err or "new,old" in run.err.lower(), run.err
    assert "--new-secret" in run.err, run.err
    assert folder.state(second) == "approved" and folder.sent_files() == 2  # nothing went out

    # keeping the old key after the new one: fine, and the new one signs from now on
    run = folder.cli("send", secret=f"{NEW},{OLD}")
    assert run.code == 0, run.err
    assert folder.state(second) == "sent" and folder.sent_files() == 4
    third = folder.approve_next(secret=f"{NEW},{OLD}")
    # now NEW signed last: dropping OLD is what a finished rotation looks like
    run = folder.cli("send", secret=NEW)
    assert run.code == 0, run.err
    assert folder.state(third) == "sent"


def test_new_secret_flag_accepts_the_change_with_a_warning(folder: Folder) -> None:
    folder.prepare()
    assert folder.cli("send").code == 0
    second = folder.approve_next()
    run = folder.cli("send", "--new-secret", secret=NEW)
    assert run.code == 0, run.err
    assert "warning" in run.err.lower() and "stop working" in run.err, run.err
    assert folder.state(second) == "sent"
    # the new key is now the one recorded: no --new-secret needed any more
    third = folder.approve_next(secret=NEW)
    assert folder.cli("send", secret=NEW).code == 0
    assert folder.state(third) == "sent"


def test_serve_refuses_a_changed_secret_before_listening(folder: Folder) -> None:
    folder.prepare()
    assert folder.cli("send").code == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")}
    env["BRIEFING_SECRET"] = NEW
    done = subprocess.run(
        [str(BRIEFING), "--config", str(folder.config), "serve", "--port", "9"],
        cwd=folder.root,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    err = " ".join(done.stderr.decode().split())
    assert done.returncode == 1, err
    assert "error:" in err and "secret" in err and "--new-secret" in err, err


def test_a_send_from_another_folder_does_not_mint_a_new_secret(
    folder: Folder, tmp_path: Path
) -> None:
    """No BRIEFING_SECRET, var/secret in the newsletter's folder; then the same database
    from another folder: its var/secret does not exist, and must not be made up."""
    first = folder.prepare(secret=None)
    assert folder.cli("send", secret=None).code == 0
    assert folder.state(first) == "sent"
    assert (folder.root / "var" / "secret").exists()
    folder.approve_next(secret=None)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")}
    done = subprocess.run(
        [
            str(BRIEFING),
            "--db",
            f"sqlite:///{folder.db}",
            "send",
            "--transport",
            f"outbox://{elsewhere}/outbox",
        ],
        cwd=elsewhere,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    err = " ".join(done.stderr.decode().split())
    assert done.returncode == 1, err
    assert "error:" in err and "secret" in err, err
    assert not (elsewhere / "var" / "secret").exists()
    assert not (elsewhere / "outbox" / "new").exists() or not list(
        (elsewhere / "outbox" / "new").iterdir()
    )


# --- links that cannot work ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8000",
        "http://news.example.org",
        "https://127.0.0.1",
        "https://localhost:8443",
        "https://[::1]",
    ],
)
def test_a_real_send_with_links_that_cannot_work_is_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: Sink,
    base_url: str,
) -> None:
    for key in [k for k in os.environ if k.startswith("BRIEFING_")]:
        monkeypatch.delenv(key)
    folder = Folder(tmp_path / "news", capsys, base_url)
    issue = folder.prepare()
    run = folder.cli("send", "--transport", smtp_server.url)
    assert run.code == 1, run
    assert "error:" in run.err and "base_url" in run.err and "hint:" in run.err, run.err
    assert smtp_server.messages == [] and smtp_server.rcpt_count == {}
    assert folder.state(issue) == "approved"
    # the dry run and the outbox folder work with such links (nothing leaves the machine)
    assert folder.cli("send", "--dry-run").code == 0
    run = folder.cli("send")  # delivery.url: outbox://var/outbox
    assert run.code == 0, run.err
    assert folder.state(issue) == "sent"


def test_a_proof_over_smtp_with_links_that_cannot_work_says_so(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: Sink,
) -> None:
    """A proof goes to an editor, who may well read it on this machine: it is sent, but
    with a warning that subscribers could not use such links."""
    for key in [k for k in os.environ if k.startswith("BRIEFING_")]:
        monkeypatch.delenv(key)
    folder = Folder(tmp_path / "news", capsys, "http://127.0.0.1:8000")
    issue = folder.prepare()
    run = folder.cli(
        "send", str(issue), "--test-to", "ed@example.org", "--transport", smtp_server.url
    )
    assert run.code == 0, run.err
    assert "warning:" in run.err and "base_url" in run.err, run.err
    assert len(smtp_server.messages) == 1
    assert folder.state(issue) == "approved"


def test_a_real_send_with_https_links_goes(folder: Folder, smtp_server: Sink) -> None:
    issue = folder.prepare()
    run = folder.cli("send", "--transport", smtp_server.url)
    assert run.code == 0, run.err
    assert folder.state(issue) == "sent" and len(smtp_server.messages) == 2


def test_the_schedulers_send_stops_on_a_changed_secret_too(folder: Folder) -> None:
    from briefing.config import load_settings
    from briefing.scheduler import next_cycle

    folder.prepare()
    assert folder.cli("send").code == 0
    second = folder.approve_next()
    planned = next_cycle(load_settings(folder.config).schedule, utcnow()).planned
    run = folder.cli(
        "schedule", "tick", "--job", "send", "--at", planned.isoformat(), "--json", secret=NEW
    )
    doc = json.loads(run.out)
    outcome = doc[0] if isinstance(doc, list) else doc
    outcome = outcome.get("send", outcome)
    assert outcome["outcome"] == "error", doc
    assert "signing secret changed" in outcome["error"] and "--new-secret" in outcome["hint"]
    assert folder.state(second) == "approved" and folder.sent_files() == 2
