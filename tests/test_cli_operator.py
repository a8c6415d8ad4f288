"""A new operator's mistakes on the command line: each gives `error:` + `hint:` naming the
file or field, exits 1, and changes nothing it should not."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
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


@pytest.fixture(autouse=True)
def _root_logger() -> Iterator[None]:
    """`schedule tick` points the root logger at this test's stderr; put it back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


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


# --- a read-only database ------------------------------------------------------------------------
#
# Tests run as root, and root ignores file modes. So the read-only database is made two
# honest ways: SQLite's own read-only mode (`?mode=ro` in the URL) in this process, and a
# real 0444 file (or 0555 folder) used by the command in a process without root's
# capabilities (setpriv), for which the kernel enforces the modes.


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the repo's config and seeds, and a database with an issue in draft."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "briefing.toml").write_text((REPO / "briefing.toml").read_text())
    shutil.copytree(REPO / "seeds", site / "seeds")
    shutil.copy(REPO / "subscribers" / "sample.csv", site / "list.csv")
    monkeypatch.setenv("BRIEFING_CONFIG", str(site / "briefing.toml"))
    monkeypatch.setenv("BRIEFING_SECRET", "test-secret-" + "s" * 24)
    monkeypatch.chdir(site)
    return site


def stock(capsys: pytest.CaptureFixture[str], db: str) -> None:
    for args in (("ingest",), ("subscribers", "import", "list.csv"), ("draft",)):
        code, _, err = run(capsys, "--db", db, *args)
        assert code == 0, err


WRITES = [
    ("subscribers", "add", "new@example.org"),
    ("subscribers", "import", "list2.csv"),
    ("subscribers", "remove", "ann.editor@example.org"),
    ("ingest",),
    ("draft",),
    ("edit", "1", "--subject", "A new subject", "--by", "Ed"),
    ("approve", "1", "--by", "Ed"),
    ("cancel", "1", "--by", "Ed"),
    ("send", "--force", "--transport", "outbox://outbox"),
    ("schedule", "tick", "--job", "ingest"),
    ("schedule", "run"),  # refuses to start, as serve does
    ("editors", "add", "ed@example.org", "--password-stdin"),
    ("subscribers", "forget", "bo.reader@example.org", "--yes"),
    ("feeds", "remove", "https://example.org/feed.xml"),
]


