"""The subscriber list: CSV import (bad rows by line, --strict, encodings, extra columns),
suppression over re-import, forgetting, export neutralization and round trip, the event
trail, `subscribers show --json`, `subscribers add` and who receives an issue.

The CSV corpus is tests/data/subscribers/*.csv (see the line numbers asserted below).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select, text, update

from briefing.cli import main
from briefing.clock import utcnow
from briefing.config import Settings, load_settings
from briefing.email_address import email_hash, suppression_hash
from briefing.errors import BriefingError
from briefing.services import erasure, subscriptions
from briefing.services.keyring import suppression_key
from briefing.store import subscribers as store
from briefing.store.db import open_engine
from briefing.store.subscribers_schema import subscriber_events, subscribers, suppressions
from briefing.subscriber_csv import neutralize, read_csv
from briefing.tokens import verify

REPO = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data" / "subscribers"
SECRET = "test-secret-" + "s" * 24
TOPIC = "japan-defense-dprk"
OTHER = "korea-economy"
CLI = Callable[..., tuple[int, str, str]]

# mixed.csv: the good rows and the bad ones with the reason each must give
MIXED_GOOD = ["ann@example.org", "bo@example.org", "hal@example.org"]
MIXED_BAD = {
    4: "not a valid email address",  # no @
    5: "not a valid email address",  # no dot in the domain
    6: "not a valid email address",  # two @
    7: "not a valid email address",  # a space
    8: "not a valid email address",  # no local part
    9: "no email address",  # empty cell
    11: "repeats line 2",  # Ann@EXAMPLE.org: domain case only
    12: "repeats line 2",  # ANN@example.org: local-part case only
    13: "unknown topic",  # cooking
    14: "not an IANA timezone",  # Mars/Olympus_Mons
}
EXTRA_TOPIC = f"""
[[topics]]
slug = "{OTHER}"
name = "Korean economy"
min_score = 2
[topics.terms]
"won" = 1
"""


# --- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The repo's config plus a second topic; the signing secret in the environment."""
    monkeypatch.setenv("BRIEFING_SECRET", SECRET)
    path = tmp_path / "briefing.toml"
    path.write_text((REPO / "briefing.toml").read_text() + EXTRA_TOPIC)
    return path


@pytest.fixture
def db(database_url: str) -> str:
    return database_url


@pytest.fixture
def settings(config: Path, db: str) -> Settings:
    return load_settings(
        config, env={"BRIEFING_SECRET": SECRET}, overrides={"storage": {"url": db}}
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    made = open_engine(settings.database_url)
    yield made
    made.dispose()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], config: Path, db: str) -> CLI:
    """cli(*args) -> (exit code, stdout, stderr), against the test's config and database."""

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as info:
            main(["--config", str(config), "--db", db, *args])
        out, err = capsys.readouterr()
        return int(info.value.code or 0), out, " ".join(err.split())

    return run


def rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [
            dict(r) for r in conn.execute(select(subscribers).order_by(subscribers.c.id)).mappings()
        ]


def status_of(engine: Engine, email: str) -> str | None:
    with engine.connect() as conn:
        sub = store.by_email(conn, email)
    return sub.status if sub else None


def actions(engine: Engine, email: str) -> list[str]:
    sub = subscriptions.get(engine, email)
    return [e["action"] for e in subscriptions.history(engine, sub)]


def all_cells(engine: Engine) -> str:
    """Every value in every table of the database, as one lower-cased string."""
    out: list[str] = []
    with engine.connect() as conn:
        tables = inspect(conn).get_table_names()
        for table in tables:
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                out.extend(str(v) for v in row)
    return "\n".join(out).lower()


def copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    target.write_bytes((DATA / name).read_bytes())
    return target


# --- read_csv and import: bad rows by line, good rows kept ------------------------------------


