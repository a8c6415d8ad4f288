"""`briefing feeds` (the feeds fetched, and how their last fetch went) and `briefing
config` (the effective configuration)."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from briefing.cli.app import cli, emit_json, err_console, global_options, out_console, state
from briefing.services import feeds as feed_list


@cli.group()
@global_options
def feeds() -> None:
    """The feeds Briefing fetches, and how their last fetch went.

    \b
    Examples:
        briefing feeds list
        briefing feeds remove https://example.org/feed.xml
    """


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@global_options
def feeds_list(as_json: bool) -> None:
    """List feeds (from the config and added with `ingest --feed`) with their last status.

    \b
    Example:
        briefing feeds list --json
    """
    st = state()
    settings, engine = st.settings(), st.engine()
    rows = [_source_json(f) for f in feed_list.list_feeds(settings, engine)]
    if as_json:
        emit_json(rows)
        return
    table = Table(title=f"{len(rows)} feed(s)", title_justify="left")
    for col in ("feed", "origin", "status", "last checked", "items", "error"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            escape(r["location"]),
            r["origin"],
            r["last_status"] or "never fetched",
            r["last_checked"] or "-",
            str(r["items"]),
            escape(r["last_error"] or ""),
        )
    out_console.print(table)


def _source_json(feed: feed_list.Feed) -> dict[str, Any]:
    r = feed.record
    return {
        "location": feed.location,
        "name": feed.name,
        "origin": feed.origin,
        "last_status": r.get("last_status"),
        "last_http_status": r.get("last_http_status"),
        "last_error": r.get("last_error"),
        "last_checked": r["last_checked"].isoformat() if r.get("last_checked") else None,
        "last_ok": r["last_ok"].isoformat() if r.get("last_ok") else None,
        "failures": r.get("failures", 0),
        "items": r.get("items", 0),
        "etag": r.get("etag"),
        "last_modified": r.get("last_modified"),
    }


@feeds.command("remove")
@click.argument("location")
@global_options
def feeds_remove(location: str) -> None:
    """Stop fetching a feed added with `ingest --feed` (its articles stay).

    \b
    Example:
        briefing feeds remove https://example.org/feed.xml
    """
    feed_list.remove(state().engine(), location)
    err_console.print(f"removed {escape(location)}; its articles are kept")


@cli.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@global_options
def config_cmd(as_json: bool) -> None:
    """Show the effective configuration (defaults, file, BRIEFING_* and flags merged).

    \b
    Example:
        BRIEFING_STORAGE_URL=sqlite:///tmp/x.db briefing config --json
    """
    settings = state().settings()
    doc = settings.model_dump(mode="json")
    doc["storage"]["resolved_url"] = settings.database_url
    if as_json:
        emit_json(doc)
        return
    import json

    out_console.print(f"# from {escape(settings.source)}")
    out_console.print(escape(json.dumps(doc, indent=2, ensure_ascii=False)))
