"""The dashboard's figures (统计看板) are SQL aggregates over the tickets."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

import pytest

from routing.dispatch.places import DISTRICT_CENTRES
from routing.reports import stats
from routing.store.areas import District
from routing.store.people import Agency
from routing.store.tickets import Status, Ticket

NOW = datetime(2026, 11, 20, 15, 0)
_serial = count(1)


@pytest.fixture
def city(session):
    west, gongshu = District(name="西湖区"), District(name="拱墅区")
    housing, transport = Agency(name="市住建局"), Agency(name="市交通运输局")
    session.add_all([west, gongshu, housing, transport])
    session.flush()
    return {"西湖区": west, "拱墅区": gongshu, "市住建局": housing, "市交通运输局": transport}


def make(session, *, days_ago=0, status=Status.ACCEPTED, topic="城乡建设", agency=None, district=None,
         channel="web", **fields):
    """A ticket row as the workflow leaves it; reading needs nothing more."""
    created = NOW - timedelta(days=days_ago, hours=1)
    n = next(_serial)
    ticket = Ticket(
        number=f"T{n:06d}", code="ABCDEFGH", status=status, channel=channel, text=f"第{n}件",
        topic=topic, agency_id=agency.id if agency else None, district_id=district.id if district else None,
        created_at=created, updated_at=created, **fields,
    )
    session.add(ticket)
    session.flush()
    return ticket


def totals(figures, dimension):
    return {t["name"]: t["count"] for t in figures["by"][dimension]["totals"]}


def test_counts_by_topic_agency_district_and_channel_per_day_within_the_period(session, city):
    make(session, days_ago=0, topic="城乡建设", agency=city["市住建局"], district=city["西湖区"])
    make(session, days_ago=0, topic="城乡建设", agency=city["市住建局"], district=city["西湖区"], channel="wechat")
    make(session, days_ago=3, topic="交通运输", agency=city["市交通运输局"], district=city["拱墅区"])
    make(session, days_ago=3, topic=None, status=Status.RECEIVED, channel="wechat")
    make(session, days_ago=10, topic="交通运输")  # outside a 7-day period
    make(session, days_ago=1, status=Status.INVALID)  # spam is no one's matter
    session.commit()

    week = stats.dashboard(session, NOW, 7)
    assert week["period"] == {"days": 7, "from": "2026-11-14", "to": "2026-11-20"}
    assert len(week["days"]) == 7 and week["total"] == 4
    assert week["per_day"][-1] == 2 and week["per_day"][-4] == 2 and sum(week["per_day"]) == 4
    assert totals(week, "topic") == {"城乡建设": 2, "交通运输": 1, "未确定": 1}
    assert totals(week, "agency") == {"市住建局": 2, "市交通运输局": 1, "未确定": 1}
    assert totals(week, "district") == {"西湖区": 2, "拱墅区": 1, "未确定": 1}
    assert totals(week, "channel") == {"联络站网页": 2, "微信公众号": 2}
    building = week["by"]["topic"]["series"][0]
    assert building["name"] == "城乡建设" and building["counts"] == [0, 0, 0, 0, 0, 0, 2]

    assert stats.dashboard(session, NOW, 30)["total"] == 5


def test_agency_staff_count_only_their_own_tickets(session, city):
    make(session, agency=city["市住建局"], district=city["西湖区"])
    make(session, agency=city["市交通运输局"], district=city["拱墅区"], latitude=30.3, longitude=120.1)
    session.commit()
    figures = stats.dashboard(session, NOW, 7, stats.Scope(agency_id=city["市住建局"].id))
    assert figures["total"] == 1
    assert totals(figures, "agency") == {"市住建局": 1}
    assert figures["places"]["points"] == []
    assert [d["name"] for d in figures["places"]["districts"]] == ["西湖区"]


def test_overdue_and_due_soon_follow_the_running_deadline(session, city):
    agency = city["市住建局"]
    late_accept = make(session, status=Status.ASSIGNED, agency=agency, accept_by=NOW - timedelta(hours=2),
                       answer_by=NOW + timedelta(days=10))
    late_answer = make(session, status=Status.ACCEPTED, agency=agency, answer_by=NOW - timedelta(days=1))
    soon = make(session, status=Status.ACCEPTED, agency=agency, answer_by=NOW + timedelta(hours=5))
    make(session, status=Status.ACCEPTED, agency=agency, answer_by=NOW + timedelta(days=3))  # not yet
    make(session, status=Status.WAITING, agency=agency, answer_by=NOW - timedelta(days=1))  # clock stopped
    make(session, status=Status.ANSWERED, agency=agency, answer_by=NOW - timedelta(days=1))  # done
    other = make(session, status=Status.ACCEPTED, agency=city["市交通运输局"], answer_by=NOW - timedelta(hours=1))
    session.commit()

    due = stats.due(session, NOW)
    assert [r["number"] for r in due["overdue"]] == [late_answer.number, late_accept.number, other.number]
    assert [r["number"] for r in due["soon"]] == [soon.number]
    assert due["overdue_count"] == 3 and due["soon_count"] == 1
    first = due["overdue"][1]
    assert first["which"] == "签收" and first["status"] == "待签收" and first["agency"] == "市住建局"

    own = stats.due(session, NOW, stats.Scope(agency_id=city["市交通运输局"].id))
    assert [r["number"] for r in own["overdue"]] == [other.number] and own["soon"] == []


def test_places_are_exact_points_and_every_district_with_its_count(session, city):
    point = make(session, latitude=30.28, longitude=120.15, district=city["西湖区"])
    make(session, district=city["西湖区"])
    make(session, district=city["西湖区"])
    make(session, district=city["拱墅区"])
    make(session)  # no place at all: not on the map
    session.commit()

    places = stats.places(session, stats.period_start(NOW, 7))
    assert places["points"] == [{"number": point.number, "latitude": 30.28, "longitude": 120.15, "topic": "城乡建设"}]
    west = DISTRICT_CENTRES["西湖区"]
    # A district counts all its tickets, those with a point of their own too: the map shades it by that.
    assert places["districts"][0] == {
        "name": "西湖区", "key": city["西湖区"].id, "latitude": west[0], "longitude": west[1], "count": 3
    }
    assert places["districts"][1]["name"] == "拱墅区" and places["districts"][1]["count"] == 1


def test_only_the_offered_periods(session):
    with pytest.raises(ValueError):
        stats.dashboard(session, NOW, 14)
    empty = stats.dashboard(session, NOW, 90)
    assert empty["total"] == 0 and len(empty["days"]) == 90 and empty["due"]["overdue"] == []
