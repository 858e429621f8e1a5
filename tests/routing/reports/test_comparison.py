"""环比与同比: a period's headline figures beside an earlier period's."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from routing.reports import comparison, stats
from routing.store.tickets import Status

from .test_stats import NOW, city, make  # noqa: F401  (city is a fixture)


def rows(compared):
    return {row["key"]: row for row in compared}


def test_the_dashboard_period_against_the_days_before_it(session, city):
    housing = city["市住建局"]
    for _ in range(3):
        make(session, days_ago=1, agency=housing)
    make(session, days_ago=8, agency=housing)  # the week before
    make(session, days_ago=9, agency=housing)
    make(session, days_ago=15, agency=housing)  # before that: in neither
    make(session, days_ago=2, status=Status.INVALID)  # not counted
    make(session, days_ago=1, agency=city["市交通运输局"])
    session.commit()

    week = comparison.period_on_period(session, NOW, 7)
    assert week["before"] == {"from": "2026-11-07", "to": "2026-11-13"}
    received = rows(week["figures"])["received"]
    assert (received["value"], received["before"]) == (4, 2) and received["change"] == pytest.approx(1.0)
    own = rows(comparison.period_on_period(session, NOW, 7, stats.Scope(agency_id=housing.id))["figures"])
    assert (own["received"]["value"], own["received"]["before"]) == (3, 2)
    assert own["received"]["change"] == pytest.approx(0.5)
    assert own["on_time_rate"]["value"] is None and own["on_time_rate"]["change"] is None


def test_a_count_changes_by_a_share_and_a_rate_by_points():
    assert comparison.change("count", 3, 4) == pytest.approx(-0.25)
    assert comparison.change("count", 3, 0) is None  # from nothing: no share
    assert comparison.change("rate", 0.9, 0.75) == pytest.approx(0.15)
    assert comparison.change("rate", 0.9, None) is None


def test_a_month_against_the_month_before_and_a_year_before(session, city):
    this_month = NOW.replace(day=5)
    make(session, days_ago=(NOW - this_month).days)
    make(session, days_ago=(NOW - this_month).days)
    make(session, days_ago=(NOW - this_month.replace(month=10)).days)
    make(session, days_ago=(NOW - this_month.replace(year=2025)).days)
    session.commit()
    months = comparison.month_on_month(session, date(2026, 11, 1), NOW)
    assert (months.previous.start.date(), months.year_before.start.date()) == (date(2026, 10, 1), date(2025, 11, 1))
    received = rows(months.rows())["received"]
    assert (received["value"], received["before"], received["year_before"]) == (2, 1, 1)
    assert received["change"] == pytest.approx(1.0) and received["year_change"] == pytest.approx(1.0)
    assert months.month.end - months.month.start == timedelta(days=30)
