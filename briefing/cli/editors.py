"""`briefing editors` add, passwd, list, remove: the accounts that sign in to the desk."""

from __future__ import annotations

import sys

import click
from rich.markup import escape
from rich.table import Table

from briefing.cli.app import cli, emit_json, err_console, global_options, out_console, state
from briefing.errors import BriefingError


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():  # cron, CI, a pipe: a prompt would echo or read the wrong input
        raise BriefingError(
            "no terminal to ask for the password on (stdin is not a terminal)",
            "pass it on stdin: printf '%s\\n' \"$PASSWORD\" | briefing editors "
            f"{click.get_current_context().info_name} EMAIL --password-stdin",
        )
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@cli.group()
@global_options
def editors() -> None:
    """Editor accounts for the desk (`briefing serve`, /desk).

    \b
    Examples:
        briefing editors add ann@example.org --name "Ann Editor"
        briefing editors list
    """


@editors.command("add")
@click.argument("email")
@click.option("--name", help="How the audit trail names this editor.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from stdin (else it is asked)."
)
@global_options
def add_cmd(email: str, name: str | None, password_stdin: bool) -> None:
    """Add an editor who signs in to the desk with EMAIL and a password (12+ characters).

    \b
    Examples:
        briefing editors add ann@example.org --name "Ann Editor"
        printf '%s\\n' "$PASSWORD" | briefing editors add ann@example.org --password-stdin
    """
    from briefing.services import accounts

    editor = accounts.add(state().engine(), email, _password(password_stdin), name=name)
    err_console.print(f"editor {escape(editor.email)} added; sign in at /desk")


@editors.command("passwd")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@global_options
def passwd_cmd(email: str, password_stdin: bool) -> None:
    """Set an editor's password (and sign them out everywhere).

    \b
    Example:
        briefing editors passwd ann@example.org
    """
    from briefing.services import accounts

    accounts.set_password(state().engine(), email, _password(password_stdin))
    err_console.print(f"password changed for {escape(email)}; their sessions were ended")


@editors.command("remove")
@click.argument("email")
@global_options
def remove_cmd(email: str) -> None:
    """Remove an editor (the audit trail keeps their name).

    \b
    Example:
        briefing editors remove ann@example.org
    """
    from briefing.services import accounts

    accounts.remove(state().engine(), email)
    err_console.print(f"editor {escape(email)} removed")


@editors.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@global_options
def list_cmd(as_json: bool) -> None:
    """Every editor.

    \b
    Example:
        briefing editors list --json
    """
    from briefing.services import accounts

    found = accounts.list_all(state().engine())
    if as_json:
        emit_json([{"email": e.email, "name": e.name, "disabled": e.disabled} for e in found])
        return
    table = Table("email", "name")
    for e in found:
        table.add_row(escape(e.email), escape(e.name or ""))
    out_console.print(table)
