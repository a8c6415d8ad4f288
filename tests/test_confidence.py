"""Each stored article says how sure ingest is of its title, author, date and publisher,
and why: seeds from the extraction as seed ingest settled it, feeds as declared by the
feed. Kept in a real SQLite file (migration 0010), shown by `articles --json` and
`article ID --json`, and filled in for rows stored before 0010 by the next ingest."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, text

from briefing.cli import main
from briefing.config import Settings, load_settings
from briefing.services.ingest import ingest
from briefing.sources.feed import parse_feed
from briefing.sources.seed import SETTLED_CONFIDENCE, SeedParser
from briefing.store import articles as store
from briefing.store.db import alembic_config, open_engine

REPO = Path(__file__).parent.parent
SEEDS = REPO / "seeds"
FEEDS = Path(__file__).parent / "data" / "feeds"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
FIELDS = {"title", "author", "published", "publisher"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
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


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


# -- seeds --------------------------------------------------------------------------------------


def test_a_seed_carries_the_confidence_and_explanation_of_what_was_stored() -> None:
    a = SeedParser().parse_file(SEEDS / "001_016901a4378f2971.txt")
    assert set(a.confidence) == FIELDS
    assert a.extraction is not None and a.extraction["kind"] == "text"
    fields = a.extraction["fields"]
    for name in FIELDS:  # the explanation is of the stored value, with the same confidence
        stored = getattr(a, name)
        shown = stored.isoformat() if hasattr(stored, "isoformat") else stored
        assert fields[name]["value"] == shown, name
        assert fields[name]["confidence"] == a.confidence[name].value, name
    assert a.confidence["title"].value >= 0.9
    # the publisher is the heuristics' reading that the extractor only ranked as a
    # candidate under its own threshold: flagged, with the reason
    assert a.publisher == "NVNK"
    assert a.confidence["publisher"].value == SETTLED_CONFIDENCE["runner-up"]
    assert "line heuristics" in a.confidence["publisher"].reason
    assert a.uncertain() == ["publisher"]


def test_front_matter_is_the_editors_word_confidence_one() -> None:
    text_ = (SEEDS / "001_016901a4378f2971.txt").read_text("utf-8")
    dump = '+++\npublisher = "North Korea News Desk"\npublished = 2026-01-08\n+++\n' + text_
    a = SeedParser().parse_text(dump, source="seed:x.txt")
    assert a.publisher == "North Korea News Desk"
    for name in ("publisher", "published"):
        assert a.confidence[name].value == 1.0
        assert a.confidence[name].reason == "set in the seed's front matter"
    choice = a.extraction["fields"]["publisher"]
    assert choice["chosen"]["source"] == "front matter"
    assert choice["runner_up"]["value"] == "NVNK"  # what the extractor would have said
    assert a.uncertain() == []


# -- feeds --------------------------------------------------------------------------------------


def test_feed_items_are_declared_by_the_feed() -> None:
    items, _ = parse_feed(
        (FEEDS / "rss2.xml").read_bytes(), source="feed:rss2.xml", url="https://x.example/f"
    )
    item = items[0]
    assert item.confidence["title"].value == 0.95
    assert item.confidence["title"].reason == "declared by the feed"
    assert item.confidence["publisher"].reason == "declared by the feed (its title)"
    if item.author is None:
        assert item.confidence["author"].value == 0.0
    named, _ = parse_feed(
        (FEEDS / "rss2.xml").read_bytes(),
        source="feed:rss2.xml",
        url="https://x.example/f",
        name="The Name We Chose",
    )
    assert named[0].confidence["publisher"].value == 1.0
    assert named[0].extraction is None


def test_a_feed_item_without_a_title_gets_one_flagged_uncertain() -> None:
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://t.example/</link>'
        b"<item><link>https://t.example/1</link><description>The council voted on Tuesday to "
        b"close the old bridge to cars from next spring.</description></item></channel></rss>"
    )
    [item], _ = parse_feed(rss, source="feed:t", url="https://t.example/f")
    assert item.title.startswith("The council voted")
    assert item.confidence["title"].value < 0.5
    assert item.uncertain() == ["title"]


# -- stored, shown, filled in -------------------------------------------------------------------


def test_articles_json_and_article_json_show_confidence_with_the_old_fields_unchanged(
    settings: Settings, engine: Engine, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ingest(settings, engine, now=T0)
    db = ("--db", settings.database_url)
    code, out, _ = run(capsys, *db, "articles", "--json")
    assert code == 0
    listed = json.loads(out)
    old = {"id", "title", "url", "publisher", "author", "published", "dek", "summary", "body"}
    old |= {"ai_generated", "ai_disclosure", "labels", "section", "reading_time_min", "source"}
    old |= {"source_kind", "guid", "first_seen", "word_count", "duplicate_of", "duplicates"}
    old |= {"notes", "topics", "topic_matches", "updated"}
    for a in listed:
        assert old <= set(a)
        assert set(a["confidence"]) == FIELDS
        assert all(v is None or 0 <= v <= 1 for v in a["confidence"].values())
        assert a["uncertain"] == [f for f in a["uncertain"] if a["confidence"][f] < 0.5]
        assert a["corrections"] == []
        assert "extraction" not in a  # the full explanation is `article ID --json`'s
    nvnk = next(a for a in listed if a["publisher"] == "NVNK")
    assert nvnk["uncertain"] == ["publisher"]
    assert "line heuristics" in nvnk["confidence_reasons"]["publisher"]
    code, out, _ = run(capsys, *db, "article", nvnk["id"][:8], "--json")
    one = json.loads(out)
    assert one["confidence"] == nvnk["confidence"]
    assert one["extraction"]["fields"]["publisher"]["value"] == "NVNK"
    assert one["extraction"]["dropped"]


def test_rows_stored_before_migration_0010_are_filled_in_by_the_next_ingest(
    settings: Settings, engine: Engine
) -> None:
    ingest(settings, engine, now=T0)
    cfg = alembic_config(engine)
    # what an older version stored: the hash of what a reader sees, nothing more
    parsed = [SeedParser().parse_file(p) for p in sorted(SEEDS.iterdir())]
    hashes = {a.id: a.content_hash for a in parsed}
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0009")
        for article_id, value in hashes.items():
            conn.execute(
                text("UPDATE articles SET content_hash = :h WHERE id = :id"),
                {"h": value, "id": article_id},
            )
    engine.dispose()
    engine = open_engine(settings.database_url)  # upgrades to 0010 again
    with engine.connect() as conn:
        before = store.list_articles(conn)
        assert {a.id for a in before} == set(hashes)
        assert all(a.confidence == {} and a.extraction is None for a in before)
    reports = ingest(settings, engine, now=T0)
    assert [(r.updated, r.new) for r in reports] == [(1, 0), (1, 0)]  # updated, not duplicated
    with engine.connect() as conn:
        after = store.list_articles(conn)
    assert all(set(a.confidence) == FIELDS and a.extraction for a in after)
    assert [(r.unchanged) for r in ingest(settings, engine, now=T0)] == [1, 1]


def test_an_article_stored_before_0010_shows_confidence_null_and_says_why(
    settings: Settings, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(settings, engine, now=T0)
    with engine.begin() as conn:
        conn.execute(text("UPDATE articles SET confidence = NULL, extraction = NULL"))
    db = ("--db", settings.database_url)
    _, out, _ = run(capsys, *db, "articles", "--json")
    first: dict[str, Any] = json.loads(out)[0]
    assert first["confidence"] == dict.fromkeys(FIELDS)
    assert first["uncertain"] == []
    _, out, _ = run(capsys, *db, "article", first["id"], "--explain")
    assert "ingest its source again" in " ".join(out.split())


# -- a dump that carries its page's URL keeps it ------------------------------------------------

DUMP = (SEEDS / "001_016901a4378f2971.txt").read_text("utf-8")


def test_a_dump_whose_front_matter_names_its_url_keeps_it() -> None:
    a = SeedParser().parse_text(
        '+++\nurl = "https://nvnk.example/a?utm_source=x"\n+++\n' + DUMP, source="s"
    )
    assert a.url == "https://nvnk.example/a"


@pytest.mark.parametrize("where", ["top", "bottom"])
def test_a_dump_whose_text_shows_its_url_keeps_it(where: str) -> None:
    line = "https://nvnk.example/north-korea-japan-defense?utm_medium=email"
    text_ = f"{line}\n{DUMP}" if where == "top" else f"{DUMP}\n{line}\n"
    a = SeedParser().parse_text(text_, source="s")
    assert a.url == "https://nvnk.example/north-korea-japan-defense"
    assert line not in a.body
    plain = SeedParser().parse_text(DUMP, source="s")
    assert plain.url is None and a.id != plain.id  # the id follows the URL, as for a feed item


def test_a_url_given_with_the_dump_comes_before_the_one_it_names() -> None:
    a = SeedParser().parse_text(
        '+++\nurl = "https://old.example/a"\n+++\n' + DUMP, source="s", url="https://nvnk.example/b"
    )
    assert a.url == "https://nvnk.example/b"
