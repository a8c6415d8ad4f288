"""One recipient rule: the SQL of store/recipients.py (the queueing statement and the
per-message hot path) agrees with models.Subscriber.receives on a table of cases."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, null, select
from sqlalchemy.dialects import postgresql, sqlite

from briefing.models import Subscriber
from briefing.store import subscribers as subscriber_store
from briefing.store.db import open_engine
from briefing.store.outbox import HotPath
from briefing.store.recipients import reachable, reachable_sql, takes_every_issue
from briefing.store.subscribers_schema import subscribers

NOW = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
STATUSES = ("active", "pending", "unsubscribed", "bounced", "forgotten")
EMAILS: tuple[str | None, ...] = ("reader@example.org", None, "")
# what is stored in the topics column: JSON null, SQL NULL (both: every topic), choices
TOPICS: tuple[Any, ...] = ("json-null", "sql-null", [], ["tech"], ["tech", "science"])
ISSUE_TOPICS: tuple[set[str], ...] = (set(), {"tech"}, {"science"}, {"tech", "science"}, {"arts"})


@pytest.fixture
def table(database_url: str) -> Iterator[tuple[Engine, list[Subscriber]]]:
    engine = open_engine(database_url)
    cases = itertools.product(STATUSES, (False, True), EMAILS, TOPICS)
    with engine.begin() as conn:
        for i, (status, paused, email, topics) in enumerate(cases):
            stored: Any = (
                None if topics == "json-null" else null() if topics == "sql-null" else topics
            )
            subscriber_store.insert_subscriber(
                conn,
                {
                    "email": email,
                    "email_key": f"{i}-{email}" if email else None,
                    "status": status,
                    "paused": paused,
                    "topics": stored,
                    "token_id": f"token{i}",
                    "created_at": NOW,
                    "updated_at": NOW,
                },
            )
    with engine.connect() as conn:
        subs = [subscriber_store._subscriber(r) for r in conn.execute(select(subscribers))]
    assert len(subs) == len(STATUSES) * 2 * len(EMAILS) * len(TOPICS)
    yield engine, subs
    engine.dispose()


def _ids(engine: Engine, condition: Any) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(select(subscribers.c.id).where(condition)).scalars())


def test_reachable_in_sql_is_subscriber_reachable(table: tuple[Engine, list[Subscriber]]) -> None:
    engine, subs = table
    expected = {s.id for s in subs if s.reachable}
    assert expected  # the table has both kinds
    assert expected != {s.id for s in subs}
    assert _ids(engine, reachable()) == expected


def test_the_hot_paths_text_is_the_same_rule(table: tuple[Engine, list[Subscriber]]) -> None:
    engine, subs = table
    text = reachable_sql(engine.dialect)
    assert text in HotPath(engine.dialect)._start
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"SELECT id FROM subscribers WHERE {text}")
        found = {row[0] for row in cursor.fetchall()}
    finally:
        raw.close()
    assert found == {s.id for s in subs if s.reachable}


def test_takes_every_issue_is_receives_whatever_the_topics(
    table: tuple[Engine, list[Subscriber]],
) -> None:
    engine, subs = table
    expected = {s.id for s in subs if all(s.receives(t) for t in ISSUE_TOPICS)}
    assert expected == {s.id for s in subs if s.reachable and s.topics is None}
    assert _ids(engine, takes_every_issue()) == expected


def test_receives_is_reachable_and_a_topic_match(table: tuple[Engine, list[Subscriber]]) -> None:
    """The Python half of the rule, for those who chose topics (matched in Python)."""
    _, subs = table
    for sub in subs:
        for topics in ISSUE_TOPICS:
            wanted = sub.topics is None or bool(set(sub.topics) & topics)
            assert sub.receives(topics) == (sub.reachable and wanted), (sub, topics)


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.psycopg.dialect()])
def test_the_rule_compiles_without_parameters(dialect: Any) -> None:
    text = reachable_sql(dialect)
    assert "status = 'active'" in text and "?" not in text and "%" not in text
