"""`briefing article ID --explain` and `--set FIELD=VALUE --by NAME` on a real SQLite file:
the explanation of each field, the corrections checked field by field, recorded (who,
when, old and new value), winning over a re-ingest of the same seed, shown in
`article ID --json`, making the field's confidence 1.0; an open issue following the
correction (an approved one back to draft), and the preview's lint flagging what is
uncertain until it is corrected."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from briefing.cli import main
from briefing.config import Settings, load_settings
from briefing.corrections import InvalidCorrection, check
from briefing.services import issues as editorial
from briefing.services.ingest import ingest
from briefing.store import articles as store
from briefing.store import issues as issue_store
from briefing.store.db import open_engine

REPO = Path(__file__).parent.parent
HUMAN_SEED = "001_016901a4378f2971.txt"  # publisher NVNK, read with confidence 0.35
HUMAN_TITLE = "Why North Korea Fears Japan’s Record Defense Buildup"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
LATE_PARAGRAPH = (
    "Analysts in Seoul said the statement was the harshest the North had issued about "
    "Japan’s defense spending in years, and that more criticism was likely to follow."
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    return load_settings(
        REPO / "briefing.toml",
        env={},
        overrides={
            "storage": {"url": f"sqlite:///{tmp_path}/b.db"},
            "seeds": {"folder": str(tmp_path / "seeds")},
        },
    )


@pytest.fixture
def engine(settings: Settings) -> Engine:
    engine = open_engine(settings.database_url)
    ingest(settings, engine, now=T0)
    return engine


@pytest.fixture
def cli(settings: Settings, engine: Engine, capsys: pytest.CaptureFixture[str]) -> object:
    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as info:
            main(["--config", str(REPO / "briefing.toml"), "--db", settings.database_url, *args])
        out, err = capsys.readouterr()
        return int(info.value.code or 0), out, " ".join(err.split())

    return run


def human_id(engine: Engine) -> str:
    with engine.connect() as conn:
        return next(a.id for a in store.list_articles(conn) if a.title == HUMAN_TITLE)


# -- --explain ----------------------------------------------------------------------------------


def test_explain_says_why_each_field_was_chosen_and_what_was_dropped(engine: Engine, cli) -> None:
    code, out, _ = cli("article", human_id(engine)[:8], "--explain")
    assert code == 0
    flat = " ".join(out.split())
    assert f"title: '{HUMAN_TITLE}' confidence 0.99" in flat.replace('"', "'")
    assert "because the headline-like line that best heads the body" in flat
    assert "from line 3: +2.6 log words" in flat  # the features that won
    assert "runner-up 'Jan 7' (line 5" in flat  # the candidate it beat
    assert "published: 2026-01-07 confidence 0.98" in flat
    assert "publisher: 'NVNK' confidence 0.35 UNCERTAIN" in flat
    assert "because the line heuristics' reading" in flat
    assert "author: none confidence 0.00" in flat
    assert "dropped lines 36-40 (related): after the body: a related heading" in flat
    assert "body: 298 words" in flat


def test_the_plain_view_flags_an_uncertain_field_and_says_how_to_fix_it(
    engine: Engine, cli
) -> None:
    article_id = human_id(engine)
    _, out, _ = cli("article", article_id)
    flat = " ".join(out.split())
    assert "publisher uncertain (0.35)" in flat
    assert f"briefing article {article_id[:10]} --set publisher=... --by NAME" in flat


# -- --set --------------------------------------------------------------------------------------


def test_set_records_each_correction_and_makes_its_confidence_one(engine: Engine, cli) -> None:
    article_id = human_id(engine)
    code, _, err = cli(
        "article",
        article_id[:8],
        "--set",
        "publisher=NK News",
        "--set",
        "author=Jeongmin Kim",
        "--set",
        "published=2026-01-06",
        "--set",
        "ai_generated=true",
        "--by",
        "Ann Editor",
    )
    assert code == 0, err
    assert "publisher: 'NVNK' -> 'NK News' (corrected by Ann Editor)" in err
    code, out, _ = cli("article", article_id, "--json")
    doc = json.loads(out)
    assert (doc["publisher"], doc["author"], doc["published"], doc["ai_generated"]) == (
        "NK News",
        "Jeongmin Kim",
        "2026-01-06",
        True,
    )
    assert doc["confidence"] == {"title": 0.99, "author": 1.0, "published": 1.0, "publisher": 1.0}
    assert doc["confidence_reasons"]["publisher"] == "corrected by Ann Editor"
    assert doc["uncertain"] == []
    fixes = {c["field"]: c for c in doc["corrections"]}
    assert set(fixes) == {"publisher", "author", "published", "ai_generated"}
    assert fixes["publisher"]["previous"] == "NVNK" and fixes["publisher"]["value"] == "NK News"
    assert fixes["published"] == {
        "field": "published",
        "value": "2026-01-06",
        "previous": "2026-01-07",
        "by": "Ann Editor",
        "at": fixes["published"]["at"],
    }
    assert datetime.fromisoformat(fixes["published"]["at"]).tzinfo is not None
    assert fixes["author"]["previous"] is None and fixes["ai_generated"]["value"] is True
    _, out, _ = cli("article", article_id, "--explain")
    flat = " ".join(out.split())
    assert "publisher: 'NK News' confidence 1.00 corrected by Ann Editor on" in flat
    assert "(was 'NVNK') the extractor read 'NVNK' (confidence 0.35)" in flat


@pytest.mark.parametrize(
    ("assignment", "message", "hint"),
    [
        ("colour=red", "'colour' is not a field that can be corrected",
         "the fields are: title, author, published, publisher, ai_generated"),
        ("published=07/01/2026", "published='07/01/2026' is not a date in ISO form", "YYYY-MM-DD"),
        ("published=2026-02-30", "is not a date in ISO form", "YYYY-MM-DD"),
        ("ai_generated=perhaps", "ai_generated='perhaps' is not true or false", "true or false"),
        ("title=", "the title cannot be empty", "give the real title"),
        ("title=\x00\x07", "has no text left once cleaned", ""),
        ("title", "has no '='", "FIELD=VALUE"),
    ],
)  # fmt: skip
def test_a_bad_correction_is_refused_naming_the_field_and_nothing_changes(
    engine: Engine, cli, assignment: str, message: str, hint: str
) -> None:
    article_id = human_id(engine)
    code, _, err = cli(
        "article", article_id, "--set", "publisher=Fine", "--set", assignment, "--by", "A"
    )
    assert code == 1
    assert f"error: {message}" in err or message in err
    assert hint in err
    with engine.connect() as conn:
        a = store.get_article(conn, article_id)
    assert a is not None and a.publisher == "NVNK"  # the good --set was not half-applied
    _, out, _ = cli("article", article_id, "--json")
    assert json.loads(out)["corrections"] == []


def test_set_needs_by_and_by_needs_set_and_a_field_is_set_once(engine: Engine, cli) -> None:
    article_id = human_id(engine)
    code, _, err = cli("article", article_id, "--set", "title=X Y")
    assert code == 1 and "--set needs --by" in err
    code, _, err = cli("article", article_id, "--by", "Ann")
    assert code == 1 and "--by goes with --set" in err
    code, _, err = cli(
        "article", article_id, "--set", "title=A b", "--set", "title=C d", "--by", "Ann"
    )
    assert code == 1 and "title is set twice" in err
    code, _, err = cli("article", "ffffffffff", "--set", "title=A b", "--by", "Ann")
    assert code == 1 and "no article with id 'ffffffffff'" in err


def test_a_title_is_cleaned_like_any_header_bound_text() -> None:
    assert (
        check("title", "  Big\r\nBcc: x@evil.example\t news \u202e ")
        == "Big Bcc: x@evil.example news"
    )
    assert check("publisher", "NK\x00 News") == "NK News"
    assert check("author", "") is None  # cleared: the page names no author
    assert check("published", " ") is None
    with pytest.raises(InvalidCorrection):
        check("title", "\r\n")


def test_corrections_win_over_a_re_ingest_of_the_same_seed(
    settings: Settings, engine: Engine, cli
) -> None:
    article_id = human_id(engine)
    cli("article", article_id, "--set", "title=The real headline", "--set", "author=", "--by", "Bo")
    [first, second] = ingest(settings, engine, now=T0)
    assert (first.unchanged, second.unchanged) == (1, 1)  # the corrected rows are what ingest makes
    seed = Path(settings.seeds_dir) / HUMAN_SEED
    seed.write_text(
        seed.read_text("utf-8").replace("Related Posts", f"{LATE_PARAGRAPH}\n\nRelated Posts"),
        "utf-8",
    )
    reports = {r.source: r for r in ingest(settings, engine, now=T0)}
    assert reports[f"seed:{HUMAN_SEED}"].updated == 1
    with engine.connect() as conn:
        a = store.get_article(conn, article_id)
    assert a is not None
    assert a.title == "The real headline" and a.author is None  # still as corrected
    assert LATE_PARAGRAPH in a.body  # the rest follows the file
    assert a.confidence["title"].reason == "corrected by Bo"


def test_confirming_a_value_is_recorded_and_makes_it_sure(engine: Engine, cli) -> None:
    article_id = human_id(engine)
    code, _, err = cli("article", article_id, "--set", "publisher=NVNK", "--by", "Ann")
    assert code == 0, err
    _, out, _ = cli("article", article_id, "--json")
    doc = json.loads(out)
    assert doc["confidence"]["publisher"] == 1.0 and doc["uncertain"] == []
    assert doc["corrections"][0]["previous"] == doc["corrections"][0]["value"] == "NVNK"


# -- issues follow --------------------------------------------------------------------------------


def test_correcting_an_article_of_an_approved_issue_sends_it_back_to_draft_and_the_preview_shows_it(
    settings: Settings, engine: Engine, cli, tmp_path: Path
) -> None:
    article_id = human_id(engine)
    issue = editorial.draft(settings, engine)
    editorial.approve(engine, issue.id, by="Ann")
    code, _, err = cli(
        "article", article_id, "--set", "title=Japan doubles its defence budget", "--by", "Bo"
    )
    assert code == 0 and f"issue {issue.id} was approved: it is a draft again" in err
    with engine.connect() as conn:
        now = issue_store.get_issue(conn, issue.id)
        events = issue_store.events(conn, issue.id)
    assert now.state == "draft" and now.approved_by is None
    assert [e["action"] for e in events][-2:] == ["article_corrected", "draft"]
    assert events[-2]["detail"] == {"article": article_id, "fields": ["title"]}
    story = next(s for s in now.stories if s.article_ids[0] == article_id)
    assert story.title == "Japan doubles its defence budget"
    code, _, _ = cli("preview", str(issue.id), "--out", str(tmp_path / "p"), "--json")
    assert code == 0
    text_part = (tmp_path / "p" / "issue.txt").read_text("utf-8")
    assert "Japan doubles its defence budget" in " ".join(text_part.split())
    assert HUMAN_TITLE not in text_part


def test_ai_generated_false_takes_the_label_off(settings: Settings, engine: Engine, cli) -> None:
    with engine.connect() as conn:
        ai = next(a for a in store.list_articles(conn) if a.ai_generated)
    cli("article", ai.id, "--set", "ai_generated=false", "--by", "Ann")
    with engine.connect() as conn:
        a = store.get_article(conn, ai.id)
    assert a is not None and not a.ai_generated and a.ai_disclosure is None


def test_preview_lint_flags_uncertain_fields_until_they_are_corrected(
    settings: Settings, engine: Engine, cli, tmp_path: Path
) -> None:
    article_id = human_id(engine)
    issue = editorial.draft(settings, engine)
    _, out, _ = cli("preview", str(issue.id), "--out", str(tmp_path / "p"), "--json")
    flagged = [f for f in json.loads(out)["lint"] if f["check"] == "uncertain"]
    number = next(
        i for i, s in enumerate(issue.included, start=1) if s.article_ids[0] == article_id
    )
    assert {"level": "warning", "check": "uncertain", "message":
            f"story {number}: publisher uncertain (0.35): 'NVNK' — check it or correct it with "
            f"`briefing article {article_id[:10]} --set publisher=... --by NAME`"} in flagged  # fmt: skip
    for story in issue.included:
        cli("article", story.article_ids[0], "--set", "publisher=Checked", "--by", "Ann")
    _, out, _ = cli("preview", str(issue.id), "--out", str(tmp_path / "p"), "--json")
    [finding] = [f for f in json.loads(out)["lint"] if f["check"] == "uncertain"]
    assert finding["level"] == "ok"


def test_corrections_win_over_a_re_ingest_of_the_same_feed(
    settings: Settings, engine: Engine, cli, tmp_path: Path
) -> None:
    feed = tmp_path / "rss2.xml"
    shutil.copy(Path(__file__).parent / "data" / "feeds" / "rss2.xml", feed)
    ingest(settings, engine, feeds=[str(feed)], only_given=True, keep_feeds=False, now=T0)
    with engine.connect() as conn:
        rates = next(a for a in store.list_articles(conn) if a.guid == "rates-2024-03")
    assert (
        rates.author == "Jane Doe" and rates.confidence["author"].reason == "declared by the feed"
    )
    code, _, err = cli("article", rates.id, "--set", "author=Jane Q. Doe", "--by", "Ann")
    assert code == 0, err
    feed.write_text(
        feed.read_text("utf-8").replace("Bond prices slid as a result.", "Bond prices fell hard."),
        "utf-8",
    )
    [report] = ingest(
        settings, engine, feeds=[str(feed)], only_given=True, keep_feeds=False, now=T0
    )
    assert report.updated == 1 and report.new == 0
    with engine.connect() as conn:
        again = store.get_article(conn, rates.id)
    assert again is not None
    assert again.author == "Jane Q. Doe" and "Bond prices fell hard." in again.body
    assert again.confidence["author"].value == 1.0
