"""A new operator's mistakes on the command line: each gives `error:` + `hint:` naming the
file or field, exits 1, and changes nothing it should not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from briefing.cli import main

REPO = Path(__file__).parent.parent
FEED = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Local Wire</title>'
    "<link>https://wire.example.org/</link><item><title>One story</title>"
    "<link>https://wire.example.org/one</link><guid>https://wire.example.org/one</guid>"
    "<description>Text of the story.</description></item></channel></rss>"
)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/cli.db"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def listed(capsys: pytest.CaptureFixture[str], db: str) -> list[str]:
    """The feeds `ingest` fetches on its own: those added with --feed."""
    code, out, _ = run(capsys, "--db", db, "feeds", "list", "--json")
    assert code == 0
    return [f["location"] for f in json.loads(out) if f["origin"] == "cli"]


def fetched_by_plain_ingest(capsys: pytest.CaptureFixture[str], db: str) -> list[str]:
    """The feeds a plain `briefing ingest` fetches (the config has none of its own)."""
    _, out, _ = run(capsys, "--db", db, "ingest", "--json")
    return [s["source"] for s in json.loads(out)["sources"] if s["kind"] == "feed"]


@pytest.fixture
def no_seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config with an empty seeds folder and no feeds, so `ingest` fetches only the list."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    config = tmp_path / "briefing.toml"
    config.write_text(f'[seeds]\nfolder = "{seeds}"\n')
    monkeypatch.setenv("BRIEFING_CONFIG", str(config))
    return seeds


# --- feeds: only a --feed that worked joins the list -------------------------------------------


def test_a_feed_that_failed_twice_does_not_join_the_list(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: str, no_seeds: Path
) -> None:
    feed = tmp_path / "typo.xml"
    for _ in range(2):
        code, _, err = run(capsys, "--db", db, "ingest", "--feed", str(feed))
        assert code == 1 and "no such file" in err
    assert listed(capsys, db) == []
    assert fetched_by_plain_ingest(capsys, db) == []
    # once it works, a --feed joins the list as the README says
    feed.write_text(FEED)
    code, _, _ = run(capsys, "--db", db, "ingest", "--feed", str(feed))
    assert code == 0
    assert listed(capsys, db) == [str(feed.resolve())]
    assert fetched_by_plain_ingest(capsys, db) == ["feed:" + str(feed.resolve())]


def test_a_once_feed_never_joins_the_list(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: str, no_seeds: Path
) -> None:
    feed = tmp_path / "later.xml"
    for _ in range(2):  # fails twice with --once ...
        code, _, _ = run(capsys, "--db", db, "ingest", "--feed", str(feed), "--once")
        assert code == 1
    assert listed(capsys, db) == []
    feed.write_text(FEED)  # ... then works with --once: still not kept
    code, out, _ = run(capsys, "--db", db, "ingest", "--feed", str(feed), "--once", "--json")
    assert code == 0 and json.loads(out)["totals"]["new"] == 1
    assert listed(capsys, db) == []
    assert fetched_by_plain_ingest(capsys, db) == []


def test_once_leaves_a_feed_already_on_the_list_there(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: str, no_seeds: Path
) -> None:
    feed = tmp_path / "kept.xml"
    feed.write_text(FEED)
    assert run(capsys, "--db", db, "ingest", "--feed", str(feed))[0] == 0
    assert listed(capsys, db) == [str(feed.resolve())]
    # fetching it now with --once does not take it off the list
    assert run(capsys, "--db", db, "ingest", "--feed", str(feed), "--once")[0] == 0
    assert listed(capsys, db) == [str(feed.resolve())]


# --- exit codes ----------------------------------------------------------------------------------


def test_ingest_json_exits_1_when_every_source_failed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: str
) -> None:
    code, out, err = run(
        capsys, "--db", db, "ingest", "--feed", str(tmp_path / "typo.xml"), "--json"
    )
    assert code == 1
    doc = json.loads(out)  # still one JSON document on stdout, and nothing else
    assert doc["totals"]["failed"] == 1 and doc["sources"][0]["status"] == "error"
    assert "error: every source failed" in err and "hint:" in err
    # one good source among failing ones: exit 0
    good = tmp_path / "good.xml"
    good.write_text(FEED)
    code, out, _ = run(
        capsys,
        "--db",
        db,
        "ingest",
        "--feed",
        str(tmp_path / "typo.xml"),
        "--feed",
        str(good),
        "--json",
    )
    assert code == 0 and json.loads(out)["totals"]["failed"] == 1


# --- editors: no terminal to ask the password on -------------------------------------------------


def briefing(
    *args: str, cwd: Path, stdin: str = "", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The real command in a process of its own (stdin a pipe, not a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "briefing", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


@pytest.mark.parametrize("command", ["add", "passwd"])
def test_editors_without_a_terminal_say_to_use_password_stdin(
    tmp_path: Path, db: str, command: str
) -> None:
    if command == "passwd":  # an editor to change the password of
        made = briefing(
            "--db",
            db,
            "editors",
            "add",
            "ed@example.org",
            "--password-stdin",
            cwd=tmp_path,
            stdin="a long enough passphrase\n",
        )
        assert made.returncode == 0, made.stderr
    done = briefing("--db", db, "editors", command, "ed@example.org", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and "\nhint: " in done.stderr
    assert "--password-stdin" in done.stderr
    assert "Traceback" not in done.stderr and "echoed" not in done.stderr
