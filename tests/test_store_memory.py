"""The store against the ``memory_db`` fixture: an in-memory SQLite database, no file."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, inspect, text
from sqlalchemy.exc import IntegrityError

from briefing.issue import IssueStateError
from briefing.models import Article, Confidence, IssueStory
from briefing.store import articles, issues
from briefing.store.db import newest_revision
from briefing.store.issues_schema import issue_articles
from briefing.store.schema import metadata

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def article(id: str, title: str, body: str = "", **values: object) -> Article:
    return Article(id=id, source_kind="feed", source="feed:test", title=title, body=body, **values)  # type: ignore[arg-type]


def test_the_database_is_at_the_newest_revision_with_every_table(memory_db: Engine) -> None:
    with memory_db.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert version == [newest_revision()]
    assert set(metadata.tables) <= set(inspect(memory_db).get_table_names())


def test_an_article_is_stored_and_read_back_across_connections(memory_db: Engine) -> None:
    stored = article(
        "a1",
        "North Korea condemns Japan's missiles",
        "Pyongyang said so on Monday.",
        url="https://wire.example.org/a",
        publisher="Wire",
        published=date(2026, 1, 19),
        labels=("defense",),
        confidence={"title": Confidence(0.9, "declared by the feed")},
    )
    with memory_db.begin() as conn:
        result = articles.upsert_articles(conn, [stored], T0)
    assert result.outcomes == {"a1": "new"}
    with memory_db.connect() as conn:  # another checkout: the same in-memory database
        back = articles.get_article(conn, "a1")
        listed = articles.list_articles(conn)
    assert back == replace(stored, first_seen=T0)  # every field, and when the store saw it
    assert back.confidence == stored.confidence
    assert [a.id for a in listed] == ["a1"]


def test_a_second_upsert_is_unchanged_and_a_copy_is_a_duplicate(memory_db: Engine) -> None:
    first = article("a1", "Same story", "The same opening words of the same story.")
    copy = article("a2", "Same story", "The same opening words of the same story.")
    with memory_db.begin() as conn:
        articles.upsert_articles(conn, [first], T0)
    with memory_db.begin() as conn:
        result = articles.upsert_articles(conn, [first, copy], T0 + timedelta(hours=1))
    assert result.outcomes == {"a1": "unchanged", "a2": "duplicate"}
    with memory_db.connect() as conn:
        assert [a.id for a in articles.list_articles(conn)] == ["a1"]
        every = articles.list_articles(conn, include_duplicates=True)
    assert [(a.id, a.duplicate_of) for a in every] == [("a2", "a1"), ("a1", None)]  # newest first


def test_each_test_gets_an_empty_database(memory_db: Engine) -> None:
    with memory_db.connect() as conn:
        assert articles.list_articles(conn, include_duplicates=True) == []


def test_foreign_keys_are_enforced(memory_db: Engine) -> None:
    with pytest.raises(IntegrityError), memory_db.begin() as conn:
        conn.execute(insert(issue_articles).values(issue_id=999, article_id="nope", story_key="k"))


def test_an_issue_round_trips_and_moves_only_as_allowed(memory_db: Engine) -> None:
    with memory_db.begin() as conn:
        articles.upsert_articles(conn, [article("a1", "A story")], T0)
        issue_id = issues.create_issue(conn, subject="S", preheader="P", now=T0, actor="test")
        issues.save_stories(
            conn, issue_id, [IssueStory(key="a1", topic="t", article_ids=("a1",), position=0)]
        )
    with memory_db.begin() as conn:
        issues.set_state(conn, issue_id, "approved", now=T0, actor="Jane")
    refused = pytest.raises(IssueStateError, match="is approved; it cannot become sent")
    with refused, memory_db.begin() as conn:
        issues.set_state(conn, issue_id, "sent", now=T0, actor="Jane")
    with memory_db.connect() as conn:
        issue = issues.get_issue(conn, issue_id)
        actions = [(e["actor"], e["action"]) for e in issues.events(conn, issue_id)]
    assert issue.state == "approved"
    assert [(s.key, s.article_ids) for s in issue.stories] == [("a1", ("a1",))]
    assert actions == [("test", "created"), ("Jane", "approved")]
