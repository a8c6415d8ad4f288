"""[schedule]: validation messages, durations, the calendar around DST changes, the
jobs' APScheduler triggers, `briefing schedule show --json`, and install_jobs on a real
BackgroundScheduler whose jobs live in a SQLite file."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

import briefing.schedule.runner as scheduler_module
from briefing.cli import main
from briefing.config import Schedule, Settings, load_settings, parse_duration
from briefing.errors import ConfigError
from briefing.schedule.calendar import current_cycle, next_cycle
from briefing.schedule.runner import (
    JOB_IDS,
    JOBSTORE_TABLE,
    Runtime,
    install_jobs,
    make_scheduler,
    start_scheduler,
    triggers,
)
from briefing.store.db import open_engine

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- validation: the message names the key, the source and what to write -----------------------


def config_error(**schedule: Any) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(None, env={}, overrides={"schedule": schedule})
    return info.value.message


@pytest.fixture(autouse=True)
def _no_local_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ./briefing.toml (the repository's) and no BRIEFING_* from the environment."""
    monkeypatch.chdir(tmp_path)
    for key in [k for k in __import__("os").environ if k.startswith("BRIEFING_")]:
        monkeypatch.delenv(key)


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("send", "someday 7", ['write a weekday and a 24-hour time, e.g. "mon 07:00"']),
        ("send", "mon 7", ['e.g. "mon 07:00"']),
        ("send", "mon 07:5", ['e.g. "mon 07:00"']),
        ("send", "07:00", ['e.g. "mon 07:00"']),
        ("send", "mon 25:00", ["25:00 is not a time of day"]),
        ("send", "sun 23:60", ["23:60 is not a time of day"]),
        (
            "timezone",
            "Mars/Olympus",
            ["unknown timezone", "use an IANA name such as Europe/London"],
        ),
        ("timezone", "", ["unknown timezone", "IANA name"]),
        ("timezone", "../../etc/passwd", ["unknown timezone", "IANA name"]),
        ("expire_after", "soon", ["is not a duration", "write e.g. 90s, 30m, 6h, 1d or 1h30m"]),
        ("draft_before", "1.5h", ["is not a duration", "write e.g."]),
        ("ingest_every", "-1h", ["is not a duration"]),
        ("retry_every", "10", ["is not a duration"]),
    ],
)
def test_bad_values_name_the_key_the_value_and_what_to_write(
    key: str, value: str, says: list[str]
) -> None:
    message = config_error(**{key: value})
    assert f"schedule.{key}:" in message, message
    assert repr(value) in message, message
    for part in says:
        assert part in message, message
    assert "[in the command line]" in message, message


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("draft_before", "7d", "schedule.draft_before: '7d' is too long: under 7d"),
        ("draft_before", "168h", "schedule.draft_before: '168h' is too long: under 7d"),
        ("expire_after", "7d", "schedule.expire_after: '7d' is too long: under 7d"),
        ("expire_after", "30s", "schedule.expire_after: '30s' is too short: at least 1m"),
        ("ingest_every", "30s", "schedule.ingest_every: '30s' is too short: at least 1m"),
        ("retry_every", "10s", "schedule.retry_every: '10s' is too short: at least 30s"),
    ],
)
def test_windows_out_of_range_name_the_key(key: str, value: str, says: str) -> None:
    message = config_error(**{key: value})
    assert says in message, message
    assert "[in the command line]" in message, message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("draft_before", "6d23h59m"),
        ("draft_before", "0s"),
        ("expire_after", "1m"),
        ("expire_after", "6d23h"),
    ],
)
def test_windows_just_inside_the_range_are_accepted(key: str, value: str) -> None:
    settings = load_settings(None, env={}, overrides={"schedule": {key: value}})
    assert getattr(settings.schedule, key) == value


