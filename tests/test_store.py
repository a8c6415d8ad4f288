"""Opening the database: migrations applied on open, the fast path when at head."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from briefing.models import Article
from briefing.store import articles
from briefing.store.db import alembic_config, make_engine, newest_revision, open_engine

if TYPE_CHECKING:
    from conftest import Databases


def test_the_head_read_from_file_names_is_alembics_head() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [newest_revision()]  # one linear chain, named by revision


def _version(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
    finally:
        engine.dispose()


def test_a_new_database_is_brought_to_head(databases: Databases, tmp_path: Path) -> None:
    url = databases.empty(tmp_path)
    open_engine(url).dispose()
    assert _version(url) == [newest_revision()]


def test_an_older_database_is_upgraded_on_open_and_keeps_its_rows(database_url: str) -> None:
    url = database_url
    engine = open_engine(url)
    with engine.begin() as conn:
        articles.upsert_articles(
            conn,
            [Article(id="a1", source_kind="seed", source="seed:a.txt", url=None, title="Kept")],
            datetime(2026, 11, 1, tzinfo=UTC),
        )
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    engine.dispose()
    assert _version(url) == ["0003"]
    old = make_engine(url)
    assert "outbox" not in inspect(old).get_table_names()
    old.dispose()

    engine = open_engine(url)
    try:
        assert _version(url) == [newest_revision()]
        tables = inspect(engine).get_table_names()
        assert {"outbox", "send_runs"} <= set(tables)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT title FROM articles")).scalar() == "Kept"
    finally:
        engine.dispose()


def test_the_migrations_build_exactly_the_schema_the_code_declares(
    databases: Databases, tmp_path: Path
) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from briefing.store.schema import metadata

    engine = open_engine(databases.empty(tmp_path))
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()


def test_the_database_is_on_the_backend_the_run_names(
    database_url: str, request: pytest.FixtureRequest
) -> None:
    engine = open_engine(database_url)
    try:
        assert engine.dialect.name == request.config.getoption("--backend")
        with engine.connect() as conn:
            assert _version(database_url) == [newest_revision()]
            assert conn.execute(text("SELECT count(*) FROM articles")).scalar() == 0
    finally:
        engine.dispose()
