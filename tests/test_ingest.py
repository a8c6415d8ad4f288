"""Ingesting seeds into a real SQLite file: new, unchanged, updated, duplicates, failures."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from briefing.config import Settings, load_settings
from briefing.services.ingest import ingest
from briefing.store import articles as store
from briefing.store.db import open_engine
from briefing.store.schema import articles, sources

SEEDS = Path(__file__).parent.parent / "seeds"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture
def settings(tmp_path: Path, seeds: Path) -> Settings:
    return load_settings(
        None,
        env={},
        overrides={
            "storage": {"url": f"sqlite:///{tmp_path}/b.db"},
            "seeds": {"folder": str(seeds)},
        },
    )


@pytest.fixture
def engine(settings: Settings) -> Engine:
    return open_engine(settings.database_url)


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(articles)).scalar_one())


def test_ingest_twice_is_idempotent(settings: Settings, engine: Engine) -> None:
    first = ingest(settings, engine, now=T0)
    assert [(r.new, r.unchanged, r.failed) for r in first] == [(1, 0, 0), (1, 0, 0)]
    second = ingest(settings, engine, now=T0 + timedelta(days=1))
    assert [(r.new, r.unchanged) for r in second] == [(0, 1), (0, 1)]
    assert count(engine) == 2
    with engine.connect() as conn:
        stored = store.list_articles(conn)
    assert {a.first_seen for a in stored} == {T0}
    assert sorted(a.publisher or "" for a in stored) == ["NVNK", "PRISM News"]


def test_edited_seed_updates_in_place(settings: Settings, engine: Engine, seeds: Path) -> None:
    ingest(settings, engine, now=T0)
    path = seeds / "001_016901a4378f2971.txt"
    path.write_text(path.read_text().replace("strongly\u00a0condemned", "sharply condemned"))
    report = {r.source: r for r in ingest(settings, engine, now=T0 + timedelta(hours=1))}
    assert report["seed:001_016901a4378f2971.txt"].updated == 1
    assert count(engine) == 2
    with engine.connect() as conn:
        a = store.list_articles(conn, source="seed:001_016901a4378f2971.txt")[0]
    assert "sharply condemned" in a.body
    assert a.first_seen == T0  # first_seen survives the update


def test_same_story_under_another_name_is_a_duplicate(
    settings: Settings, engine: Engine, seeds: Path
) -> None:
    ingest(settings, engine, now=T0)
    shutil.copy(seeds / "000_005a04db57d134a5.txt", seeds / "mirror.txt")
    report = {r.source: r for r in ingest(settings, engine, now=T0 + timedelta(hours=1))}
    assert report["seed:mirror.txt"].duplicates == 1
    assert report["seed:mirror.txt"].new == 0
    with engine.connect() as conn:
        shown = store.list_articles(conn)
        everything = store.list_articles(conn, include_duplicates=True)
        dups = store.duplicates_of(conn, [a.id for a in shown])
    assert len(shown) == 2 and len(everything) == 3
    original = next(a for a in shown if a.publisher == "PRISM News")
    assert [d.source for d in dups[original.id]] == ["seed:mirror.txt"]


def test_bad_files_are_reported_and_the_rest_go_on(
    settings: Settings, engine: Engine, seeds: Path
) -> None:
    ingest(settings, engine, now=T0)
    (seeds / "empty.txt").write_bytes(b"")
    (seeds / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 500)
    # a seed that parsed before and is now broken keeps its stored article
    (seeds / "001_016901a4378f2971.txt").write_bytes(b"\n\n")
    reports = {r.source: r for r in ingest(settings, engine, now=T0 + timedelta(hours=1))}
    assert reports["seed:empty.txt"].failed == 1 and "empty" in (
        reports["seed:empty.txt"].error or ""
    )
    assert reports["seed:binary.txt"].failed == 1
    assert reports["seed:001_016901a4378f2971.txt"].failed == 1
    assert reports["seed:000_005a04db57d134a5.txt"].unchanged == 1
    assert count(engine) == 2
    with engine.connect() as conn:
        row = (
            conn.execute(select(sources).where(sources.c.key == "seed:empty.txt")).mappings().one()
        )
    assert row["last_status"] == "error" and "empty" in row["last_error"]


def test_missing_seeds_folder_is_reported(
    tmp_path: Path, engine: Engine, settings: Settings
) -> None:
    reports = ingest(settings, engine, seeds_dir=tmp_path / "nowhere", only_given=True, now=T0)
    assert len(reports) == 1 and reports[0].failed == 1
    assert "does not exist" in (reports[0].error or "")
