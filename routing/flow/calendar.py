"""The working-day calendar (工作日历): working days and hours on the Chinese
calendar, with its holidays and make-up working days (调休).

The ``chinesecalendar`` package knows the State Council's arrangements up to
2026 and raises for later years. Deadlines set in December already reach into
the next year, so an administrator's per-day overrides win over the package,
and a year known to neither falls back to Monday–Friday — reported through
``fallback_years`` so the admin can show a warning — and never raises.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import chinese_calendar
from chinese_calendar.constants import Holiday

log = logging.getLogger(__name__)

FIRST_KNOWN_YEAR = 2004


@dataclass(frozen=True)
class CalendarDay:
    """One day of the year as deadlines count it, and why."""

    day: date
    workday: bool
    # "workday", "weekend", "holiday" (法定节假日) or "makeup" (调休上班: a
    # weekend day worked to make up a holiday)
    kind: str
    holiday: str | None = None  # the holiday's Chinese name (春节), where known
    entered: bool = False  # an administrator's entry decides the day


def month_grids(days: list[CalendarDay]) -> list[tuple[int, list[list[CalendarDay | None]]]]:
    """The days by month, each month as weeks from Monday (None pads the first
    and last week), the shape a wall calendar has."""
    months: dict[int, list[list[CalendarDay | None]]] = {}
    for entry in days:
        weeks = months.setdefault(entry.day.month, [])
        if not weeks or entry.day.weekday() == 0:
            weeks.append([None] * 7)
        weeks[-1][entry.day.weekday()] = entry
    return sorted(months.items())


@dataclass(frozen=True)
class WorkingHours:
    """Office hours: a deadline in working days ends when the office closes."""

    start: time = time(8, 30)
    end: time = time(17, 30)


class WorkCalendar:
    """工作日历: working days on the Chinese calendar, with per-year overrides."""

    def __init__(self, overrides: Mapping[date, bool] | None = None, hours: WorkingHours = WorkingHours()) -> None:
        self.overrides = dict(overrides or {})
        self.hours = hours
        self._override_years = {day.year for day in self.overrides}
        self._cache: dict[date, bool] = {}
        self._fallback: set[int] = set()

    # -- days ---------------------------------------------------------------
    def is_workday(self, day: date) -> bool:
        known = self._cache.get(day)
        if known is None:
            known = self._cache[day] = self._is_workday(day)
        return known

    def _is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        # Where the package knows the year, an entry corrects one day and the
        # rest of the year keeps the State Council's arrangement.
        if day.year >= FIRST_KNOWN_YEAR:
            try:
                return chinese_calendar.is_workday(day)
            except NotImplementedError:
                pass
        if day.year in self._override_years:
            # A year only the administrator entered: Mon–Fri apart from the entries.
            return day.weekday() < 5
        if day.year not in self._fallback:
            self._fallback.add(day.year)
            log.warning("no holiday data for %s: counting Monday to Friday as working days", day.year)
        return day.weekday() < 5

    def is_known_year(self, year: int) -> bool:
        if year in self._override_years:
            return True
        if year < FIRST_KNOWN_YEAR:
            return False
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            return False
        return True

    def year(self, year: int) -> list[CalendarDay]:
        """Every day of ``year``: the year view a dispatcher checks deadlines against."""
        day, days = date(year, 1, 1), []
        while day.year == year:
            days.append(self.describe(day))
            day += timedelta(days=1)
        return days

    def describe(self, day: date) -> CalendarDay:
        workday, weekend = self.is_workday(day), day.weekday() >= 5
        holiday = self._holiday_name(day)
        if workday:
            kind = "makeup" if weekend else "workday"
        else:
            kind = "weekend" if weekend and holiday is None else "holiday"
        return CalendarDay(day, workday, kind, holiday, day in self.overrides)

    def _holiday_name(self, day: date) -> str | None:
        if day in self.overrides or day.year < FIRST_KNOWN_YEAR:
            return None
        try:
            _, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            return None
        try:
            return Holiday(name).chinese if name else None
        except ValueError:  # a name the package knows but its enum does not
            return name

    def fallback_years(self) -> set[int]:
        """Years this calendar has had to count as plain Monday–Friday so far."""
        return set(self._fallback)

    def next_workday(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Deadline "within N working days": counting starts the next working
        day; the deadline is the close of office on the Nth."""
        if days <= 0:
            day = start.date() if self.is_workday(start.date()) else self.next_workday(start.date())
        else:
            day = start.date()
            for _ in range(days):
                day = self.next_workday(day)
        return datetime.combine(day, self.hours.end)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_workday(day)
        return count

    # -- hours --------------------------------------------------------------
    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """Hours counted inside office hours on working days only."""
        remaining = timedelta(hours=hours)
        moment = self._next_opening(start)
        while True:
            closing = datetime.combine(moment.date(), self.hours.end)
            if moment + remaining <= closing:
                return moment + remaining
            remaining -= closing - moment
            moment = datetime.combine(self.next_workday(moment.date()), self.hours.start)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Office time on working days in [start, end]: how much of a working-day
        deadline has run. Zero when end is not after start."""
        total = timedelta(0)
        day = start.date()
        while day <= end.date():
            if self.is_workday(day):
                opening = max(start, datetime.combine(day, self.hours.start))
                closing = min(end, datetime.combine(day, self.hours.end))
                if closing > opening:
                    total += closing - opening
            day += timedelta(days=1)
        return total

    def _next_opening(self, moment: datetime) -> datetime:
        day = moment.date()
        opening = datetime.combine(day, self.hours.start)
        closing = datetime.combine(day, self.hours.end)
        if self.is_workday(day) and moment < closing:
            return max(moment, opening)
        return datetime.combine(self.next_workday(day), self.hours.start)
