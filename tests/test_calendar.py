"""briefing.schedule.calendar on its own: no database, no APScheduler, no clock. The next
and current send across DST changes in both hemispheres, the draft's weekday when
draft_before crosses midnight or the week, and each subscriber's local send time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from briefing.config import DAYS, Schedule
from briefing.schedule.calendar import (
    ZONE_SPREAD,
    Cycle,
    WeeklyTime,
    current_cycle,
    cycle_of,
    draft_time,
    local_text,
    next_cycle,
    release_times,
    send_time,
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_the_module_is_pure() -> None:
    import briefing.schedule.calendar as calendar

    source = Path(calendar.__file__).read_text(encoding="utf-8")
    for banned in ("briefing.store", "briefing.services", "apscheduler", "sqlalchemy", "utcnow"):
        assert banned not in source, banned


def test_next_send_is_on_the_wall_clock_across_the_us_spring_change() -> None:
    # 2026-03-08: New York moves from EST (UTC-5) to EDT (UTC-4) at 02:00
    s = Schedule(send="mon 07:00", timezone="America/New_York")
    before = next_cycle(s, utc(2026, 3, 1))
    assert before.planned == utc(2026, 3, 2, 12)  # 07:00 EST
    after = next_cycle(s, before.planned)
    assert after.planned == utc(2026, 3, 9, 11)  # 07:00 EDT: an hour earlier in UTC
    assert after.planned - before.planned == timedelta(days=7, hours=-1)
    assert after.planned.astimezone(s.tz).strftime("%a %H:%M") == "Mon 07:00"


def test_next_send_across_the_southern_autumn_change() -> None:
    # 2026-04-05: Sydney leaves daylight time (UTC+11 -> UTC+10) at 03:00
    s = Schedule(send="sun 09:00", timezone="Australia/Sydney")
    first = next_cycle(s, utc(2026, 3, 28))
    assert first.planned == utc(2026, 3, 28, 22)  # Sun 29 Mar 09:00 AEDT
    second = next_cycle(s, first.planned)
    assert second.planned == utc(2026, 4, 4, 23)  # Sun 5 Apr 09:00 AEST
    assert current_cycle(s, second.planned - timedelta(seconds=1)) == first


def test_the_draft_counts_back_on_the_wall_clock_over_a_dst_change() -> None:
    # Europe/London goes back an hour on Sun 25 Oct 2026: 36h before Mon 07:00 is still
    # Sat 19:00 local, which is 37 hours before the send in real time
    s = Schedule(send="mon 07:00", timezone="Europe/London", draft_before="36h")
    cycle = next_cycle(s, utc(2026, 10, 20))
    assert cycle.planned == utc(2026, 10, 26, 7)
    assert cycle.draft_at == utc(2026, 10, 24, 18)  # 19:00 BST
    assert cycle.planned - cycle.draft_at == timedelta(hours=37)
    assert cycle.expires == cycle.planned + timedelta(hours=6)


@pytest.mark.parametrize(
    ("send", "draft_before", "day", "hour", "minute"),
    [
        ("mon 07:00", "24h", "sun", 7, 0),
        ("mon 07:00", "36h", "sat", 19, 0),
        ("sun 01:30", "2h", "sat", 23, 30),  # across midnight
        ("wed 09:15", "6d", "thu", 9, 15),  # most of a week before
        ("tue 00:00", "90m", "mon", 22, 30),
        ("mon 00:10", "20m", "sun", 23, 50),  # across the start of the week
    ],
)
def test_the_draft_time_is_a_weekday_and_wall_time(
    send: str, draft_before: str, day: str, hour: int, minute: int
) -> None:
    s = Schedule(send=send, draft_before=draft_before)
    assert draft_time(s) == WeeklyTime(day, hour, minute)


@pytest.mark.parametrize("day", DAYS)
def test_the_send_time_names_the_configured_weekday(day: str) -> None:
    s = Schedule(send=f"{day} 18:05")
    assert send_time(s) == WeeklyTime(day, 18, 5)
    planned = next_cycle(s, utc(2026, 6, 1)).planned
    assert DAYS[planned.weekday()] == day


@pytest.mark.parametrize(
    ("zone", "send"),
    [
        ("Europe/London", "sun 01:30"),  # a time the spring change skips
        ("America/New_York", "sun 01:30"),  # a time the autumn change repeats
        ("Australia/Lord_Howe", "sun 02:15"),  # a half-hour DST shift
        ("Pacific/Chatham", "mon 03:00"),
        ("UTC", "fri 23:59"),
    ],
)
def test_current_and_next_bracket_every_instant_of_a_year(zone: str, send: str) -> None:
    s = Schedule(send=send, timezone=zone)
    now = utc(2026, 1, 1)
    while now < utc(2027, 1, 1):
        current, following = current_cycle(s, now), next_cycle(s, now)
        assert current.planned <= now < following.planned, now
        gap = following.planned - current.planned
        assert timedelta(days=6, hours=22) <= gap <= timedelta(days=7, hours=2), now
        assert following.planned.astimezone(s.tz).weekday() == s.weekday
        now += timedelta(hours=3, minutes=17)  # every time of day, in a few thousand steps


def test_cycle_of_a_planned_time_is_what_the_calendar_gives() -> None:
    s = Schedule(send="thu 10:00", timezone="Asia/Tokyo", expire_after="2h")
    cycle = next_cycle(s, utc(2026, 5, 1))
    assert cycle_of(s, cycle.planned) == cycle
    assert cycle == Cycle(
        planned=utc(2026, 5, 7, 1),
        draft_at=utc(2026, 5, 6, 1),
        expires=utc(2026, 5, 7, 3),
    )


def test_each_subscriber_gets_the_send_day_and_time_in_their_own_zone() -> None:
    s = Schedule(send="mon 07:00", timezone="Europe/London")
    cycle = next_cycle(s, utc(2026, 11, 18))  # Mon 23 Nov 2026, GMT
    times = release_times(s, cycle)(
        ["Asia/Tokyo", "America/New_York", None, "", "Not/AZone", "Pacific/Kiritimati"]
    )
    assert times["Asia/Tokyo"] == utc(2026, 11, 22, 22)
    assert times["America/New_York"] == utc(2026, 11, 23, 12)
    assert times[None] == times[""] == cycle.planned == utc(2026, 11, 23, 7)
    assert times["Not/AZone"] == cycle.planned  # stored before validation: the default
    assert times["Pacific/Kiritimati"] == utc(2026, 11, 22, 17)  # UTC+14
    # every zone's local send falls within the spread the send job allows for
    for at in times.values():
        assert abs(at - cycle.planned) <= ZONE_SPREAD


def test_local_times_keep_the_calendar_day_of_the_send_in_the_schedules_zone() -> None:
    # the send is Monday in Tokyo; New York's local Monday 08:00 is later in UTC
    s = Schedule(send="mon 08:00", timezone="Asia/Tokyo")
    cycle = next_cycle(s, utc(2026, 7, 1))
    times = release_times(s, cycle)(["America/New_York"])
    local = times["America/New_York"].astimezone(ZoneInfo("America/New_York"))
    assert local.strftime("%a %H:%M") == "Mon 08:00"
    assert local.date() == cycle.planned.astimezone(s.tz).date()


def test_local_text_is_in_the_schedules_zone_and_names_it() -> None:
    s = Schedule(send="mon 07:00", timezone="Europe/London")
    assert local_text(s, utc(2026, 7, 6, 6)) == "Mon 06 Jul 2026, 07:00 Europe/London"
    assert local_text(s, utc(2026, 12, 7, 7)) == "Mon 07 Dec 2026, 07:00 Europe/London"