def test_env_variables_are_validated_and_named(tmp_path: Path) -> None:
    for var, value, key in (
        ("BRIEFING_SCHEDULE_SEND", "someday 7", "schedule.send"),
        ("BRIEFING_SCHEDULE_SEND", "mon 25:00", "schedule.send"),
        ("BRIEFING_SCHEDULE_TIMEZONE", "Nowhere/Land", "schedule.timezone"),
        ("BRIEFING_SCHEDULE_EXPIRE_AFTER", "soon", "schedule.expire_after"),
    ):
        with pytest.raises(ConfigError) as info:
            load_settings(None, env={var: value})
        message = info.value.message
        assert key in message and f"[in environment variable {var}]" in message, message
        assert "README.md" in info.value.hint
    settings = load_settings(
        None,
        env={
            "BRIEFING_SCHEDULE_SEND": "Wednesday 9:05",
            "BRIEFING_SCHEDULE_TIMEZONE": "America/New_York",
            "BRIEFING_SCHEDULE_REQUIRE_APPROVAL": "false",
            "BRIEFING_SCHEDULE_DELIVER_IN_SUBSCRIBER_TIMEZONE": "true",
            "BRIEFING_SCHEDULE_EDITORS": '["Desk@Example.org"]',
        },
    )
    s = settings.schedule
    assert (s.send, s.weekday, s.time) == ("wed 09:05", 2, time(9, 5))
    assert s.tz == NEW_YORK and not s.require_approval and s.deliver_in_subscriber_timezone
    assert s.editors == ("Desk@example.org",)  # the domain is case-insensitive


def test_a_bad_value_in_the_file_names_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "b.toml"
    cfg.write_text('[schedule]\nsend = "mon 07:00"\ndraft_before = "8d"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, env={})
    assert "schedule.draft_before: '8d' is too long: under 7d" in info.value.message
    assert str(cfg) in info.value.message


def test_an_out_of_range_env_window_names_the_variable(tmp_path: Path) -> None:
    cfg = tmp_path / "b.toml"
    cfg.write_text('[schedule]\nsend = "mon 07:00"\n')  # nothing wrong in the file
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, env={"BRIEFING_SCHEDULE_DRAFT_BEFORE": "7d"})
    message = info.value.message
    assert "BRIEFING_SCHEDULE_DRAFT_BEFORE" in message, message
    assert str(cfg) not in message, message


@pytest.mark.parametrize(
    ("value", "normal"),
    [
        ("mon 07:00", "mon 07:00"),
        ("Monday 7:00", "mon 07:00"),
        (" SUN 23:59 ", "sun 23:59"),
        ("tues 00:00", "tue 00:00"),
    ],
)
def test_send_is_normalized(value: str, normal: str) -> None:
    assert Schedule(send=value).send == normal


@pytest.mark.parametrize("value", ["month 07:00", "sunrise 06:00", "frisbee 07:00"])
def test_send_rejects_words_that_are_not_weekdays(value: str) -> None:
    message = config_error(send=value)
    assert "schedule.send" in message


