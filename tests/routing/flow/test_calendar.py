"""The working-day calendar: Chinese holidays, make-up days, and years no one has published yet."""

from __future__ import annotations

import logging
from datetime import date, datetime

import pytest

from routing.flow.calendar import WorkCalendar


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar()


def test_national_day_week_is_not_worked_and_its_make_up_saturday_is(calendar):
    assert not calendar.is_workday(date(2026, 10, 1))
    assert not calendar.is_workday(date(2026, 10, 7))
    assert calendar.is_workday(date(2026, 10, 10))  # a Saturday, 调休


def test_a_deadline_counts_from_the_next_working_day_and_ends_at_closing_time(calendar):
    # Raised on Wednesday 30 September 2026: the holiday runs 1–7 October.
    start = datetime(2026, 9, 30, 10, 0)
    assert calendar.add_working_days(start, 1) == datetime(2026, 10, 8, 17, 30)
    # 8, 9, 10 (make-up Saturday), 12 October.
    assert calendar.add_working_days(start, 4) == datetime(2026, 10, 12, 17, 30)


def test_spring_festival_is_skipped(calendar):
    # Friday 13 February 2026; 14 Feb is a make-up Saturday, 15–23 Feb is the holiday.
    start = datetime(2026, 2, 13, 9, 0)
    assert calendar.add_working_days(start, 1) == datetime(2026, 2, 14, 17, 30)
    assert calendar.add_working_days(start, 2) == datetime(2026, 2, 24, 17, 30)


def test_a_deadline_into_an_unpublished_year_falls_back_to_weekdays_and_says_so(calendar, caplog):
    # 15 working days from mid-December 2026 reach 2027, which chinesecalendar does not know.
    with caplog.at_level(logging.WARNING, logger="routing.calendar"):
        deadline = calendar.add_working_days(datetime(2026, 12, 21, 9, 0), 15)
    assert deadline == datetime(2027, 1, 11, 17, 30)
    assert calendar.fallback_years() == {2027}
    assert not calendar.is_known_year(2027)
    assert "2027" in caplog.text


def test_administrators_overrides_make_a_year_known_and_win(calendar):
    overrides = {date(2027, 1, 1): False, date(2027, 1, 4): False, date(2027, 1, 9): True}
    configured = WorkCalendar(overrides)
    assert configured.is_known_year(2027)
    assert not configured.is_workday(date(2027, 1, 1))  # Friday, a holiday
    assert not configured.is_workday(date(2027, 1, 4))
    assert configured.is_workday(date(2027, 1, 9))  # Saturday, a make-up day
    assert configured.is_workday(date(2027, 1, 5))  # an ordinary Tuesday
    assert configured.fallback_years() == set()
    # An override also beats the package's own data.
    assert WorkCalendar({date(2026, 10, 8): False}).is_workday(date(2026, 10, 8)) is False


def test_working_days_between_counts_the_later_end_only(calendar):
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 9)) == 2
    assert calendar.working_days_between(date(2026, 10, 9), date(2026, 9, 30)) == -2
    assert calendar.working_days_between(date(2026, 11, 2), date(2026, 11, 2)) == 0


def test_working_hours_stop_at_closing_and_resume_the_next_working_morning(calendar):
    # Friday 20 November 2026, 16:30 + 2 working hours → Monday 23rd, 09:30.
    assert calendar.add_working_hours(datetime(2026, 11, 20, 16, 30), 2) == datetime(2026, 11, 23, 9, 30)
    # Thursday 24 September 2026: the Mid-Autumn Festival takes Friday 25th to Sunday 27th.
    assert calendar.add_working_hours(datetime(2026, 9, 24, 17, 0), 1) == datetime(2026, 9, 28, 9, 0)
    # Before opening, counting starts at 08:30.
    assert calendar.add_working_hours(datetime(2026, 9, 28, 6, 0), 1) == datetime(2026, 9, 28, 9, 30)