def test_read_csv_reports_each_bad_row_with_line_and_reason() -> None:
    parsed = read_csv(
        (DATA / "mixed.csv").read_bytes(), source="mixed.csv", known_topics=[TOPIC, OTHER]
    )
    assert [r.email for r in parsed.rows] == MIXED_GOOD
    assert [r.line for r in parsed.rows] == [2, 3, 15]  # the blank line 10 still counts
    errors = dict(parsed.errors)
    assert sorted(errors) == sorted(MIXED_BAD)
    for line, reason in MIXED_BAD.items():
        assert reason in errors[line], (line, errors[line])
    bo = parsed.rows[1]
    assert bo.name == "Bo Reader" and bo.topics == (TOPIC,) and bo.timezone == "Asia/Tokyo"
    assert parsed.rows[0].topics is None  # empty: every topic


def test_import_keeps_good_rows_and_reports_bad_ones(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    report = subscriptions.import_file(settings, engine, copy("mixed.csv", tmp_path))
    assert report.committed and report.added == 3 and report.existing == 0
    assert sorted(line for line, _ in report.errors) == sorted(MIXED_BAD)
    stored = rows(engine)
    assert [r["email"] for r in stored] == MIXED_GOOD
    assert {r["status"] for r in stored} == {"active"}
    assert all(r["consent_source"] == "import:mixed.csv" for r in stored)
    # one subscriber per address whatever the case, even across imports
    (tmp_path / "again.csv").write_text("email\nANN@Example.ORG\nHal@EXAMPLE.org\n")
    again = subscriptions.import_file(settings, engine, tmp_path / "again.csv")
    assert again.added == 0 and again.existing == 2
    assert len(rows(engine)) == 3


def test_cli_import_reports_lines_and_json(cli: CLI, tmp_path: Path) -> None:
    path = copy("mixed.csv", tmp_path)
    code, out, err = cli("subscribers", "import", str(path))
    assert code == 0
    summary = " ".join(out.split())
    assert "3 added, 0 already on the list, 0 suppressed, 10 bad row(s)" in summary
    for line in MIXED_BAD:
        assert f"line {line}:" in err
    assert "repeats line 2" in err
    code, out, _ = cli("subscribers", "import", str(path), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["added"] == 0 and doc["existing"] == 3 and doc["committed"] is True
    assert {e["line"]: e["reason"] for e in doc["errors"]}[13].startswith("unknown topic")


def test_strict_imports_nothing_when_any_row_is_bad(
    cli: CLI, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    report = subscriptions.import_file(settings, engine, copy("mixed.csv", tmp_path), strict=True)
    assert not report.committed and report.added == 0 and len(report.errors) == 10
    assert rows(engine) == []
    code, _, err = cli("subscribers", "import", str(tmp_path / "mixed.csv"), "--strict")
    assert code == 1
    assert "error:" in err and "nothing imported (--strict)" in err and "line 4:" in err
    assert rows(engine) == []
    # a clean file passes --strict whole
    code, _, _ = cli("subscribers", "import", str(copy("good.csv", tmp_path)), "--strict")
    assert code == 0
    assert [r["email"] for r in rows(engine)] == ["ivy@example.org", "jon@example.org"]


def test_latin1_file_is_decoded_with_a_note(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    report = subscriptions.import_file(settings, engine, copy("latin1.csv", tmp_path))
    assert report.added == 5 and report.errors == []
    assert any("not UTF-8" in note for note in report.notes), report.notes
    names = {r["email"]: r["name"] for r in rows(engine)}
    assert names == {
        "jose@example.org": "José Núñez",
        "zoe@example.org": "Zoë Brontë",
        "francois@example.org": "François Müller",
        "soren@example.org": "Søren Kierkegård",
        "renee@example.org": "Renée Lefèvre",
    }


def test_extra_columns_are_ignored_with_a_note(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    report = subscriptions.import_file(settings, engine, copy("extra_columns.csv", tmp_path))
    assert report.added == 2 and report.errors == []
    assert report.notes == ["columns ignored: company, phone"]
    kim, lee = rows(engine)
    assert (kim["email"], kim["name"], kim["topics"], kim["timezone"]) == (
        "kim@example.org",
        "Kim Extra",
        [TOPIC],
        "Asia/Seoul",
    )
    assert (lee["name"], lee["topics"], lee["timezone"]) == ("Lee Extra", None, None)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "is empty"),
        ("no_header.csv", "line 1: no 'email' column"),
        ("no_email_column.csv", "line 1: no 'email' column in the header (name, mail, topics)"),
    ],
)
def test_files_without_a_usable_header_are_refused(
    cli: CLI, settings: Settings, engine: Engine, tmp_path: Path, name: str, message: str
) -> None:
    path = copy(name, tmp_path)
    with pytest.raises(BriefingError) as info:
        subscriptions.import_file(settings, engine, path)
    assert message in info.value.message
    code, out, err = cli("subscribers", "import", str(path))
    assert code == 1 and out == ""
    assert f"error: {path}" in err and message in err and "hint:" in err
    assert rows(engine) == []


# --- suppression wins; forgetting keeps no personal data ------------------------------------


def _suppressed_setup(settings: Settings, engine: Engine) -> None:
    subscriptions.add(settings, engine, "unsub@example.org", name="Una")
    subscriptions.remove(engine, "unsub@example.org")
    subscriptions.add(
        settings, engine, "forget@example.org", name="Fred Forgotten", timezone="Europe/Oslo"
    )
    erasure.forget(settings, engine, "forget@example.org")
    # a bounce processor: the row marked bounced and the address on the suppression list
    subscriptions.add(settings, engine, "bounce@example.org", name="Bea")
    with engine.begin() as conn:
        sub = store.get(conn, "bounce@example.org")
        store.update_subscriber(conn, sub.id, utcnow(), status="bounced")
        store.suppress(
            conn, "bounce@example.org", "bounced", utcnow(), suppression_key(settings, engine)
        )


def test_suppressed_addresses_stay_out_when_reimported(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    _suppressed_setup(settings, engine)
    report = subscriptions.import_file(settings, engine, copy("suppressed.csv", tmp_path))
    assert report.added == 1 and report.errors == []
    assert status_of(engine, "unsub@example.org") == "unsubscribed"
    assert status_of(engine, "bounce@example.org") == "bounced"
    assert status_of(engine, "forget@example.org") is None  # not re-created in clear
    assert any(
        n.startswith("line 4:") and "suppression list (forgotten)" in n for n in report.notes
    ), report.notes
    everyone = {s.email for s in subscriptions.recipients(engine, {TOPIC})}
    assert everyone == {"fresh@example.org"}


def test_suppression_list_alone_blocks_an_import(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    """An address known only as a hash (e.g. a bounce from an earlier list) is not added."""
    with engine.begin() as conn:
        store.suppress(
            conn, "bounce@example.org", "bounced", utcnow(), suppression_key(settings, engine)
        )
    report = subscriptions.import_file(settings, engine, copy("suppressed.csv", tmp_path))
    assert report.suppressed == 1 and report.added == 3
    assert any("line 3:" in n and "(bounced)" in n for n in report.notes), report.notes
    assert status_of(engine, "bounce@example.org") is None


def test_a_large_import_is_looked_up_and_inserted_batch_by_batch(
    config: Path, db_url: str, tmp_path: Path
) -> None:
    """More rows than one batch (subscriptions.IMPORT_BATCH), on SQLite and PostgreSQL:
    addresses already on the list, gone from it, or known only as a hash are found in
    whichever batch they fall; each added row gets its own event (its line) and token,
    and the notes keep the file's order."""
    settings = load_settings(
        config, env={"BRIEFING_SECRET": SECRET}, overrides={"storage": {"url": db_url}}
    )
    engine = open_engine(settings.database_url)
    try:
        n = subscriptions.IMPORT_BATCH * 2 + 7
        subscriptions.add(settings, engine, "Reader00003@example.org")
        subscriptions.add(settings, engine, f"reader{n - 2:05d}@example.org")
        subscriptions.add(settings, engine, f"reader{n // 2:05d}@example.org")
        subscriptions.remove(engine, f"reader{n // 2:05d}@example.org")
        with engine.begin() as conn:
            key = suppression_key(settings, engine)
            store.suppress(conn, f"reader{n - 1:05d}@example.org", "bounced", utcnow(), key)
        path = tmp_path / "many.csv"
        path.write_text(
            "email,name\n" + "".join(f"reader{i:05d}@example.org,Reader {i}\n" for i in range(n)),
            encoding="utf-8",
        )

        report = subscriptions.import_file(settings, engine, path)

        assert (report.added, report.existing, report.suppressed) == (n - 4, 2, 2), report
        assert report.notes == [
            f"line {n // 2 + 2}: reader{n // 2:05d}@example.org not imported: unsubscribed",
            f"line {n + 1}: reader{n - 1:05d}@example.org not imported: "
            "on the suppression list (bounced)",
        ]
        with engine.connect() as conn:
            imported = conn.execute(
                select(subscribers.c.email, subscribers.c.token_id, subscriber_events.c.detail)
                .join(subscriber_events, subscriber_events.c.subscriber_id == subscribers.c.id)
                .where(subscriber_events.c.action == "imported")
            ).all()
        assert len(imported) == n - 4
        assert len({r.token_id for r in imported}) == n - 4
        lines = {r.email: r.detail["line"] for r in imported}
        assert lines["reader00000@example.org"] == 2
        assert lines[f"reader{n - 3:05d}@example.org"] == n - 1
        assert "reader00003@example.org" not in lines
        assert status_of(engine, f"reader{n - 1:05d}@example.org") is None
        assert status_of(engine, f"reader{n // 2:05d}@example.org") == "unsubscribed"
        again = subscriptions.import_file(settings, engine, path)
        assert (again.added, again.existing, again.suppressed) == (0, n - 2, 2), again
    finally:
        engine.dispose()


def test_forgotten_address_is_not_kept_in_clear(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    subscriptions.import_file(settings, engine, copy("mixed.csv", tmp_path))
    ann = subscriptions.get(engine, "ann@example.org")
    erasure.forget(settings, engine, "ANN@example.org")
    with engine.connect() as conn:
        row = conn.execute(select(subscribers).where(subscribers.c.id == ann.id)).mappings().one()
        hashes = [dict(r) for r in conn.execute(select(suppressions)).mappings()]
    assert row["email"] is None and row["email_key"] is None and row["name"] is None
    assert row["status"] == "forgotten" and row["timezone"] is None
    keyed = suppression_hash(suppression_key(settings, engine), "ann@example.org")
    assert hashes == [{"email_hash": keyed, "reason": "forgotten", "at": hashes[0]["at"]}]
    assert keyed != email_hash("ann@example.org")  # keyed: no dictionary reverses it
    assert re.fullmatch(r"[0-9a-f]{64}", hashes[0]["email_hash"])
    dump = all_cells(engine)
    assert "ann@example.org" not in dump and "ann example" not in dump
    assert "bo@example.org" in dump  # the scan does see addresses
    with pytest.raises(BriefingError):
        subscriptions.get(engine, "ann@example.org")


def test_forgetting_a_web_subscriber_leaves_no_personal_data(
    settings: Settings, engine: Engine
) -> None:
    """The form records IP and user agent with the consent; erasure must remove them too
    (erasure.forget: "the events keep no personal data")."""
    sub = subscriptions.request_subscription(
        settings,
        engine,
        "web.person@example.org",
        name="Wendy Web",
        topics=None,
        ip="203.0.113.77",
        user_agent="Mozilla/5.0 (WendysLaptop)",
    )
    assert sub is not None
    erasure.forget(settings, engine, "web.person@example.org")
    dump = all_cells(engine)
    for personal in ("web.person@example.org", "wendy web", "wendyslaptop", "203.0.113.77"):
        assert personal not in dump, f"{personal!r} is still stored after forget"


# --- export: neutralized cells, round trip ------------------------------------------------------


FORMULAS = {
    "hyper@example.org": '=HYPERLINK("http://x","y")',
    "sum@example.org": "@SUM(1)",
    "plus@example.org": "+1 555 0100",
    "minus@example.org": "-2+3",
}


def test_export_neutralizes_formulas_and_round_trips(
    cli: CLI, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    for address, name in FORMULAS.items():
        subscriptions.add(settings, engine, address, name=name, topics=TOPIC, timezone="Asia/Tokyo")
    subscriptions.add(settings, engine, "plain@example.org", name="Plain Name")
    subscriptions.add(
        settings, engine, "two@example.org", name="Two Topics", topics=f"{TOPIC},{OTHER}"
    )
    out_file = tmp_path / "export.csv"
    code, _, err = cli("subscribers", "export", str(out_file))
    assert code == 0 and "wrote" in err
    raw = out_file.read_bytes().decode("utf-8")
    assert '"\'=HYPERLINK(""http://x"",""y"")"' in raw
    table = list(csv.DictReader(io.StringIO(raw, newline="")))
    names = {r["email"]: r["name"] for r in table}
    for address, name in FORMULAS.items():
        assert names[address] == "'" + name, address
    assert names["plain@example.org"] == "Plain Name"
    for r in table:  # no cell a spreadsheet would run
        assert not any(v.startswith(("=", "+", "-", "@")) for v in r.values()), r
    # stdout gives the same document
    code, stdout, _ = cli("subscribers", "export")
    assert code == 0 and stdout == raw
    # the export reads back: same people, topics, timezones, names as exported
    parsed = read_csv(raw.encode(), source="export.csv", known_topics=[TOPIC, OTHER])
    assert parsed.errors == []
    assert any(n.startswith("columns ignored: status") for n in parsed.notes)
    back = {r.email: (r.name, r.topics, r.timezone) for r in parsed.rows}
    assert back == {  # the import undoes the neutralization: the round trip gives the originals
        **{a: (n, (TOPIC,), "Asia/Tokyo") for a, n in FORMULAS.items()},
        "plain@example.org": ("Plain Name", None, None),
        "two@example.org": ("Two Topics", (TOPIC, OTHER), None),
    }


def test_export_keeps_addresses_that_start_like_a_formula_importable(
    cli: CLI, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    """'-ann@…' and '+news@…' are valid addresses; the exported email must read back as the
    same address, not as a new subscriber "'-ann@…"."""
    for address in ("-dash@example.org", "+plus@example.org", "=eq@example.org"):
        subscriptions.add(settings, engine, address)
    out_file = tmp_path / "export.csv"
    assert cli("subscribers", "export", str(out_file))[0] == 0
    report = subscriptions.import_file(settings, engine, out_file)
    assert report.errors == [], report.errors
    assert report.added == 0 and report.existing == 3, report
    assert len(rows(engine)) == 3


def test_neutralize() -> None:
    for cell in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx"):
        assert neutralize(cell) == "'" + cell
    for cell in ("Ann", "", "a=b", "'=quoted"):
        assert neutralize(cell) == cell


# --- events, show, add -------------------------------------------------------------------------


def test_every_state_change_writes_an_event(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    subscriptions.import_file(settings, engine, copy("good.csv", tmp_path))
    assert actions(engine, "ivy@example.org") == ["imported"]
    ivy = subscriptions.get(engine, "ivy@example.org")
    subscriptions.set_preferences(engine, ivy, topics=[TOPIC], paused=True, known=[TOPIC, OTHER])
    subscriptions.remove(engine, "ivy@example.org")
    assert actions(engine, "ivy@example.org") == ["imported", "preferences", "unsubscribed"]
    with pytest.raises(BriefingError, match="already unsubscribed"):
        subscriptions.remove(engine, "ivy@example.org")
    assert actions(engine, "ivy@example.org") == [
        "imported",
        "preferences",
        "unsubscribed",
    ]  # no change, no event

    subscriptions.add(settings, engine, "kai@example.org")
    pending = subscriptions.request_subscription(
        settings,
        engine,
        "lu@example.org",
        name=None,
        topics=None,
        ip="127.0.0.1",
        user_agent="pytest",
    )
    assert pending is not None and pending.status == "pending"
    link = subscriptions.confirmation_link(settings, pending, settings.secrets(), utcnow())
    confirmed = subscriptions.confirm(settings, engine, link.rsplit("/", 1)[1], settings.secrets())
    assert (
        confirmed is not None
        and confirmed.status == "active"
        and confirmed.confirmed_at is not None
    )
    assert actions(engine, "kai@example.org") == ["subscribed"]
    assert actions(engine, "lu@example.org") == ["requested", "confirmed"]
    detail = subscriptions.history(engine, subscriptions.get(engine, "ivy@example.org"))[0][
        "detail"
    ]
    assert detail == {"file": "good.csv", "line": 2}

    jon = subscriptions.get(engine, "jon@example.org")
    erasure.forget(settings, engine, "jon@example.org")
    with engine.connect() as conn:
        trail = [
            r.action
            for r in conn.execute(
                select(subscriber_events)
                .where(subscriber_events.c.subscriber_id == jon.id)
                .order_by(subscriber_events.c.id)
            )
        ]
    assert trail == ["imported", "forgotten"]


def test_show_json_has_status_topics_and_links(
    cli: CLI, settings: Settings, engine: Engine
) -> None:
    code, _, _ = cli("subscribers", "add", "mo@example.org", "--name", "Mo", "--topics", OTHER)
    assert code == 0
    code, out, _ = cli("subscribers", "show", "MO@Example.org", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["email"] == "mo@example.org" and doc["status"] == "active"
    assert doc["topics"] == [OTHER] and doc["all_topics"] is False
    base = settings.newsletter.base_url
    assert doc["unsubscribe_url"].startswith(f"{base}/u/")
    assert doc["preferences_url"].startswith(f"{base}/p/")
    token = doc["unsubscribe_url"].rsplit("/", 1)[1]
    assert doc["preferences_url"].endswith("/" + token)
    sub = subscriptions.get(engine, "mo@example.org")
    assert verify(token, [SECRET]) == sub.token_id
    assert verify(token, ["another-secret-" + "x" * 20]) is None
    assert [e["action"] for e in doc["events"]] == ["subscribed"]
    # every topic when none were chosen
    cli("subscribers", "add", "nia@example.org")
    doc = json.loads(cli("subscribers", "show", "nia@example.org", "--json")[1])
    assert doc["topics"] == [TOPIC, OTHER] and doc["all_topics"] is True
    code, out, err = cli("subscribers", "show", "nobody@example.org", "--json")
    assert code == 1 and out == "" and "no subscriber nobody@example.org" in err


def test_add_refuses_duplicates_in_any_case_and_suppressed_addresses(
    cli: CLI, settings: Settings, engine: Engine
) -> None:
    _suppressed_setup(settings, engine)
    assert cli("subscribers", "add", "Olga@example.org")[0] == 0
    for other_case in ("Olga@EXAMPLE.ORG", "olga@example.org", "OLGA@example.org"):
        code, _, err = cli("subscribers", "add", other_case)
        assert code == 1 and "already on the list (active)" in err, other_case
    for suppressed, reason in (
        ("UNSUB@example.org", "unsubscribed"),
        ("forget@example.org", "forgotten"),
        ("bounce@Example.org", "bounced"),
    ):
        code, _, err = cli("subscribers", "add", suppressed)
        assert code == 1, suppressed
        assert "already on the list" in err or f"suppression list ({reason})" in err, err
    assert status_of(engine, "unsub@example.org") == "unsubscribed"
    assert status_of(engine, "forget@example.org") is None
    assert status_of(engine, "bounce@example.org") == "bounced"
    code, _, err = cli("subscribers", "add", "pat@example.org", "--timezone", "Nowhere/City")
    assert code == 1 and "not an IANA timezone" in err
    code, _, err = cli("subscribers", "add", "pat@example.org", "--topics", "cooking")
    assert code == 1 and "unknown topic(s): cooking" in err
    code, _, err = cli("subscribers", "add", "pat@@example.org")
    assert code == 1 and "not a valid email address" in err
    assert status_of(engine, "pat@example.org") is None


def test_recipients_are_active_unpaused_and_on_topic(settings: Settings, engine: Engine) -> None:
    subscriptions.add(settings, engine, "all@example.org")
    subscriptions.add(settings, engine, "on@example.org", topics=TOPIC)
    subscriptions.add(settings, engine, "both@example.org", topics=f"{OTHER},{TOPIC}")
    subscriptions.add(settings, engine, "other@example.org", topics=OTHER)
    paused = subscriptions.add(settings, engine, "paused@example.org")
    subscriptions.set_preferences(engine, paused, topics=None, paused=True, known=[TOPIC, OTHER])
    subscriptions.add(settings, engine, "gone@example.org")
    subscriptions.remove(engine, "gone@example.org")
    subscriptions.request_subscription(
        settings, engine, "pending@example.org", name=None, topics=None, ip=None, user_agent=None
    )
    subscriptions.add(settings, engine, "erased@example.org")
    erasure.forget(settings, engine, "erased@example.org")
    subscriptions.add(settings, engine, "bounced@example.org")
    with engine.begin() as conn:
        conn.execute(
            update(subscribers)
            .where(subscribers.c.email_key == "bounced@example.org")
            .values(status="bounced")
        )
    got = sorted(s.email or "" for s in subscriptions.recipients(engine, {TOPIC}))
    assert got == ["all@example.org", "both@example.org", "on@example.org"]
    got = sorted(s.email or "" for s in subscriptions.recipients(engine, {OTHER}))
    assert got == ["all@example.org", "both@example.org", "other@example.org"]


def test_a_returning_subscriber_is_untouched_until_they_confirm_again(
    settings: Settings, engine: Engine
) -> None:
    """A subscribe form posted for someone who left changes nothing by itself (anyone can post
    a form); the new link, issued after they left, brings them back with the new consent.
    An old link, issued before they left, does not."""
    from datetime import timedelta

    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    first = subscriptions.request_subscription(
        settings,
        engine,
        "back@example.org",
        name="Back",
        topics=None,
        ip="198.51.100.1",
        user_agent="ua1",
        now=t0,
    )
    assert first is not None
    old_link = subscriptions.confirmation_link(settings, first, settings.secrets(), t0)
    assert (
        subscriptions.confirm(
            settings,
            engine,
            old_link.rsplit("/", 1)[1],
            settings.secrets(),
            now=t0 + timedelta(minutes=1),
        )
        is not None
    )
    sub = subscriptions.get(engine, "back@example.org")
    subscriptions.unsubscribe(
        engine, sub, how="one-click", actor="link", now=t0 + timedelta(days=1)
    )
    again = subscriptions.request_subscription(
        settings,
        engine,
        "back@example.org",
        name="Someone Else",
        topics=[TOPIC],
        ip="203.0.113.9",
        user_agent="ua2",
        now=t0 + timedelta(days=2),
    )
    assert again is not None
    row = subscriptions.get(engine, "back@example.org")
    assert (row.status, row.name, row.consent["ip"]) == ("unsubscribed", "Back", "198.51.100.1")
    # the old link (issued before the unsubscribe) does not undo it
    assert (
        subscriptions.confirm(
            settings,
            engine,
            old_link.rsplit("/", 1)[1],
            settings.secrets(),
            now=t0 + timedelta(days=2, hours=1),
        )
        is None
    )
    assert subscriptions.get(engine, "back@example.org").status == "unsubscribed"
    new_link = subscriptions.confirmation_link(
        settings, again, settings.secrets(), t0 + timedelta(days=2)
    )
    back = subscriptions.confirm(
        settings,
        engine,
        new_link.rsplit("/", 1)[1],
        settings.secrets(),
        now=t0 + timedelta(days=2, hours=2),
    )
    assert back is not None and back.status == "active"
    assert (back.name, back.topics, back.consent["ip"]) == ("Someone Else", (TOPIC,), "203.0.113.9")


def test_two_unsubscribes_from_the_same_stale_view_change_the_row_once(
    settings: Settings, engine: Engine
) -> None:
    """Two clicks handled at once both read the subscriber as active; only the first one
    unsubscribes and records an event (a conditional UPDATE), the second changes nothing."""
    subscriptions.add(settings, engine, "twice@example.org")
    stale = subscriptions.get(engine, "twice@example.org")
    assert subscriptions.unsubscribe(engine, stale, how="one-click", actor="link") is True
    assert subscriptions.unsubscribe(engine, stale, how="page", actor="link") is False
    row = subscriptions.get(engine, "twice@example.org")
    assert (row.status, row.unsubscribe_reason) == ("unsubscribed", "one-click")
    with engine.connect() as conn:
        actions = [
            r.action
            for r in conn.execute(
                select(subscriber_events).where(subscriber_events.c.subscriber_id == row.id)
            )
        ]
    assert actions.count("unsubscribed") == 1


def test_unsubscribe_clicks_answer_each_token_in_order(settings: Settings, engine: Engine) -> None:
    """One transaction for many one-click tokens: each good token's subscriber now stands
    unsubscribed; a forged token, a repeat, and an already-unsubscribed subscriber keep
    their places in the answer; the bystander is untouched."""
    for email in ("a@example.org", "b@example.org", "c@example.org", "stay@example.org"):
        subscriptions.add(settings, engine, email)
    secrets = settings.secrets()
    token = {e: subscriptions.links(settings, subscriptions.get(engine, e), secrets).token
             for e in ("a@example.org", "b@example.org", "c@example.org")}  # fmt: skip
    subscriptions.unsubscribe(engine, subscriptions.get(engine, "c@example.org"), how="page",
                              actor="link")  # fmt: skip
    forged = token["a@example.org"][:-2] + ("AA" if token["a@example.org"][-2:] != "AA" else "BB")
    answers = subscriptions.unsubscribe_clicks(
        engine,
        [token["a@example.org"], forged, token["b@example.org"], token["a@example.org"],
         token["c@example.org"]],
        secrets,
    )  # fmt: skip
    assert [a.email if a else None for a in answers] == [
        "a@example.org", None, "b@example.org", "a@example.org", "c@example.org"
    ]  # fmt: skip
    assert {a.status for a in answers if a} == {"unsubscribed"}
    assert subscriptions.get(engine, "stay@example.org").status == "active"
    c = subscriptions.get(engine, "c@example.org")
    assert c.unsubscribe_reason == "page"  # the earlier unsubscribe stands, not rewritten
    with engine.connect() as conn:
        events = Counter(
            r.subscriber_id
            for r in conn.execute(
                select(subscriber_events).where(subscriber_events.c.action == "unsubscribed")
            )
        )
    assert sorted(events.values()) == [1, 1, 1]
