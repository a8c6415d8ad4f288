"""The `subscribers` group (import, export, add, remove, forget, expire, list, show) and
`recipients` (who would receive an issue)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from briefing.cli.app import cli, emit_json, err_console, global_options, out_console, state
from briefing.errors import BriefingError
from briefing.models import Subscriber
from briefing.private import create_private_file, tighten
from briefing.services import issues as editorial
from briefing.services import subscriptions
from briefing.subscriber_csv import write_csv


def subscriber_json(
    sub: Subscriber, secrets: list[str] | None = None, base: Any = None
) -> dict[str, Any]:
    everything = [t.slug for t in state().settings().topics]
    doc: dict[str, Any] = {
        "id": sub.id,
        "email": sub.email,
        "name": sub.name,
        "status": sub.status,
        "paused": sub.paused,
        "topics": list(sub.topics) if sub.topics is not None else everything,
        "all_topics": sub.topics is None,
        "timezone": sub.timezone,
        "locale": sub.locale,
        "created": sub.created_at.isoformat(),
        "confirmed": sub.confirmed_at.isoformat() if sub.confirmed_at else None,
        "unsubscribed": sub.unsubscribed_at.isoformat() if sub.unsubscribed_at else None,
        "unsubscribe_reason": sub.unsubscribe_reason,
        "consent": sub.consent,
    }
    if secrets is not None and base is not None:
        found = subscriptions.links(base, sub, secrets)
        doc["unsubscribe_url"] = found.unsubscribe_url
        doc["preferences_url"] = found.preferences_url
    return doc


@cli.group("subscribers")
@global_options
def subscribers_group() -> None:
    """The people the briefing goes to: import, export, add, remove, list, show, forget.

    \b
    Examples:
        briefing subscribers import subscribers/sample.csv
        briefing subscribers show ann@example.org --json | jq -r .unsubscribe_url
    """


@subscribers_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="All or nothing: import no row if any row is bad.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@global_options
def import_cmd(file: Path, strict: bool, as_json: bool) -> None:
    """Import a CSV with a header: email,name,topics,timezone (other columns ignored).

    Bad rows are reported with their line and reason; good rows are imported. An
    address that unsubscribed, bounced, complained or was forgotten is never re-added.

    \b
    Example:
        briefing subscribers import subscribers/sample.csv --strict
    """
    st = state()
    report = subscriptions.import_file(st.settings(), st.engine(), file, strict=strict)
    doc = {
        "file": report.file,
        "added": report.added,
        "existing": report.existing,
        "suppressed": report.suppressed,
        "committed": report.committed,
        "errors": [{"line": line, "reason": reason} for line, reason in report.errors],
        "notes": report.notes,
    }
    if as_json:
        emit_json(doc)
    else:
        out_console.print(
            f"{escape(str(file))}: {report.added} added, {report.existing} already on the list, "
            f"{report.suppressed} suppressed, {len(report.errors)} bad row(s)"
        )
        for line, reason in report.errors:
            err_console.print(f"[red]line {line}:[/] {escape(reason)}")
        for note in report.notes:
            err_console.print(f"[yellow]note:[/] {escape(note)}")
    if not report.committed:
        raise BriefingError(
            f"{file}: {len(report.errors)} bad row(s), nothing imported (--strict)",
            "fix the lines named above, or drop --strict to import the good rows",
        )


@subscribers_group.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@global_options
def export_cmd(file: Path | None) -> None:
    """Export the list as CSV (to FILE, or stdout).

    Cells that a spreadsheet would run as a formula (=, +, -, @) are neutralized.

    \b
    Example:
        briefing subscribers export backup.csv
    """
    chunks = write_csv(subscriptions.export_rows(state().engine()))
    if file is None:
        for chunk in chunks:
            sys.stdout.write(chunk)
        return
    try:
        # the whole list, like the database: readable by its owner only, whatever the
        # umask, and an older file that others could read loses their permission first
        create_private_file(file)
        tighten(file)
        with file.open("w", encoding="utf-8", newline="") as fh:
            for chunk in chunks:
                fh.write(chunk)
    except OSError as exc:
        raise BriefingError(
            f"cannot write {file}: {exc.strerror}",
            "give a file in a folder that exists and that you can write to",
        ) from exc
    err_console.print(f"wrote {escape(str(file))}")


@subscribers_group.command("add")
@click.argument("email")
@click.option("--name", help="The subscriber's name.")
@click.option("--topics", help="Topic slugs, comma-separated (default: all topics).")
@click.option("--timezone", help="IANA timezone, e.g. Europe/London.")
@click.option("--json", "as_json", is_flag=True, help="Print the subscriber as JSON.")
@global_options
def add_cmd(
    email: str, name: str | None, topics: str | None, timezone: str | None, as_json: bool
) -> None:
    """Add an active subscriber (you vouch for their consent; it is recorded as "cli").

    \b
    Example:
        briefing subscribers add ann@example.org --name Ann --topics japan-defense-dprk
    """
    from briefing.subscriber_csv import check_timezone

    st = state()
    sub = subscriptions.add(
        st.settings(),
        st.engine(),
        email,
        name=name,
        topics=topics,
        timezone=check_timezone(timezone) if timezone else None,
    )
    if as_json:
        emit_json(subscriber_json(sub, st.settings().secrets(), st.settings()))
    else:
        err_console.print(f"added {escape(sub.email or '')}")


@subscribers_group.command("remove")
@click.argument("email")
@global_options
def remove_cmd(email: str) -> None:
    """Unsubscribe someone (kept on the suppression list; their history stays).

    \b
    Example:
        briefing subscribers remove ann@example.org
    """
    sub = subscriptions.remove(state().engine(), email)
    err_console.print(f"{escape(sub.email or '')} is now {sub.status}")


@subscribers_group.command("forget")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask (needed when there is no terminal).")
@click.option(
    "--outbox",
    "outboxes",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Another outbox folder to delete their .eml files from (delivery.url's always is).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was erased as JSON.")
@global_options
def forget_cmd(email: str, yes: bool, outboxes: tuple[Path, ...], as_json: bool) -> None:
    """Erase a person for good (GDPR Art. 17).

    Their address, name, consent IP and user agent go from every table (free text too) and their .eml files from the outbox folder; an HMAC
    of the address stays on the suppression list so it is not re-imported by accident.
    Without a terminal to ask, --yes is required.

    \b
    Example:
        briefing subscribers forget ann@example.org --yes
    """
    from briefing.services import erasure

    st = state()
    settings, engine = st.settings(), st.engine()
    sub = subscriptions.get(engine, email)
    if not yes:
        if not sys.stdin.isatty():
            raise BriefingError(
                f"forget erases {sub.email} for good, and there is no terminal to ask",
                "add --yes to erase without asking",
            )
        click.confirm(f"Erase {sub.email} for good? It cannot be undone", abort=True)
    done = erasure.forget(settings, engine, email, outboxes=outboxes)
    if as_json:
        emit_json(
            {
                "email": done.email,
                "cells": done.cells,
                "files_removed": [str(p) for p in done.files],
                "outboxes": [str(p) for p in done.folders],
                "wal_truncated": done.wal_truncated,
                "editor": done.editor,
            }
        )
    else:
        err_console.print(
            f"forgot {escape(done.email)}: {done.cells} other field(s) cleaned, "
            f"{len(done.files)} outbox file(s) deleted"
        )
    if done.wal_truncated is False:
        err_console.print(
            "[yellow]warning:[/] the database's WAL could not be truncated (another process is "
            "reading it); copies of the erased rows stay in it until the next checkpoint: run "
            "`briefing subscribers forget` again once `serve` and the scheduler are stopped"
        )
    if done.editor:
        err_console.print(
            f"[yellow]note:[/] {escape(done.email)} is also an editor account, left as it is; "
            f"remove it with `briefing editors remove {escape(done.email)}`"
        )


@subscribers_group.command("expire")
@click.option("--json", "as_json", is_flag=True, help="Print what was deleted as JSON.")
@global_options
def expire_cmd(as_json: bool) -> None:
    """Delete subscription requests nobody confirmed within subscriptions.pending_days.

    Their IP address and user agent go with them. `schedule run` does it at every ingest, and
    `serve` when it starts.

    \b
    Example:
        briefing subscribers expire --json
    """
    from briefing.services import erasure

    st = state()
    settings = st.settings()
    done = erasure.expire_requests(settings, st.engine())
    if as_json:
        emit_json(
            {
                "expired": done.expired,
                "requests_dropped": done.requests_dropped,
                "before": done.cutoff.isoformat(),
                "pending_days": settings.subscriptions.pending_days,
            }
        )
    else:
        err_console.print(
            f"{done.expired} pending subscriber(s) and {done.requests_dropped} other request(s) "
            f"older than {settings.subscriptions.pending_days} days deleted"
        )


@subscribers_group.command("list")
@click.option(
    "--status", type=click.Choice(["pending", "active", "unsubscribed", "bounced", "complained"])
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@global_options
def list_cmd(status: str | None, as_json: bool) -> None:
    """List subscribers (streamed; forgotten people are not listed).

    \b
    Example:
        briefing subscribers list --status active --json
    """
    rows = subscriptions.list_subscribers(state().engine(), status=status)
    if as_json:
        emit_json([subscriber_json(s) for s in rows])
        return
    table = Table(title=f"{len(rows)} subscriber(s)", title_justify="left")
    for col in ("email", "name", "status", "topics", "since"):
        table.add_column(col, overflow="fold")
    for s in rows:
        table.add_row(
            escape(s.email or ""),
            escape(s.name or ""),
            s.status + (" (paused)" if s.paused else ""),
            ", ".join(s.topics) if s.topics else "all",
            f"{s.created_at:%Y-%m-%d}",
        )
    out_console.print(table)


@subscribers_group.command("show")
@click.argument("email")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON (with unsubscribe_url, preferences_url, history).",
)
@global_options
def show_cmd(email: str, as_json: bool) -> None:
    """Show one subscriber: status, topics, consent record, links and history.

    \b
    Example:
        briefing subscribers show ann@example.org --json
    """
    st = state()
    settings, engine = st.settings(), st.engine()
    sub = subscriptions.get(engine, email)
    doc = subscriber_json(sub, settings.secrets(), settings)
    doc["events"] = [
        {
            "at": e["at"].isoformat(),
            "action": e["action"],
            "actor": e["actor"],
            "detail": e["detail"],
        }
        for e in subscriptions.history(engine, sub)
    ]
    if as_json:
        emit_json(doc)
        return
    for key in (
        "email",
        "name",
        "status",
        "topics",
        "timezone",
        "created",
        "confirmed",
        "unsubscribed",
        "unsubscribe_url",
        "preferences_url",
    ):
        out_console.print(f"[bold]{key}:[/] {escape(str(doc[key]))}")
    out_console.print(f"[bold]consent:[/] {escape(str(doc['consent']))}")
    for e in doc["events"]:
        out_console.print(f"[dim]{e['at']} {e['action']} by {escape(str(e['actor']))}[/]")


@cli.command()
@click.argument("issue_ref", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@global_options
def recipients(issue_ref: str | None, as_json: bool) -> None:
    """Who would receive an issue (default: the open draft).

    Everyone active, not paused, and subscribed to at least one of its topics.

    \b
    Example:
        briefing recipients --json | jq length
    """
    engine = state().engine()
    issue = editorial.resolve_issue(engine, issue_ref)
    topics = {s.topic for s in issue.included}
    people = list(subscriptions.recipients(engine, topics))
    if as_json:
        emit_json(
            [
                {
                    "email": s.email,
                    "name": s.name,
                    "topics": list(s.topics) if s.topics else None,
                    "all_topics": s.topics is None,
                }
                for s in people
            ]
        )
        return
    out_console.print(f"issue {issue.id}: {len(people)} recipient(s)")
    for s in people:
        out_console.print(f"  {escape(s.email or '')}")
