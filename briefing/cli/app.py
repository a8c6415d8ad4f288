"""The `briefing` command group, its global flags and the error edge.

Global flags (--config, --db, --debug) are accepted both before the command and on
every command. `--json` output is one JSON document on stdout and nothing else;
messages for people go to stderr. A BriefingError becomes `error:` + `hint:` on
stderr and exit status 1; --debug shows the traceback.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine

from briefing import __version__
from briefing.config import Settings, load_settings
from briefing.errors import BriefingError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class AppState:
    config: str | None = None
    db: str | None = None
    debug: bool = False
    _settings: Settings | None = None
    _engine: Engine | None = None
    overrides: dict[str, Any] = field(default_factory=dict)

    def settings(self) -> Settings:
        if self._settings is None:
            overrides: dict[str, Any] = dict(self.overrides)
            if self.db:
                overrides.setdefault("storage", {})["url"] = self.db
            self._settings = load_settings(self.config, overrides=overrides)
        return self._settings

    def engine(self) -> Engine:
        if self._engine is None:
            from briefing.services.storage import open_engine

            self._engine = open_engine(self.settings().database_url)
        return self._engine


def state() -> AppState:
    ctx = click.get_current_context()
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    return root.obj


def _set(name: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        if value not in (None, False):
            setattr(state(), name, value)
        return value

    return callback


def global_options(func: F) -> F:
    """--config, --db and --debug, accepted on the group and on every command."""
    func = click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        callback=_set("debug"),
        help="Show the traceback of an error.",
    )(func)
    func = click.option(
        "--db",
        metavar="URL",
        expose_value=False,
        callback=_set("db"),
        help="SQLAlchemy database URL; overrides storage.url.",
    )(func)
    func = click.option(
        "--config",
        metavar="PATH",
        expose_value=False,
        callback=_set("config"),
        type=click.Path(dir_okay=False),
        help="Config file (default ./briefing.toml).",
    )(func)
    return func


err_console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False)


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def emit_json(document: Any) -> None:
    """One JSON document on stdout, nothing else."""
    click.echo(json.dumps(document, ensure_ascii=False, indent=2, default=_default))


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="briefing")
@global_options
def cli() -> None:
    """Briefing: seeds and feeds in, a weekly attributed email briefing out.

    \b
    Example, a first run:
        briefing ingest            # read seeds/ and the configured feeds
        briefing articles          # what is stored now
    """
    state()


# The module that registers each command (tests/test_cli.py checks it against them all):
# `briefing send` imports what sending needs, not the ingest and web stacks too (0.4 s
# of a command's start-up here).
COMMAND_MODULES = {
    "approve": "issues",
    "article": "articles",
    "articles": "articles",
    "cancel": "issues",
    "config": "feeds",
    "draft": "issues",
    "edit": "issues",
    "editors": "editors",
    "feeds": "feeds",
    "ingest": "ingest",
    "issue": "issues",
    "issues": "issues",
    "preview": "issues",
    "recipients": "subscribers",
    "schedule": "schedule",
    "send": "delivery",
    "serve": "serve",
    "subscribers": "subscribers",
    "worker": "worker",
}
_VALUED = ("--config", "--db")  # the group's options that take a value


def command_named(args: list[str]) -> str | None:
    """The command ``args`` run (the first word that is not a global option or its
    value), or None."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _VALUED:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def load_commands(name: str | None = None) -> None:
    """Import the modules that register their commands on ``cli``, one per subject;
    ``name``: only the one of that command, when it is known."""
    if name in COMMAND_MODULES:
        import importlib

        importlib.import_module(f"briefing.cli.{COMMAND_MODULES[name]}")
        return
    from briefing.cli import (  # noqa: F401  (registers the commands)
        articles,
        delivery,
        editors,
        feeds,
        ingest,
        issues,
        schedule,
        serve,
        subscribers,
        worker,
    )


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("BRIEFING_DEBUG") == "1"
    load_commands(command_named(args))
    from briefing.cli import words

    try:
        code = cli.main(args=args, prog_name="briefing", standalone_mode=False)
    except BriefingError as exc:
        if debug:
            traceback.print_exc()
        message, hint = words.error(exc)
        err_console.print(f"[bold red]error:[/] {escape(message)}", markup=True, soft_wrap=True)
        err_console.print(f"[bold]hint:[/] {escape(hint)}", markup=True, soft_wrap=True)
        sys.exit(1)
    except click.exceptions.Abort:
        err_console.print("error: aborted")
        sys.exit(1)
    except click.ClickException as exc:
        if debug:
            traceback.print_exc()
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "briefing"
        click.echo(f"error: {exc.format_message()}", err=True)
        click.echo(f"hint: see `{where} --help`", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
