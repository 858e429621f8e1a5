"""The ticket list's filters (工单查询) and export rows."""

from __future__ import annotations

from datetime import date

from routing.listing import EXPORT_COLUMNS, TicketFilter, count_tickets, export_rows, find_tickets
from routing.models import Status
from routing.stats import Scope

from .test_stats import city, make  # noqa: F401  (city is a fixture)


def numbers(tickets):
    return [t.number for t in tickets]


def test_filters_narrow_the_list_newest_first(session, city):
    housing, transport = city["市住建局"], city["市交通运输局"]
    old = make(session, days_ago=20, agency=housing, district=city["西湖区"])
    parking = make(session, days_ago=2, agency=transport, district=city["拱墅区"], topic="交通运输", channel="wechat")
    answered = make(session, days_ago=1, agency=housing, status=Status.ANSWERED, district=city["西湖区"])
    parking.text = "小区门口停车费100%上涨_不合理"
    session.commit()

    assert numbers(find_tickets(session, TicketFilter())) == [answered.number, parking.number, old.number]
    assert numbers(find_tickets(session, TicketFilter(status=Status.ANSWERED))) == [answered.number]
    assert numbers(find_tickets(session, TicketFilter(topic="交通运输"))) == [parking.number]
    assert numbers(find_tickets(session, TicketFilter(agency_id=housing.id))) == [answered.number, old.number]
    assert numbers(find_tickets(session, TicketFilter(district_id=city["拱墅区"].id))) == [parking.number]
    assert numbers(find_tickets(session, TicketFilter(channel="wechat"))) == [parking.number]
    recent = TicketFilter(since=date(2026, 11, 18), until=date(2026, 11, 18))
    assert numbers(find_tickets(session, recent)) == [parking.number]
    # Words are matched literally: % and _ are not wildcards.
    assert numbers(find_tickets(session, TicketFilter(words="100%上涨_"))) == [parking.number]
    assert find_tickets(session, TicketFilter(words="1_0%")) == []
    assert count_tickets(session, TicketFilter(agency_id=housing.id)) == 2
    assert numbers(find_tickets(session, TicketFilter(), page=2, size=2)) == [old.number]


def test_agency_staff_list_only_their_own(session, city):
    mine = make(session, agency=city["市住建局"])
    make(session, agency=city["市交通运输局"])
    session.commit()
    scope = Scope(agency_id=city["市住建局"].id)
    assert numbers(find_tickets(session, TicketFilter(), scope)) == [mine.number]
    # Asking for another agency's tickets gives nothing, not theirs.
    assert find_tickets(session, TicketFilter(agency_id=city["市交通运输局"].id), scope) == []


def test_export_rows_have_a_header_and_no_contact_data(session, city):
    t = make(session, agency=city["市住建局"], district=city["西湖区"], contact_name="李女士", contact_phone="13800000000")
    session.commit()
    header, row = list(export_rows([t]))
    assert tuple(header) == EXPORT_COLUMNS
    assert row[0] == t.number and row[2] == "办理中" and row[3] == "联络站网页" and row[8] == "市住建局"
    assert "李女士" not in row and "13800000000" not in row
