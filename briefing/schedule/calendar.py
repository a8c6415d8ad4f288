"""The weekly calendar: when a send is planned, when its draft is built, when it expires,
and each subscriber's local send time. Pure: no database, no APScheduler, no clock (every
function is given its ``now``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from briefing.config import DAYS, Schedule

# The widest spread of local times (UTC-12 to UTC+14) around the planned send.
ZONE_SPREAD = timedelta(hours=26)


@dataclass(frozen=True)
class Cycle:
    """One weekly send: when it is planned, when its draft is built, when it expires."""

    planned: datetime  # aware, UTC
    draft_at: datetime
    expires: datetime


def _planned_on(schedule: Schedule, day: date) -> datetime:
    """The send time on ``day`` in the schedule's timezone, as a UTC instant (a time that
    a DST change skips or repeats resolves as zoneinfo does: the earlier offset)."""
    return datetime.combine(day, schedule.time, tzinfo=schedule.tz).astimezone(UTC)


def cycle_of(schedule: Schedule, planned: datetime) -> Cycle:
    # the draft time is counted on the wall clock, as the draft job's cron trigger does
    # (36h before "mon 07:00" is Saturday 19:00 local, whether or not DST changes between)
    wall = planned.astimezone(schedule.tz).replace(tzinfo=None) - schedule.duration("draft_before")
    return Cycle(
        planned=planned,
        draft_at=wall.replace(tzinfo=schedule.tz).astimezone(UTC),
        expires=planned + schedule.duration("expire_after"),
    )


def current_cycle(schedule: Schedule, now: datetime) -> Cycle:
    """The latest send planned at or before ``now``."""
    local = now.astimezone(schedule.tz).date()
    day = local - timedelta(days=(local.weekday() - schedule.weekday) % 7)
    planned = _planned_on(schedule, day)
    if planned > now:
        planned = _planned_on(schedule, day - timedelta(days=7))
    return cycle_of(schedule, planned)


def next_cycle(schedule: Schedule, now: datetime) -> Cycle:
    """The first send planned after ``now``."""
    current = current_cycle(schedule, now).planned.astimezone(schedule.tz).date()
    return cycle_of(schedule, _planned_on(schedule, current + timedelta(days=7)))


def release_times(
    schedule: Schedule, cycle: Cycle
) -> Callable[[list[str | None]], dict[str | None, datetime]]:
    """Per-subscriber local time: the cycle's send day and time in each subscriber's own
    timezone (subscribers without one get the schedule's)."""
    day = cycle.planned.astimezone(schedule.tz).date()

    def times(zones: list[str | None]) -> dict[str | None, datetime]:
        out: dict[str | None, datetime] = {}
        for zone in zones:
            tz = schedule.tz
            if zone:
                try:
                    tz = ZoneInfo(zone)
                except (KeyError, ValueError):  # stored before validation: use the default
                    tz = schedule.tz
            out[zone] = datetime.combine(day, schedule.time, tzinfo=tz).astimezone(UTC)
        return out

    return times


@dataclass(frozen=True)
class WeeklyTime:
    """A weekly wall-clock time in the schedule's timezone, as a cron trigger takes it."""

    day_of_week: str  # one of config.DAYS
    hour: int
    minute: int


def send_time(schedule: Schedule) -> WeeklyTime:
    return WeeklyTime(DAYS[schedule.weekday], schedule.time.hour, schedule.time.minute)


def draft_time(schedule: Schedule) -> WeeklyTime:
    """The send's wall-clock time minus draft_before, on the right weekday."""
    ref = datetime(2024, 1, 1 + schedule.weekday, schedule.time.hour, schedule.time.minute)
    draft = ref - schedule.duration("draft_before")
    return WeeklyTime(DAYS[draft.weekday()], draft.hour, draft.minute)


def local_text(schedule: Schedule, at: datetime) -> str:
    """``at`` in the schedule's timezone, as the editors' emails and proofs say it."""
    return at.astimezone(schedule.tz).strftime(f"%a %d %b %Y, %H:%M {schedule.timezone}")
