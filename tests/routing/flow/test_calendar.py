"""The working-day calendar: Chinese holidays, make-up days, and years no one has published yet."""

from __future__ import annotations

import logging
from datetime import date, datetime

import pytest

from routing.flow.calendar import WorkCalendar, month_grids


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


def test_the_year_view_names_each_holiday_and_each_make_up_working_day(calendar):
    days = {d.day: d for d in calendar.year(2026)}
    assert len(days) == 365
    spring = days[date(2026, 2, 17)]
    assert (spring.kind, spring.workday, spring.holiday) == ("holiday", False, "春节")
    # Saturday 14 February 2026 is worked to make up the Spring Festival.
    assert (days[date(2026, 2, 14)].kind, days[date(2026, 2, 14)].workday) == ("makeup", True)
    assert (days[date(2026, 3, 7)].kind, days[date(2026, 3, 7)].holiday) == ("weekend", None)
    assert days[date(2026, 3, 9)].kind == "workday"
    assert sum(d.workday for d in days.values()) == sum(calendar.is_workday(d) for d in days)


def test_an_entered_day_decides_the_year_view_and_is_marked():
    calendar = WorkCalendar({date(2026, 3, 9): False, date(2026, 3, 7): True})
    days = {d.day: d for d in calendar.year(2026)}
    assert (days[date(2026, 3, 9)].kind, days[date(2026, 3, 9)].entered) == ("holiday", True)
    assert (days[date(2026, 3, 7)].kind, days[date(2026, 3, 7)].entered) == ("makeup", True)
    assert not days[date(2026, 3, 10)].entered


def test_a_year_no_one_published_shows_plain_weeks():
    days = WorkCalendar().year(2099)
    assert {d.kind for d in days} == {"workday", "weekend"}
    assert all(d.holiday is None for d in days)


def test_month_grids_lay_each_month_out_in_weeks_from_monday(calendar):
    months = dict(month_grids(calendar.year(2026)))
    assert sorted(months) == list(range(1, 13))
    february = months[2]
    # 1 February 2026 is a Sunday: the first week is six blanks and the 1st.
    assert [d.day.day if d else None for d in february[0]] == [None] * 6 + [1]
    assert sum(1 for week in february for d in week if d) == 28
    assert all(len(week) == 7 for weeks in months.values() for week in weeks)


def test_correcting_one_day_of_a_published_year_keeps_the_rest_of_its_holidays():
    corrected = WorkCalendar({date(2026, 10, 8): False})
    assert not corrected.is_workday(date(2026, 10, 8))
    assert not corrected.is_workday(date(2026, 10, 1))  # National Day stays a holiday
    assert corrected.is_workday(date(2026, 10, 10))  # and its make-up Saturday is still worked