# --- durations ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("6h", timedelta(hours=6)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(minutes=90)),
        ("1d12h", timedelta(hours=36)),
        (" 1h 30m ", timedelta(minutes=90)),
        ("2H", timedelta(hours=2)),
        ("0s", timedelta(0)),
        ("36h", timedelta(hours=36)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", " ", "soon", "6", "h", "1.5h", "-1h", "6hours", "1w", "6h!"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert "is not a duration; write e.g. 90s, 30m, 6h, 1d or 1h30m" in str(info.value)


# --- the calendar around DST changes ------------------------------------------------------------


def sunday_0130() -> Schedule:
    return Schedule(send="sun 01:30", timezone="Europe/London")


def test_a_send_time_the_clocks_skip_is_one_instant_an_hour_into_summer_time() -> None:
    """29 Mar 2026: London goes from 01:00 GMT straight to 02:00 BST; 01:30 does not
    exist. The send resolves with the earlier offset (GMT): 01:30Z, i.e. 02:30 BST."""
    s = sunday_0130()
    planned = utc(2026, 3, 29, 1, 30)
    assert current_cycle(s, planned).planned == planned
    assert current_cycle(s, planned - timedelta(seconds=1)).planned == utc(2026, 3, 22, 1, 30)
    assert next_cycle(s, planned - timedelta(seconds=1)).planned == planned
    assert planned.astimezone(LONDON).strftime("%H:%M %Z") == "02:30 BST"
    # the week after is 01:30 BST again, 00:30Z: a week less the hour the clocks lost
    after = next_cycle(s, planned).planned
    assert after == utc(2026, 4, 5, 0, 30)
    assert after.astimezone(LONDON).strftime("%a %H:%M %Z") == "Sun 01:30 BST"
    # the send job's own trigger fires at that same instant
    fired = triggers(s)["send"].get_next_fire_time(None, utc(2026, 3, 28))
    assert fired.astimezone(UTC) == planned


def test_a_send_time_that_happens_twice_is_sent_once_at_the_first() -> None:
    """25 Oct 2026: London goes from 02:00 BST back to 01:00 GMT; 01:30 happens at 00:30Z
    (BST) and again at 01:30Z (GMT). The send is the first, once."""
    s = sunday_0130()
    first, second = utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)
    assert first.astimezone(LONDON).strftime("%H:%M") == second.astimezone(LONDON).strftime("%H:%M")
    assert current_cycle(s, first).planned == first
    assert current_cycle(s, second).planned == first  # the second 01:30 is the same send
    assert current_cycle(s, first - timedelta(seconds=1)).planned == utc(2026, 10, 18, 0, 30)
    assert next_cycle(s, first).planned == next_cycle(s, second).planned == utc(2026, 11, 1, 1, 30)
    assert triggers(s)["send"].get_next_fire_time(None, utc(2026, 10, 24)).astimezone(UTC) == first
    # expiry and draft are fixed durations from that instant
    cycle = current_cycle(s, second)
    assert cycle.expires - cycle.planned == timedelta(hours=6)
    assert cycle.planned - cycle.draft_at == timedelta(hours=24)


DST_WEEKS = [
    pytest.param("sun 01:30", "Europe/London", utc(2026, 3, 20), id="london-spring-gap"),
    pytest.param("sun 01:30", "Europe/London", utc(2026, 10, 16), id="london-autumn-twice"),
    pytest.param("mon 07:00", "Europe/London", utc(2026, 10, 16), id="london-mon-0700"),
    pytest.param("sun 02:30", "America/New_York", utc(2026, 3, 1), id="ny-spring-gap"),
    pytest.param("sun 01:30", "America/New_York", utc(2026, 10, 25), id="ny-autumn-twice"),
    pytest.param("sun 00:30", "America/Santiago", utc(2026, 9, 1), id="santiago-midnight-gap"),
    pytest.param("sat 23:30", "America/Santiago", utc(2026, 4, 1), id="santiago-midnight-twice"),
    pytest.param(
        "sun 01:45", "Australia/Lord_Howe", utc(2026, 3, 25), id="lord-howe-half-hour-twice"
    ),
    pytest.param(
        "sun 02:15", "Australia/Lord_Howe", utc(2026, 9, 25), id="lord-howe-half-hour-gap"
    ),
]


@pytest.mark.parametrize(("send", "zone", "start"), DST_WEEKS)
def test_cycles_bracket_every_instant_across_a_dst_change(
    send: str, zone: str, start: datetime
) -> None:
    """For every quarter hour over three weeks around a change: the current send is at or
    before now, the next one after it, a week apart give or take the shift, each a single
    instant on the configured weekday (at the configured time, unless the clocks skipped
    it that day)."""
    s = Schedule(send=send, timezone=zone)
    now = start
    seen: set[datetime] = set()
    while now < start + timedelta(days=21):
        current, following = current_cycle(s, now), next_cycle(s, now)
        assert current.planned <= now < following.planned, now
        assert current.planned.utcoffset() == timedelta(0)
        gap = following.planned - current.planned
        assert timedelta(days=7) - timedelta(hours=1) <= gap <= timedelta(days=7, hours=1), now
        for planned in (current.planned, following.planned):
            local = planned.astimezone(s.tz)
            assert local.weekday() == s.weekday, planned
            assert local.time() == s.time or not exists(local.date(), s.time, s.tz), planned
        seen.add(current.planned)
        now += timedelta(minutes=15)
    assert len(seen) >= 3


