"""Migration 0007 cleans header-bound text stored before the entry points cleaned it:
a database at 0006 with CR/LF and other control characters in names, subjects and titles
is opened (which upgrades it) and comes out clean, every other value untouched."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from briefing.config import load_settings
from briefing.models import Article, IssueStory
from briefing.services import accounts
from briefing.services.subscriptions import add
from briefing.store import articles
from briefing.store import issues as issue_store
from briefing.store.db import alembic_config, open_engine

NOW = datetime(2026, 11, 1, tzinfo=UTC)
EVIL = "Eve\r\nBcc: victim@evil.example"


def test_migration_0007_cleans_what_is_already_stored(database_url: str) -> None:
    url = database_url
    settings = load_settings(None, env={}, overrides={"storage": {"url": url}})
    engine = open_engine(url)
    add(settings, engine, "eve@example.org", name="placeholder")
    add(settings, engine, "ok@example.org", name="Zoë O'Brien")
    add(settings, engine, "none@example.org")
    accounts.add(engine, "ed@example.org", "a-long-enough-password", name="placeholder")
    with engine.begin() as conn:
        articles.upsert_articles(
            conn,
            [Article(id="a1", source_kind="seed", source="seed:a.txt", title="placeholder")],
            NOW,
        )
        issue_id = issue_store.create_issue(conn, subject="s", preheader="p", now=NOW, actor="t")
        issue_store.save_stories(conn, issue_id, [IssueStory("k1", "t", ("a1",), 0, title="x")])
    # PostgreSQL's text cannot hold a NUL: another control character stands in for it there
    nul = "\x00" if engine.dialect.name == "sqlite" else "\x01"
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
        # what an older version stored as given
        conn.execute(
            text("UPDATE subscribers SET name = :n WHERE email = 'eve@example.org'"), {"n": EVIL}
        )
        conn.execute(text("UPDATE editors SET name = :n"), {"n": f"Ed{nul}itor\u2028Two"})
        conn.execute(
            text("UPDATE articles SET title = :t, publisher = :p, author = :a"),
            {"t": "Big\r\nBcc: x@evil.example", "p": "Pub\x85lisher", "a": "\x1b[31mAuthor"},
        )
        conn.execute(
            text("UPDATE issues SET subject = :s, preheader = :p, editor_note = :n"),
            {
                "s": "Sub\r\nject " + "s" * 400,
                "p": "Pre\theader\x07",
                "n": f"Line one\r\nLine{nul} two",
            },
        )
        conn.execute(text("UPDATE issue_stories SET title = :t"), {"t": "Story\ntitle"})
    engine.dispose()

    engine = open_engine(url)  # upgrades to head
    try:
        with engine.connect() as conn:
            names = dict(conn.execute(text("SELECT email, name FROM subscribers")).all())
            assert names == {
                "eve@example.org": "Eve Bcc: victim@evil.example",
                "ok@example.org": "Zoë O'Brien",
                "none@example.org": None,
            }
            assert conn.execute(text("SELECT name FROM editors")).scalar_one() == "Editor Two"
            art = conn.execute(text("SELECT title, publisher, author FROM articles")).one()
            assert tuple(art) == ("Big Bcc: x@evil.example", "Pub lisher", "[31mAuthor")
            issue = conn.execute(text("SELECT subject, preheader, editor_note FROM issues")).one()
            assert issue.subject.startswith("Sub ject sss") and len(issue.subject) == 250
            assert issue.preheader == "Pre header" and issue.editor_note == "Line one\nLine two"
            assert conn.execute(text("SELECT title FROM issue_stories")).scalar_one() == (
                "Story title"
            )
    finally:
        engine.dispose()