@pytest.mark.parametrize("args", WRITES, ids=[" ".join(a[:2]) for a in WRITES])
def test_every_write_to_a_read_only_database_is_an_error_with_a_hint(
    capsys: pytest.CaptureFixture[str],
    site: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough passphrase\n"))
    path = site / "var" / "briefing.db"
    stock(capsys, f"sqlite:///{path}")
    (site / "list2.csv").write_text("email,name\nnew@example.org,New\n")
    before = path.read_bytes()
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    code, out, err = run(capsys, "--db", read_only, *args)
    assert code == 1, (out, err)
    assert "Traceback" not in err and "sqlalchemy" not in err.lower()
    # (schedule tick names the job first: "error: ingest: the database ...")
    assert re.search(
        rf"^error: (\w+: )?the database {re.escape(str(path))} is read-only", err, re.M
    )
    assert "\nhint: " in err and "mode=ro" in err
    assert path.read_bytes() == before
    # reading still works
    code, out, _ = run(capsys, "--db", read_only, "subscribers", "list", "--json")
    assert code == 0 and len(json.loads(out)) == 4


def unprivileged() -> list[str]:
    """A prefix that runs a command without root's power over file modes (as root, drop
    every capability; as anyone else, nothing to drop)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    prefix = [setpriv or "setpriv", "--inh-caps=-all", "--bounding-set=-all", "--"]
    if setpriv is None or subprocess.run([*prefix, "true"], check=False).returncode != 0:
        pytest.skip("root without a working setpriv: no way to make a file read-only for real")
    return prefix


def copy_database(capsys: pytest.CaptureFixture[str], folder: Path) -> Path:
    """A stocked database, whole in one file (no -wal beside it), in ``folder``."""
    scratch = folder.parent / "scratch.db"
    stock(capsys, f"sqlite:///{scratch}")
    folder.mkdir(exist_ok=True)
    target = folder / "briefing.db"
    with sqlite3.connect(scratch) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def as_unprivileged(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [*unprivileged(), sys.executable, "-m", "briefing", *args],
            input="",
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"`briefing {' '.join(args)}` still running: {exc.stderr!r}") from exc


def test_a_read_only_file_for_real(capsys: pytest.CaptureFixture[str], site: Path) -> None:
    path = copy_database(capsys, site / "ro")
    path.chmod(0o444)
    url = f"sqlite:///{path}"
    done = as_unprivileged("--db", url, "subscribers", "add", "new@example.org", cwd=site)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(f"error: the database {path} is read-only"), done.stderr
    assert "\nhint: " in done.stderr and "chmod" in done.stderr
    assert "Traceback" not in done.stderr
    # what only reads still works
    done = as_unprivileged("--db", url, "subscribers", "list", "--json", cwd=site)
    assert done.returncode == 0 and len(json.loads(done.stdout)) == 4


def test_a_read_only_folder_for_real(capsys: pytest.CaptureFixture[str], site: Path) -> None:
    path = copy_database(capsys, site / "ro")
    path.parent.chmod(0o555)  # the file is writable; SQLite cannot make its -wal beside it
    try:
        done = as_unprivileged("--db", f"sqlite:///{path}", "draft", cwd=site)
    finally:
        path.parent.chmod(0o755)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(f"error: the database {path} is read-only"), done.stderr
    assert "folder" in done.stderr and "Traceback" not in done.stderr


def test_serve_refuses_to_start_on_a_read_only_database(
    capsys: pytest.CaptureFixture[str], site: Path
) -> None:
    path = copy_database(capsys, site / "ro")
    path.chmod(0o444)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = as_unprivileged(
        "--db", f"sqlite:///{path}", "serve", "--port", str(port), cwd=site, timeout=20
    )
    assert done.returncode == 1, done.stderr
    assert f"error: the database {path} is read-only" in done.stderr
    assert "\nhint: " in done.stderr and "Uvicorn running" not in done.stderr


# --- serve: where it cannot listen ---------------------------------------------------------------


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def test_serve_on_a_port_in_use_says_so(
    capsys: pytest.CaptureFixture[str], site: Path, db: str, busy_port: int
) -> None:
    code, _, err = run(capsys, "--db", db, "serve", "--port", str(busy_port))
    assert code == 1
    assert err.startswith(
        f"error: cannot listen on 127.0.0.1:{busy_port}: the port is already in use"
    )
    assert "\nhint: " in err and "--port" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--port", "99999"), "99999 is not in the range 1<=x<=65535"),
        (("--port", "0"), "0 is not in the range"),
        (("--host", "no-such-host.invalid"), "cannot listen on --host no-such-host.invalid"),
        (("--host", "192.0.2.1"), "192.0.2.1 is not an address of this machine"),
    ],
)
def test_serve_with_a_bad_host_or_port_says_which(
    site: Path, db: str, args: tuple[str, ...], message: str
) -> None:
    # a process of its own: before the fix, --port 0 served on a random port for ever
    done = briefing("--db", db, "serve", *args, cwd=site, timeout=20)
    # (a host other machines could reach is warned about first: no https here)
    assert done.returncode == 1 and re.search(r"^error: ", done.stderr, re.M), done.stderr
    assert message in done.stderr and "\nhint: " in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_on_a_port_below_1024_without_root(site: Path, db: str) -> None:
    done = as_unprivileged("--db", db, "serve", "--port", "1", cwd=site, timeout=20)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("error: cannot listen on 127.0.0.1:1: permission denied")
    assert "--port 8000" in done.stderr


# --- the first hour: files and URLs given by mistake ---------------------------------------------


def test_a_config_file_that_is_not_text(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: str
) -> None:
    config = tmp_path / "briefing.toml"
    config.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xbd\xff")
    code, _, err = run(capsys, "--config", str(config), "--db", db, "articles")
    assert code == 1 and err.startswith(f"error: {config} is not UTF-8 text"), err
    assert "\nhint: " in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("", "names no database file"),
        ("folder", "is a folder, not a database file"),
        ("notes.txt", "is not a SQLite database"),
    ],
)
def test_a_database_url_that_names_no_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, target: str, message: str
) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "notes.txt").write_text("some notes, not a database\n" * 200)
    url = f"sqlite:///{tmp_path / target}" if target else "sqlite:///"
    code, _, err = run(capsys, "--db", url, "articles")
    assert code == 1 and err.startswith("error: ") and message in err, err
    assert "\nhint: " in err and "sqlalche.me" not in err and "Traceback" not in err
    assert (tmp_path / "notes.txt").read_text().startswith("some notes")


def test_export_into_a_folder_that_does_not_exist(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: str
) -> None:
    out = tmp_path / "no" / "such" / "folder" / "list.csv"
    code, _, err = run(capsys, "--db", db, "subscribers", "export", str(out))
    assert code == 1 and err.startswith(f"error: cannot write {out}"), err
    assert "\nhint: " in err and "Traceback" not in err


def test_preview_into_a_folder_it_cannot_make(
    capsys: pytest.CaptureFixture[str], site: Path
) -> None:
    db = f"sqlite:///{site}/var/briefing.db"
    stock(capsys, db)
    (site / "a-file").write_text("x")
    out = site / "a-file" / "preview"  # under a file: no folder can be made there
    code, _, err = run(capsys, "--db", db, "preview", "--out", str(out))
    assert code == 1 and err.startswith(f"error: cannot write the preview to {out}"), err
    assert "\nhint: " in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://", "the URL has no host name"),
        ("http:/example.org/feed.xml", "the URL has no host name"),
        ("https://[::1/feed.xml", "not a valid URL"),
    ],
)
def test_a_malformed_feed_url_is_that_feed_failing(
    capsys: pytest.CaptureFixture[str], db: str, url: str, reason: str
) -> None:
    code, out, err = run(capsys, "--db", db, "ingest", "--feed", url, "--json")
    assert code == 1 and "Traceback" not in err
    (source,) = json.loads(out)["sources"]
    assert source["status"] == "error" and source["error"].startswith(reason), source
    assert "https://example.org/feed.xml" in source["hint"]