def cron_fires(trigger: Any, start: datetime, end: datetime) -> list[datetime]:
    """The fire times (UTC) one after the other, as APScheduler steps a job: each from
    the previous fire time, just after it."""
    fires: list[datetime] = []
    previous = None
    at = trigger.get_next_fire_time(None, start)
    while at is not None and at.astimezone(UTC) < end:
        fires.append(at.astimezone(UTC))
        previous = at
        at = trigger.get_next_fire_time(previous, at.astimezone(UTC) + timedelta(seconds=1))
    return fires


@pytest.mark.parametrize(
    ("send", "zone", "start"),
    [
        p
        if p.id != "santiago-midnight-gap"
        else pytest.param(
            *p.values,
            id=p.id,
            marks=pytest.mark.xfail(
                strict=True,
                reason="APScheduler's CronTrigger skips a day whose time falls in a DST gap "
                "at midnight (Santiago, Sun 6 Sep 2026 00:30): the send job does not fire "
                "that week; send-retry still sends it, up to retry_every late",
            ),
        )
        for p in DST_WEEKS
    ],
)
def test_the_send_trigger_fires_at_each_planned_instant(
    send: str, zone: str, start: datetime
) -> None:
    """The send job's cron fires at every send the calendar plans. On a night the clocks
    go back it may fire a second time in the repeated hour; the send is then already
    done (run_send decides from the database), so that is harmless."""
    s = Schedule(send=send, timezone=zone)
    end = start + timedelta(days=21)
    fires = cron_fires(triggers(s)["send"], start, end)
    planned = []
    at = next_cycle(s, start - timedelta(seconds=1)).planned
    while at < end:
        planned.append(at)
        at = next_cycle(s, at).planned
    assert set(planned) <= set(fires), (planned, fires)
    for extra in set(fires) - set(planned):
        assert current_cycle(s, extra).planned >= extra - timedelta(hours=1), extra


def exists(day: Any, at: time, zone: ZoneInfo) -> bool:
    """Whether the wall-clock time ``at`` happens on ``day`` in ``zone``."""
    naive = datetime.combine(day, at)
    return naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


# --- the jobs' triggers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("send", "draft_before", "day", "hour", "minute"),
    [
        ("mon 07:00", "24h", "sun", 7, 0),
        ("mon 07:00", "36h", "sat", 19, 0),
        ("mon 07:00", "90m", "mon", 5, 30),
        ("mon 00:30", "90m", "sun", 23, 0),  # back over midnight into the day before
        ("mon 07:00", "1d12h30m", "sat", 18, 30),
        ("mon 07:00", "0s", "mon", 7, 0),
        ("wed 07:00", "6d23h", "wed", 8, 0),  # an hour short of a week: Wednesday before
        ("sun 01:00", "2h", "sat", 23, 0),
    ],
)
def test_the_draft_trigger_is_draft_before_the_send(
    send: str, draft_before: str, day: str, hour: int, minute: int
) -> None:
    s = Schedule(send=send, timezone="Europe/London", draft_before=draft_before)
    jobs = triggers(s)
    assert set(jobs) == set(JOB_IDS)
    draft = jobs["draft"]
    assert str(draft) == f"cron[day_of_week='{day}', hour='{hour}', minute='{minute}']"
    assert draft.timezone == LONDON
    # on a week without a clock change, it fires draft_before ahead of the send
    send_at = jobs["send"].get_next_fire_time(None, utc(2026, 6, 1))
    draft_at = draft.get_next_fire_time(None, send_at - timedelta(days=7) + timedelta(seconds=1))
    assert send_at - draft_at == parse_duration(draft_before)
    assert next_cycle(s, send_at - timedelta(seconds=1)).draft_at == send_at - parse_duration(
        draft_before
    )


