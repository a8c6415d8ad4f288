"""The `briefing` command: help everywhere, JSON on stdout only, errors as error + hint, exit 1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import pytest

from briefing.cli import cli, main

SEEDS = Path(__file__).parent.parent / "seeds"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    from briefing.cli.app import load_commands

    load_commands()

    found = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        found.append(path)  # groups too: each has help with an example and the global flags
        if isinstance(command, click.Group):
            found += all_commands(command, path)
    return found


def test_every_command_has_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    commands = all_commands(cli)
    assert ("ingest",) in commands and ("articles",) in commands
    for path in commands:
        code, out, _ = run(capsys, *path, "--help")
        assert code == 0, path
        assert "Example" in out, f"`briefing {' '.join(path)} --help` shows no example"
        assert "--config" in out and "--db" in out, path


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/cli.db"


def test_ingest_and_articles_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: str
) -> None:
    seeds = tmp_path / "s"
    shutil.copytree(SEEDS, seeds)
    code, out, _ = run(capsys, "--db", db, "ingest", "--seeds", str(seeds), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["totals"]["new"] == 2 and report["totals"]["failed"] == 0
    # global flags also work after the command
    code, out, _ = run(capsys, "articles", "--json", "--db", db)
    assert code == 0
    items = json.loads(out)  # the whole of stdout is one JSON document
    assert len(items) == 2
    required = {
        "id",
        "title",
        "url",
        "publisher",
        "author",
        "published",
        "summary",
        "body",
        "ai_generated",
        "ai_disclosure",
        "labels",
        "source",
        "first_seen",
        "word_count",
    }
    for item in items:
        assert required <= set(item)
    by_publisher = {i["publisher"]: i for i in items}
    assert by_publisher["NVNK"]["published"] == "2026-01-07"
    assert by_publisher["PRISM News"]["published"] is None
    assert by_publisher["PRISM News"]["ai_generated"] is True
    assert (
        by_publisher["PRISM News"]["ai_disclosure"]
        == "This content is AI-generated based on source articles."
    )
    assert by_publisher["NVNK"]["ai_generated"] is False
    assert by_publisher["PRISM News"]["word_count"] > 300
    code, out, _ = run(capsys, "--db", db, "article", by_publisher["NVNK"]["id"][:8], "--json")
    assert json.loads(out)["title"] == "Why North Korea Fears Japan’s Record Defense Buildup"


def test_errors_are_one_line_with_a_hint(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, err = run(capsys, "--db", db, "article", "doesnotexist")
    assert code == 1 and out == ""
    assert err.startswith("error: no article with id 'doesnotexist'")
    assert "\nhint: " in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, _, err = run(capsys, "--db", db, "article", "doesnotexist", "--debug")
    assert code == 1 and "Traceback" in err and "ArticleNotFound" in err  # a NotFoundError


def test_bad_database_url_and_bad_config(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "--db", "nonsense://", "articles")
    assert code == 1 and "error:" in err and "hint:" in err
    bad = tmp_path / "bad.toml"
    bad.write_text("[newsletter]\nbase_url = 3\n")
    code, _, err = run(capsys, "--config", str(bad), "articles")
    assert code == 1 and "newsletter.base_url" in err and str(bad) in err


def test_usage_errors_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "no-such-command")
    assert code == 1 and "error:" in err and "hint:" in err
    code, _, err = run(capsys, "articles", "--limit", "zero")
    assert code == 1 and "error:" in err


def test_ingest_a_local_feed_is_remembered_and_removable(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: str
) -> None:
    feed = tmp_path / "f.xml"
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Local Wire</title>'
        "<link>https://wire.example.org/</link><item><title>One story</title>"
        "<link>/one?utm_source=rss</link><guid>https://wire.example.org/one</guid>"
        "<description>Text of the story.</description></item></channel></rss>"
    )
    code, out, _ = run(capsys, "--db", db, "ingest", "--feed", str(feed), "--json")
    assert json.loads(out)["totals"]["new"] == 1
    code, out, _ = run(capsys, "--db", db, "feeds", "list", "--json")
    listed = json.loads(out)
    assert [
        (f["location"], f["origin"], f["last_status"]) for f in listed if f["origin"] == "cli"
    ] == [(str(feed.resolve()), "cli", "ok")]
    code, out, _ = run(capsys, "--db", db, "articles", "--json")
    story = json.loads(out)[0]
    assert story["url"] == "https://wire.example.org/one" and story["publisher"] == "Local Wire"
    code, _, err = run(capsys, "--db", db, "feeds", "remove", str(feed))
    assert code == 0 and "removed" in err
    code, out, _ = run(capsys, "--db", db, "feeds", "list", "--json")
    assert [f for f in json.loads(out) if f["origin"] == "cli"] == []


def test_a_feed_that_never_worked_is_not_remembered(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: str
) -> None:
    code, out, err = run(capsys, "--db", db, "ingest", "--feed", str(tmp_path / "typo.xml"))
    assert code == 1 and "no such file" in err  # the only source failed: exit 1
    code, out, _ = run(capsys, "--db", db, "feeds", "list", "--json")
    assert [f for f in json.loads(out) if f["origin"] == "cli"] == []


def test_ingest_fails_when_every_source_failed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: str
) -> None:
    code, _, err = run(capsys, "--db", db, "ingest", "--seeds", str(tmp_path / "none"))
    assert code == 1 and "every source failed" in err
    assert err.count(str(tmp_path / "none")) == 1  # named once, not twice


def test_every_command_help_opens_with_a_one_line_summary() -> None:
    """The first paragraph of each command's help is one line: `briefing --help` and a
    group's help list it whole, not cut off mid-sentence."""
    too_long = []
    for path in all_commands(cli):
        command: click.Command = cli
        for name in path:
            assert isinstance(command, click.Group), path
            command = command.commands[name]
        first = (command.help or "").strip().split("\n\n")[0]
        if not first or "\n" in first or len(first) > 100:
            too_long.append((" ".join(path), first))
    assert not too_long, too_long


