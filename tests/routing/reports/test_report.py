"""The monthly report (月度报告): March 2026 for the city, a district and an agency.

Read on 10 April: the report's figures are the dashboard's counts bounded to
the month and the scorecard's for the month, narrowed to the district where asked.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from routing.flow import ratings, workflow
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.reports.report import monthly_report, parse_month
from routing.reports.stats import Scope
from routing.store.areas import District
from routing.store.people import Role

from ..flow.test_workflow import user

READ_AT = datetime(2026, 4, 10, 12, 0)


def opened(session, when, *, channel="api", topic="城乡建设", district="西湖区"):
    return open_ticket(
        session, Inbound(channel=channel, text="小区电梯坏了三个星期没人修。"),
        Labels(topic=topic, confidence=0.9, district=district), when,
    )


@pytest.fixture
def march(demo):
    s = demo
    dispatcher = user(s, Role.DISPATCHER, name="disp")
    on_time = opened(s, datetime(2026, 3, 2, 9), channel="web")
    staff = user(s, Role.AGENCY, on_time.agency, name="staff")
    workflow.accept(s, on_time, staff, datetime(2026, 3, 2, 10))
    workflow.answer(s, on_time, staff, datetime(2026, 3, 4, 10), "已修好。")
    ratings.rate(s, on_time, datetime(2026, 3, 5), "satisfied")
    never_accepted = opened(s, datetime(2026, 3, 3, 9), channel="wechat")
    elsewhere = opened(s, datetime(2026, 3, 9, 9), district="上城区")
    spam = opened(s, datetime(2026, 3, 10, 9))
    workflow.invalidate(s, spam, dispatcher, datetime(2026, 3, 10, 10), "广告")
    opened(s, datetime(2026, 2, 27, 9))  # February's
    opened(s, datetime(2026, 4, 1, 9))  # April's
    s.commit()
    return {"on_time": on_time, "never_accepted": never_accepted, "elsewhere": elsewhere}


def test_the_city_report_counts_the_month_only(demo, march):
    report = monthly_report(demo, date(2026, 3, 1), READ_AT)
    assert (report.start, report.end) == (datetime(2026, 3, 1), datetime(2026, 4, 1))
    assert report.received == 3  # not the invalid one, not February's or April's
    assert {r["name"]: r["count"] for r in report.by_channel} == {"联络站网页": 1, "微信公众号": 1, "接口": 1}
    assert {r["name"]: r["count"] for r in report.by_topic} == {"城乡建设": 3}
    assert report.total.answered_on_time == 1 and report.total.satisfied == 1 and report.total.rated == 1
    # Overdue now, whatever the month: March's unaccepted two, February's, and April's first.
    overdue = {t.number for t in report.overdue}
    assert {march["never_accepted"].number, march["elsewhere"].number} <= overdue
    assert report.overdue_count == len(overdue)


def test_a_district_report_sees_its_district_only(demo, march):
    xihu = demo.scalar(select(District).where(District.name == "西湖区"))
    report = monthly_report(demo, date(2026, 3, 1), READ_AT, Scope(district_id=xihu.id))
    assert report.received == 2
    assert {t.district_id for t in report.overdue} == {xihu.id}
    assert march["elsewhere"].number not in {t.number for t in report.overdue}
    # Assigned counts as the scorecard does: the spam was assigned in March before it was found out.
    assert report.total.assigned == 3 and report.total.answered_on_time == 1
    assert all(row.assigned or row.rated or row.overdue for row in report.scores.rows)


def test_an_agency_report_is_its_own_row(demo, march):
    agency_id = march["on_time"].agency_id
    report = monthly_report(demo, date(2026, 3, 1), READ_AT, Scope(agency_id=agency_id))
    assert [row.agency_id for row in report.scores.rows] == [agency_id]
    assert {t.agency_id for t in report.overdue} == {agency_id}
    assert report.total.satisfaction_rate == 1.0


def test_months_are_read_as_yyyy_mm():
    assert parse_month("2026-03", date(2026, 4, 10)) == date(2026, 3, 1)
    assert parse_month(None, date(2026, 4, 10)) == date(2026, 4, 1)
    for wrong in ("2026-13", "2026-3", "March", "2026-03-01"):
        with pytest.raises(ValueError):
            parse_month(wrong, date(2026, 4, 10))