def test_the_interval_triggers_come_from_the_durations() -> None:
    s = Schedule(ingest_every="2h", retry_every="5m", timezone="Europe/London")
    start = utc(2026, 6, 1, 12)
    jobs = triggers(s, start=start)
    assert jobs["ingest"].get_next_fire_time(None, start) == start
    assert jobs["ingest"].get_next_fire_time(
        start, start + timedelta(seconds=1)
    ) == start + timedelta(hours=2)
    assert jobs["send-retry"].get_next_fire_time(start, start + timedelta(seconds=1)) == (
        start + timedelta(minutes=5)
    )
    assert str(jobs["send"]) == "cron[day_of_week='mon', hour='7', minute='0']"


def test_the_draft_job_fires_at_the_cycles_draft_time_across_a_dst_change() -> None:
    s = Schedule(send="mon 07:00", timezone="Europe/London", draft_before="36h")
    cycle = next_cycle(s, utc(2026, 10, 20))
    assert cycle.planned == utc(2026, 10, 26, 7)
    fired = triggers(s)["draft"].get_next_fire_time(None, utc(2026, 10, 20))
    assert fired.astimezone(UTC) == cycle.draft_at


# --- `briefing schedule show --json` ------------------------------------------------------------


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def next_local(now: datetime, weekday: int, at: time, zone: ZoneInfo) -> datetime:
    """The first weekday/time in ``zone`` after ``now``, found day by day (independently
    of the product's calendar)."""
    day = now.astimezone(zone).date() - timedelta(days=1)
    while True:
        candidate = datetime.combine(day, at, tzinfo=zone)
        if day.weekday() == weekday and candidate > now:
            return candidate.astimezone(UTC)
        day += timedelta(days=1)


