"""`briefing ingest`: seed files, feeds and pages into the article store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from briefing.cli.app import cli, emit_json, err_console, global_options, out_console, state
from briefing.errors import BriefingError
from briefing.models import SourceReport
from briefing.services.ingest import ingest as run_ingest


def report_json(r: SourceReport) -> dict[str, Any]:
    return {
        "source": r.source,
        "kind": r.kind,
        "status": r.status,
        "new": r.new,
        "updated": r.updated,
        "unchanged": r.unchanged,
        "duplicates": r.duplicates,
        "failed": r.failed,
        "error": r.error,
        "hint": r.hint,
        "warnings": list(r.warnings),
    }


@cli.command()
@click.option(
    "--seeds",
    "seeds_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Read seed files from DIR (instead of seeds.folder).",
)
@click.option(
    "--feed",
    "feeds",
    multiple=True,
    metavar="URL_OR_PATH",
    help="Ingest this feed and add it to the list fetched on later runs. Repeatable.",
)
@click.option(
    "--once", is_flag=True, help="With --feed: fetch it now but do not add it to the list."
)
@click.option(
    "--url",
    "urls",
    multiple=True,
    metavar="URL",
    help="Fetch this article's page and store it (again: update it). Repeatable.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of a table.")
@global_options
def ingest(
    seeds_dir: Path | None,
    feeds: tuple[str, ...],
    once: bool,
    urls: tuple[str, ...],
    as_json: bool,
) -> None:
    """Read seed files, feeds and pages into the article store.

    With no flags: the seeds folder and every feed (from the config and those added
    earlier with --feed). With --seeds, --feed or --url: only the sources named.
    A page given with --url is fetched once (no private addresses unless
    fetch.allow_private_addresses) and links to its canonical address.
    A source that fails is reported and recorded; the others go on.

    \b
    Examples:
        briefing ingest
        briefing ingest --seeds seeds/
        briefing ingest --feed https://example.org/feed.xml --json
        briefing ingest --url https://example.org/news/2026/01/07/story
    """
    st = state()
    settings, engine = st.settings(), st.engine()
    only_given = seeds_dir is not None or bool(feeds) or bool(urls)
    reports = run_ingest(
        settings,
        engine,
        seeds_dir=seeds_dir,
        feeds=feeds,
        urls=urls,
        only_given=only_given,
        keep_feeds=not once,
    )
    totals = {
        k: sum(getattr(r, k) for r in reports)
        for k in ("new", "updated", "unchanged", "duplicates", "failed")
    }
    every_failed = bool(reports) and all(r.failed for r in reports)
    if as_json:
        emit_json({"sources": [report_json(r) for r in reports], "totals": totals})
        if every_failed:  # the same exit status as without --json, for scripts
            raise BriefingError(
                f"every source failed ({len(reports)})",
                "each source's error and hint are in the JSON on stdout",
            )
        return
    table = Table(title="Ingest", title_justify="left")
    table.add_column("source", overflow="fold")
    for name in ("new", "updated", "unchanged", "duplicates", "failed"):
        table.add_column(name, justify="right")
    table.add_column("status")
    for r in reports:
        table.add_row(
            escape(r.source),
            str(r.new),
            str(r.updated),
            str(r.unchanged),
            str(r.duplicates),
            str(r.failed),
            escape(r.status),
        )
    table.add_row(
        "[bold]total[/]",
        *(f"[bold]{totals[k]}[/]" for k in ("new", "updated", "unchanged", "duplicates", "failed")),
        "",
    )
    out_console.print(table)
    for r in reports:
        if r.error:
            err_console.print(
                f"[red]failed:[/] {escape(r.source)}: {escape(r.error)}\n  [bold]hint:[/] {escape(r.hint or '')}"
            )
        for w in r.warnings:
            err_console.print(f"[yellow]note:[/] {escape(r.source)}: {escape(w)}")
        if r.status == "warning" and r.hint:  # a page with no article: nothing was stored
            err_console.print(f"  [bold]hint:[/] {escape(r.hint)}; nothing was stored")
    if every_failed:
        raise BriefingError(f"every source failed ({len(reports)})", "see the reasons above")
    if not reports:
        err_console.print(
            "nothing to ingest: no seeds folder and no feeds configured "
            "(set seeds.folder or add [[feeds]] in briefing.toml)"
        )
