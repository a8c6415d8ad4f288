"""The editor's work on an issue: draft, issues, issue, edit, approve, cancel, preview."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from briefing.cli import words
from briefing.cli.app import cli, emit_json, err_console, global_options, out_console, state
from briefing.deliver.message import as_bytes
from briefing.errors import BriefingError
from briefing.models import Issue
from briefing.private import private_dir, write_private
from briefing.services import issues as editorial


def issue_json(issue: Issue) -> dict[str, Any]:
    return {
        "id": issue.id,
        "state": issue.state,
        "subject": issue.subject,
        "preheader": issue.preheader,
        "editor_note": issue.editor_note,
        "created_at": issue.created_at.isoformat(),
        "updated_at": issue.updated_at.isoformat(),
        "approved_by": issue.approved_by,
        "approved_at": issue.approved_at.isoformat() if issue.approved_at else None,
        "sent_at": issue.sent_at.isoformat() if issue.sent_at else None,
        "stories": [
            {
                "key": s.key,
                "topic": s.topic,
                "title": s.title,
                "position": s.position,
                "excluded": s.excluded,
                "excluded_reason": s.reason,
                "articles": list(s.article_ids),
            }
            for s in issue.stories
        ],
        "counts": {"stories": len(issue.stories), "included": len(issue.included)},
    }


def _print_issue(issue: Issue) -> None:
    out_console.print(f"[bold]Issue {issue.id}[/] · {issue.state} · {escape(issue.subject)}")
    if issue.approved_by:
        out_console.print(
            f"approved by {escape(issue.approved_by)} at {issue.approved_at:%Y-%m-%d %H:%M} UTC"
        )
    out_console.print(f"preheader: {escape(issue.preheader)}")
    if issue.editor_note:
        out_console.print(f"editor's note: {escape(issue.editor_note)}")
    table = Table(title_justify="left")
    for col in ("#", "story", "topic", "sources", "title", ""):
        table.add_column(col, overflow="fold")
    for s in issue.stories:
        flag = f"[dim]excluded ({s.reason})[/]" if s.excluded else ""
        table.add_row(
            str(s.position + 1), s.key[:8], s.topic, str(len(s.article_ids)), escape(s.title), flag
        )
    out_console.print(table)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the issue as JSON.")
@global_options
def draft(as_json: bool) -> None:
    """Build the next issue, or refresh the open draft, from articles not yet sent.

    Articles are grouped by topic and story. Refreshing keeps the editor's changes
    (excluded stories, order, subject, preheader, note).

    \b
    Example:
        briefing draft --json | jq .id
    """
    st = state()
    issue = editorial.draft(st.settings(), st.engine())
    if as_json:
        emit_json(issue_json(issue))
        return
    _print_issue(issue)
    err_console.print(
        f"preview it with `briefing preview {issue.id}`; approve with "
        f"`briefing approve {issue.id} --by NAME`"
    )


@cli.command("issues")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@global_options
def issues_cmd(as_json: bool) -> None:
    """List issues, newest first, with their state.

    \b
    Example:
        briefing issues --json | jq '.[] | {id, state, subject}'
    """
    items = editorial.list_issues(state().engine())
    if as_json:
        emit_json([issue_json(i) for i in items])
        return
    table = Table(title=f"{len(items)} issue(s)", title_justify="left")
    for col in ("id", "state", "subject", "stories", "approved", "sent"):
        table.add_column(col, overflow="fold")
    for i in items:
        table.add_row(
            str(i.id),
            i.state,
            escape(i.subject),
            f"{len(i.included)}/{len(i.stories)}",
            escape(f"{i.approved_by} {i.approved_at:%Y-%m-%d}") if i.approved_at else "-",
            f"{i.sent_at:%Y-%m-%d %H:%M}" if i.sent_at else "-",
        )
    out_console.print(table)


@cli.command("issue")
@click.argument("issue_ref", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with the audit trail).")
@global_options
def issue_cmd(issue_ref: str | None, as_json: bool) -> None:
    """Show one issue (default: the open draft) with its stories and history.

    \b
    Example:
        briefing issue 3 --json
    """
    engine = state().engine()
    issue = editorial.resolve_issue(engine, issue_ref)
    history = editorial.history(engine, issue.id)
    if as_json:
        emit_json(
            {
                **issue_json(issue),
                "events": [
                    {
                        "at": e["at"].isoformat(),
                        "actor": e["actor"],
                        "action": e["action"],
                        "detail": e["detail"],
                    }
                    for e in history
                ],
            }
        )
        return
    _print_issue(issue)
    for e in history:
        out_console.print(f"[dim]{e['at']:%Y-%m-%d %H:%M} {escape(e['actor'])}: {e['action']}[/]")


@cli.command()
@click.argument("issue_ref")
@click.option("--subject", help="A new subject line.")
@click.option("--preheader", help="A new preheader (the inbox preview line).")
@click.option("--note", help="The editor's note at the top of the issue ('' removes it).")
@click.option(
    "--exclude",
    multiple=True,
    metavar="STORY",
    help="Leave a story out (key or prefix). Repeatable.",
)
@click.option(
    "--restore", multiple=True, metavar="STORY", help="Put an excluded story back. Repeatable."
)
@click.option("--order", metavar="KEY,KEY,...", help="Put these stories first, in this order.")
@click.option(
    "--by", "actor", default="cli", show_default=True, help="Who is editing (for the audit trail)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the issue as JSON.")
@global_options
def edit(
    issue_ref: str,
    subject: str | None,
    preheader: str | None,
    note: str | None,
    exclude: tuple[str, ...],
    restore: tuple[str, ...],
    order: str | None,
    actor: str,
    as_json: bool,
) -> None:
    """Change a draft: subject, preheader, note, which stories and in what order.

    Editing an approved issue sends it back to draft.

    \b
    Example:
        briefing edit 1 --subject "Japan's defense year" --exclude e9d55e86 --by "Jane Editor"
    """
    st = state()
    issue = editorial.resolve_issue(st.engine(), issue_ref)
    updated = editorial.edit(
        st.settings(),
        st.engine(),
        issue.id,
        actor=actor,
        subject=subject,
        preheader=preheader,
        note=note,
        exclude=exclude,
        restore=restore,
        order=[x.strip() for x in order.split(",") if x.strip()] if order else None,
    )
    if as_json:
        emit_json(issue_json(updated))
    else:
        _print_issue(updated)


@cli.command()
@click.argument("issue_ref")
@click.option("--by", "by", required=True, help="The approving editor's name (recorded).")
@click.option("--json", "as_json", is_flag=True, help="Print the issue as JSON.")
@global_options
def approve(issue_ref: str, by: str, as_json: bool) -> None:
    """Approve an issue for sending, recording who and when (the editorial sign-off).

    \b
    Example:
        briefing approve 1 --by "Jane Editor"
    """
    engine = state().engine()
    issue = editorial.approve(engine, editorial.resolve_issue(engine, issue_ref).id, by=by)
    if as_json:
        emit_json(issue_json(issue))
        return
    err_console.print(
        f"issue {issue.id} approved by {escape(by)} at {issue.approved_at:%Y-%m-%d %H:%M} UTC"
    )


@cli.command()
@click.argument("issue_ref")
@click.option("--by", "by", default="cli", show_default=True, help="Who cancels (recorded).")
@global_options
def cancel(issue_ref: str, by: str) -> None:
    """Cancel a draft or approved issue; its articles go into the next draft.

    \b
    Example:
        briefing cancel 2 --by "Jane Editor"
    """
    engine = state().engine()
    issue = editorial.cancel(engine, editorial.resolve_issue(engine, issue_ref).id, by=by)
    err_console.print(f"issue {issue.id} cancelled")


@cli.command()
@click.argument("issue_ref", required=False)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the files (default var/preview/issue-N).",
)
@click.option("--strict", is_flag=True, help="Exit 1 when a check fails.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@global_options
def preview(issue_ref: str | None, out_dir: Path | None, strict: bool, as_json: bool) -> None:
    """Write an issue as a sample subscriber gets it, and check it.

    Writes issue.html, issue.txt, issue.eml (the whole message) and web.html (the
    archive page), then reports: HTML size against Gmail's clipping limit, items
    without attribution, the AI caveat, links, subject and preheader length.

    \b
    Example:
        briefing preview --out /tmp/preview && open /tmp/preview/issue.html
    """
    from briefing.services import preview as previews

    st = state()
    settings, engine = st.settings(), st.engine()
    issue = editorial.resolve_issue(engine, issue_ref)
    built = previews.build(settings, engine, issue, reader="first")
    rendered, sample, html, text = built.rendered, built.reader, built.html, built.text
    message = built.message()
    folder = out_dir or settings.root / "var" / "preview" / f"issue-{issue.id}"
    files = {
        "html": folder / "issue.html",
        "text": folder / "issue.txt",
        "eml": folder / "issue.eml",
        "web": folder / "web.html",
    }
    web = built.web()
    try:
        private_dir(folder)  # the files carry a subscriber's name and links
        write_private(files["html"], html.encode("utf-8"))
        write_private(files["text"], text.encode("utf-8"))
        write_private(files["eml"], as_bytes(message))
        write_private(files["web"], web.encode("utf-8"))
    except OSError as exc:
        raise BriefingError(
            f"cannot write the preview to {folder}: {exc.strerror}",
            "give --out a folder you can write to (it is created if needed)",
        ) from exc
    findings = built.findings
    failed = [f for f in findings if f.level == "error"]
    if as_json:
        emit_json(
            {
                "issue": issue.id,
                "state": issue.state,
                "subject": rendered.subject,
                "files": {k: str(v) for k, v in files.items()},
                "html_bytes": len(html.encode()),
                "ai_header": rendered.ai_header,
                "lint": [
                    {"level": f.level, "check": f.check, "message": words.finding(f)}
                    for f in findings
                ],
            }
        )
    else:
        colors = {"ok": "green", "warning": "yellow", "error": "red"}
        out_console.print(f"[bold]Issue {issue.id}[/] ({issue.state}): {escape(rendered.subject)}")
        for f in findings:
            out_console.print(
                f"  [{colors[f.level]}]{f.level:>7}[/] {f.check:<11} {escape(words.finding(f))}"
            )
        out_console.print(f"as received by {escape(sample.email)}")
        out_console.print(f"preview files in {folder}/: issue.html, issue.txt, issue.eml, web.html")
    if strict and failed:
        raise SystemExit(1)