def test_schedule_show_json_lists_each_job_with_an_iso_next_run_in_utc(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("BRIEFING_SCHEDULE_SEND", "wed 09:15")
    monkeypatch.setenv("BRIEFING_SCHEDULE_TIMEZONE", "America/New_York")
    monkeypatch.setenv("BRIEFING_SCHEDULE_DRAFT_BEFORE", "36h")
    monkeypatch.setenv("BRIEFING_SCHEDULE_INGEST_EVERY", "2h")
    monkeypatch.setenv("BRIEFING_SCHEDULE_RETRY_EVERY", "15m")
    before = datetime.now(UTC)
    code, out, err = run_cli(capsys, "--db", database_url, "schedule", "show", "--json")
    after = datetime.now(UTC)
    assert code == 0, err
    jobs = json.loads(out)  # the whole of stdout is one JSON document
    assert isinstance(jobs, list)
    assert [j["id"] for j in jobs] == ["ingest", "draft", "send", "send-retry"]
    runs = {}
    for job in jobs:
        assert {"id", "next_run"} <= set(job)
        at = datetime.fromisoformat(job["next_run"])
        assert at.utcoffset() == timedelta(0), job  # ISO 8601, in UTC
        local = datetime.fromisoformat(job["next_run_local"])
        assert local == at and local.utcoffset() == local.astimezone(NEW_YORK).utcoffset()
        assert job["stored"] is False  # no scheduler has run: computed from the triggers
        runs[job["id"]] = at
    # the send: the configured weekday and time in New York, converted to UTC
    send = runs["send"]
    assert send in {
        next_local(before, 2, time(9, 15), NEW_YORK),
        next_local(after, 2, time(9, 15), NEW_YORK),
    }
    local = send.astimezone(NEW_YORK)
    assert (local.weekday(), local.hour, local.minute) == (2, 9, 15)
    assert send - before <= timedelta(days=7)
    # the draft: 36 h before Wednesday 09:15 is Monday 21:15 local
    draft = runs["draft"].astimezone(NEW_YORK)
    assert (draft.weekday(), draft.hour, draft.minute) == (0, 21, 15)
    # the interval jobs: one interval from now
    assert before + timedelta(hours=2) <= runs["ingest"] <= after + timedelta(hours=2)
    assert before + timedelta(minutes=15) <= runs["send-retry"] <= after + timedelta(minutes=15)


# --- install_jobs on a real BackgroundScheduler with its jobs in the database -------------------


@pytest.fixture
def jobs_db(database_url: str) -> Iterator[tuple[str, list[Engine]]]:
    """The database's URL (the run's backend) and the engines opened on it."""
    engines: list[Engine] = []
    yield database_url, engines
    for engine in engines:
        engine.dispose()


def runtime(db: tuple[str, list[Engine]], **schedule: Any) -> Runtime:
    url, engines = db
    settings: Settings = load_settings(
        None,
        env={},
        overrides={
            "storage": {"url": url},
            "schedule": {"send": "mon 07:00", "timezone": "Europe/London", **schedule},
        },
    )
    engine = open_engine(settings.database_url)
    engines.append(engine)
    # send-retry's first look is "now" when it is (re)installed; an hour ahead here, so
    # no job is due while the test's schedulers stop and start
    later = datetime.now(UTC) + timedelta(hours=1)
    return Runtime(settings, engine, clock=lambda: later)


def store_next_run(rt: Runtime, job_id: str, at: datetime) -> None:
    """What a scheduler that then went down left in the job store: this next run time."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    store = SQLAlchemyJobStore(engine=rt.engine, tablename=JOBSTORE_TABLE)
    job = store.lookup_job(job_id)
    assert job is not None
    job.next_run_time = at
    store.update_job(job)


def installed(rt: Runtime) -> Any:
    scheduler = make_scheduler(rt)
    scheduler.start(paused=True)
    install_jobs(scheduler, rt)
    return scheduler


def test_an_unchanged_trigger_keeps_the_stored_next_run_so_a_missed_send_fires(
    jobs_db: tuple[str, list[Engine]], monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = runtime(jobs_db)
    first = installed(rt)
    stored = {j.id: j.next_run_time for j in first.get_jobs()}
    assert set(stored) == set(JOB_IDS)
    first.shutdown()
    # the scheduler was down over the send time: its stored next run is now past
    missed = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    store_next_run(rt, "send", missed)

    rt2 = runtime(jobs_db)
    ran: list[tuple[str, datetime]] = []
    done = threading.Event()

    def fake_send(rt: Runtime, now: datetime) -> dict[str, Any]:
        ran.append(("send", now))
        done.set()
        return {"outcome": "recorded"}

    monkeypatch.setitem(scheduler_module.TASKS, "send", fake_send)
    monkeypatch.setattr(scheduler_module, "_RUNTIME", rt2)
    second = installed(rt2)
    try:
        job = second.get_job("send")
        assert job.next_run_time == missed  # kept: APScheduler fires the missed run
        assert job.misfire_grace_time == 6 * 3600 and job.coalesce
        for other in ("ingest", "draft"):
            assert second.get_job(other).next_run_time == stored[other], other
        # the retry job, unchanged too, is brought forward to look at once (rt.clock())
        assert second.get_job("send-retry").next_run_time == rt2.clock()
        second.resume()
        assert done.wait(10), "the missed send did not fire"
        second.pause()
    finally:
        second.shutdown()
    assert [name for name, _ in ran] == ["send"]  # once
    # and the job moved on to next week's send
    rt3 = runtime(jobs_db)
    third = installed(rt3)
    try:
        upcoming = third.get_job("send").next_run_time
        assert upcoming > datetime.now(UTC)
        assert upcoming.astimezone(LONDON).strftime("%a %H:%M") == "Mon 07:00"
    finally:
        third.shutdown()


def test_a_run_missed_by_more_than_expire_after_is_not_fired(
    jobs_db: tuple[str, list[Engine]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from apscheduler.events import EVENT_JOB_MISSED

    rt = runtime(jobs_db)
    installed(rt).shutdown()
    store_next_run(rt, "send", datetime.now(UTC) - timedelta(hours=7))  # grace is 6h
    ran: list[datetime] = []

    def fake_send(rt: Runtime, now: datetime) -> dict[str, Any]:
        ran.append(now)
        return {}

    monkeypatch.setitem(scheduler_module.TASKS, "send", fake_send)
    rt2 = runtime(jobs_db)
    monkeypatch.setattr(scheduler_module, "_RUNTIME", rt2)
    second = installed(rt2)
    missed = threading.Event()
    second.add_listener(lambda event: missed.set(), EVENT_JOB_MISSED)
    try:
        second.resume()
        assert missed.wait(10)
    finally:
        second.shutdown()
    assert ran == []


def test_a_changed_send_time_replaces_the_stored_jobs(
    jobs_db: tuple[str, list[Engine]],
) -> None:
    rt = runtime(jobs_db)
    installed(rt).shutdown()
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    store_next_run(rt, "send", past)
    store_next_run(rt, "draft", past)

    rt2 = runtime(jobs_db, send="tue 08:30")
    second = installed(rt2)
    try:
        send, draft = second.get_job("send"), second.get_job("draft")
        assert str(send.trigger) == "cron[day_of_week='tue', hour='8', minute='30']"
        assert send.next_run_time > datetime.now(UTC)
        assert send.next_run_time.astimezone(LONDON).strftime("%a %H:%M") == "Tue 08:30"
        assert draft.next_run_time > datetime.now(UTC)  # draft_before is from the send
        assert draft.next_run_time.astimezone(LONDON).strftime("%a %H:%M") == "Mon 08:30"
        assert {j.id for j in second.get_jobs()} == set(JOB_IDS)
    finally:
        second.shutdown()


def test_schedule_show_reports_what_the_job_store_holds(
    jobs_db: tuple[str, list[Engine]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rt = runtime(jobs_db)
    installed(rt).shutdown()
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    store_next_run(rt, "send", past)
    code, out, err = run_cli(
        capsys,
        "--db",
        jobs_db[0],
        "schedule",
        "show",
        "--json",
        "--config",
        str(write_config(tmp_path)),
    )
    assert code == 0, err
    jobs = {j["id"]: j for j in json.loads(out)}
    assert jobs["send"]["stored"] is True
    assert datetime.fromisoformat(jobs["send"]["next_run"]) == past


def write_config(folder: Path) -> Path:
    cfg = folder / "briefing.toml"
    cfg.write_text('[schedule]\nsend = "mon 07:00"\ntimezone = "Europe/London"\n')
    return cfg


def test_a_changed_timezone_replaces_the_stored_jobs(
    jobs_db: tuple[str, list[Engine]],
) -> None:
    rt = runtime(jobs_db)
    installed(rt).shutdown()
    rt2 = runtime(jobs_db, timezone="America/New_York")
    second = installed(rt2)
    try:
        send = second.get_job("send")
        assert send.trigger.timezone == NEW_YORK
        local = send.next_run_time.astimezone(NEW_YORK)
        assert (local.weekday(), local.hour, local.minute) == (0, 7, 0)
    finally:
        second.shutdown()


def test_schedulers_starting_at_once_on_a_new_database_all_start(
    jobs_db: tuple[str, list[Engine]],
) -> None:
    """Two `schedule run` started together on a fresh database used to race to create
    APScheduler's job table ("table apscheduler_jobs already exists") and to insert the
    same job ids; one of them died at start-up."""
    runtimes = [runtime(jobs_db) for _ in range(4)]
    schedulers = [make_scheduler(rt) for rt in runtimes]
    barrier = threading.Barrier(len(runtimes))
    errors: list[str] = []

    def start(rt: Runtime, scheduler: Any) -> None:
        barrier.wait()
        try:
            start_scheduler(scheduler, rt)
        except Exception as exc:
            errors.append(repr(exc))

    threads = [
        threading.Thread(target=start, args=pair) for pair in zip(runtimes, schedulers, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert errors == []
        assert sorted(j.id for j in schedulers[0].get_jobs()) == sorted(JOB_IDS)
    finally:
        for scheduler in schedulers:
            if scheduler.running:
                scheduler.shutdown(wait=False)


def test_a_bad_editor_address_names_the_key_and_the_file(tmp_path: Path) -> None:
    config = tmp_path / "briefing.toml"
    config.write_text('[schedule]\neditors = ["ed@example.org", "not an address"]\n', "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, env={})
    text = f"{caught.value.message} {caught.value.hint}"
    assert "schedule.editors" in text and "briefing.toml" in text and "not an address" in text