def test_a_schedule_command_gives_logging_back_as_it_found_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`schedule run/tick` log JSON lines to stderr. Run in-process (tests, a caller's
    CliRunner), they must not leave a root handler on the command's stream, which is
    closed afterwards: later log lines printed "--- Logging error" or the scheduler's JSON
    into the next command's stderr."""
    import io
    import logging
    import sys

    from briefing.cli import schedule as schedule_cli

    root = logging.getLogger()
    before = (root.handlers[:], root.level)
    during = io.StringIO()
    monkeypatch.setattr(sys, "stderr", during)
    with schedule_cli._logging():
        logging.getLogger("briefing.test").info("during the command")
    during.close()
    assert (root.handlers, root.level) == before
    later = io.StringIO()
    monkeypatch.setattr(sys, "stderr", later)
    logging.getLogger("briefing.test").warning("after the command")
    assert "Logging error" not in later.getvalue()


def test_a_command_loads_only_its_module_and_the_map_names_every_command() -> None:
    """`briefing CMD` imports only CMD's module (COMMAND_MODULES): in a fresh interpreter,
    each module alone registers exactly the commands the map gives it, subcommands and
    all, as loading every module does; and every command is in the map."""
    import json
    import subprocess
    import sys

    from briefing.cli.app import COMMAND_MODULES, command_named

    script = (
        "import json, sys, click\n"
        "from briefing.cli.app import cli, load_commands\n"
        "load_commands(sys.argv[1] if len(sys.argv) > 1 else None)\n"
        "def tree(g):\n"
        "    return {n: tree(c) if isinstance(c, click.Group) else None for n, c in g.commands.items()}\n"
        "print(json.dumps(tree(cli)))\n"
    )
    run = [sys.executable, "-c", script]
    everything = json.loads(subprocess.run(run, capture_output=True, text=True, check=True).stdout)
    assert set(everything) == set(COMMAND_MODULES)
    for module in sorted(set(COMMAND_MODULES.values())):
        names = sorted(n for n, m in COMMAND_MODULES.items() if m == module)
        done = subprocess.run([*run, names[0]], capture_output=True, text=True, check=True)
        alone = json.loads(done.stdout)
        assert alone == {n: everything[n] for n in names}, module
    assert command_named(["--config", "send", "--db", "x", "send", "1"]) == "send"
    assert command_named(["--debug", "worker"]) == "worker"
    assert command_named(["--help"]) is None
