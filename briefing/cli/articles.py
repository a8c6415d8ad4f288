"""`briefing articles` and `briefing article`: what is stored, one article in full,
why its fields were chosen, and the editor's corrections."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from briefing.cli.app import cli, emit_json, err_console, global_options, out_console, state
from briefing.cli.explain import explain as explain_text
from briefing.cli.explain import extra_json, show_value
from briefing.errors import BriefingError
from briefing.models import Article, TopicMatch, published_iso
from briefing.services import articles as library
from briefing.services.issues import topic_matches


def article_json(
    a: Article, duplicates: list[Article] | None = None, matches: list[TopicMatch] | None = None
) -> dict[str, Any]:
    matches = matches or []
    return {
        "id": a.id,
        "title": a.title,
        "url": a.url,
        "publisher": a.publisher,
        "author": a.author,
        "published": published_iso(a.published),
        "updated": a.updated.isoformat() if a.updated else None,
        "dek": a.dek,
        "summary": a.summary,
        "body": a.body,
        "ai_generated": a.ai_generated,
        "ai_disclosure": a.ai_disclosure,
        "labels": list(a.labels),
        "section": a.section,
        "reading_time_min": a.reading_time_min,
        "source": a.source,
        "source_kind": a.source_kind,
        "guid": a.guid,
        "first_seen": a.first_seen.isoformat() if a.first_seen else None,
        "word_count": a.word_count,
        "duplicate_of": a.duplicate_of,
        "duplicates": [
            {"id": d.id, "url": d.url, "publisher": d.publisher, "source": d.source}
            for d in duplicates or []
        ],
        "notes": list(a.notes),
        "topics": [m.slug for m in matches if m.assigned],
        "topic_matches": {
            m.slug: {"assigned": m.assigned, "score": m.score, "terms": m.terms, "reason": m.reason}
            for m in matches
        },
    }


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@click.option(
    "--all", "include_duplicates", is_flag=True, help="Include articles linked as duplicates."
)
@click.option(
    "--source", metavar="SOURCE", help="Only articles from this source (e.g. seed:x.txt)."
)
@click.option("--limit", type=click.IntRange(min=1), help="At most N articles.")
@global_options
def articles(
    as_json: bool, include_duplicates: bool, source: str | None, limit: int | None
) -> None:
    """List stored articles, newest first.

    \b
    Examples:
        briefing articles
        briefing articles --json | jq '.[] | {title, publisher, published, ai_generated}'
    """
    st = state()
    engine = st.engine()
    found = library.list_articles(
        engine, include_duplicates=include_duplicates, source=source, limit=limit
    )
    items, dups, fixes = found.articles, found.duplicates, found.corrections
    matches = topic_matches(st.settings(), items)
    if as_json:
        emit_json(
            [
                {
                    **article_json(a, dups.get(a.id), matches[a.id]),
                    **extra_json(a, fixes.get(a.id, [])),
                }
                for a in items
            ]
        )
        return
    table = Table(title=f"{len(items)} article(s)", title_justify="left")
    for col in ("id", "published", "publisher", "title", "topics", "AI"):
        table.add_column(col, overflow="fold")
    for a in items:
        unsure = a.uncertain()
        table.add_row(
            a.id[:10],
            published_iso(a.published) or "-",
            escape(a.publisher or "-"),
            escape(a.title)
            + (f" [dim](+{len(dups[a.id])} dup)[/]" if a.id in dups else "")
            + (f" [yellow]({', '.join(unsure)} uncertain)[/]" if unsure else ""),
            ", ".join(m.slug for m in matches[a.id] if m.assigned) or "-",
            "[magenta]AI[/]" if a.ai_generated else "",
        )
    out_console.print(table)


@cli.command()
@click.argument("article_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--explain",
    is_flag=True,
    help="Show why each title, author, date and publisher was chosen, and the blocks dropped.",
)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Correct a field: title, author, published (YYYY-MM-DD), publisher, ai_generated "
    "(true/false); an empty value clears author, published or publisher. Repeatable.",
)
@click.option("--by", metavar="NAME", help="With --set: who corrects (recorded).")
@global_options
def article(
    article_id: str, as_json: bool, explain: bool, assignments: tuple[str, ...], by: str | None
) -> None:
    """Show one article in full (ID or a unique prefix of it); explain or correct it.

    A correction is recorded (who, when, the value it replaced), wins over every later
    ingest of the same seed, feed or URL, and makes the field's confidence 1.0. An open
    issue holding the article follows it (an approved one goes back to draft).

    \b
    Examples:
        briefing article c375b9cd
        briefing article c375b9cd --explain
        briefing article c375b9cd --set title="The real headline" --set published=2026-01-07 --by "Ann Editor"
    """
    st = state()
    engine = st.engine()
    if assignments:
        from briefing.corrections import InvalidCorrection, parse_assignment
        from briefing.services.issues import correct_article

        if not by:
            raise InvalidCorrection(
                "--set needs --by: who corrects is recorded", "add --by 'Your Name'"
            )
        changes = [parse_assignment(x) for x in assignments]
        done = correct_article(st.settings(), engine, article_id, changes, by=by)
        article_id = done.article.id
        if not as_json:
            for c in done.corrections:
                change = (
                    f"{show_value(c.value)} confirmed"
                    if c.value == c.previous
                    else f"{show_value(c.previous)} -> {show_value(c.value)}"
                )
                err_console.print(f"{c.field}: {escape(change)} (corrected by {escape(c.by)})")
            for n in done.reopened:
                err_console.print(
                    f"issue {n} was approved: it is a draft again; approve it once more "
                    f"(`briefing approve {n} --by NAME`)"
                )
            for n in sorted(set(done.issues) - set(done.reopened)):
                err_console.print(f"issue {n} shows the corrected article")
    elif by:
        raise BriefingError("--by goes with --set", "pass --set FIELD=VALUE too")
    shown = library.get(engine, article_id)
    a, dups, fixes = shown.article, shown.duplicates, shown.corrections
    if as_json:
        emit_json({**article_json(a, dups), **extra_json(a, fixes, full=True)})
        return
    if explain:
        out_console.print(escape(explain_text(a, fixes)))
        return
    if assignments:
        return
    out_console.print(f"[bold]{escape(a.title)}[/]")
    meta = [x for x in (a.publisher, a.author, published_iso(a.published), a.url) if x]
    out_console.print(escape(" · ".join(meta)))
    for name in a.uncertain():
        out_console.print(
            f"[yellow]{name} uncertain ({a.confidence[name].value:.2f})[/]: check it "
            f"(`briefing article {a.id[:10]} --explain`) or correct it "
            f"(`briefing article {a.id[:10]} --set {name}=... --by NAME`)"
        )
    if a.labels:
        out_console.print("labels: " + escape(", ".join(a.labels)))
    if a.ai_generated:
        out_console.print(
            f"[magenta]AI-generated, per the source:[/] {escape(a.ai_disclosure or '')}"
        )
    out_console.print()
    if a.summary:
        out_console.print(f"[italic]{escape(a.summary)}[/]\n")
    out_console.print(escape(a.body))
