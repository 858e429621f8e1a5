"""The ticket list's filters and order (工单查询) and export rows."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import groupby

from routing.reports.listing import EXPORT_COLUMNS, TicketFilter, TicketOrder, count_tickets, export_rows, find_tickets
from routing.reports.stats import CITY, Scope
from routing.store.tickets import Status

from .test_stats import NOW, city, make  # noqa: F401  (city is a fixture)


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


def sorted_by(session, key, direction=None, ticket_filter=TicketFilter(), scope=CITY, **kwargs):
    return numbers(find_tickets(session, ticket_filter, scope, order=TicketOrder.parse(key, direction), **kwargs))


def test_the_soonest_deadline_first_and_tickets_without_one_last(session, city):
    later = make(session, days_ago=5, answer_by=NOW + timedelta(days=9))
    none_old = make(session, days_ago=4)
    soon = make(session, days_ago=3, answer_by=NOW + timedelta(days=1))
    overdue = make(session, days_ago=2, answer_by=NOW - timedelta(days=1))
    none_new = make(session, days_ago=1)
    session.commit()

    assert sorted_by(session, "answer_by") == [overdue.number, soon.number, later.number, none_old.number, none_new.number]
    # Descending: the latest deadline first — and still no deadline last, the newer of them first.
    assert sorted_by(session, "answer_by", "desc") == [later.number, soon.number, overdue.number, none_new.number, none_old.number]


def test_every_column_sorts_both_ways_with_the_id_breaking_ties(session, city):
    housing, transport = city["市住建局"], city["市交通运输局"]
    west, gongshu = city["西湖区"], city["拱墅区"]
    a = make(session, days_ago=5, status=Status.ANSWERED, topic="交通运输", agency=transport, district=west)
    b = make(session, days_ago=4, status=Status.TRIAGE, topic=None)
    c = make(session, days_ago=3, status=Status.ACCEPTED, topic="城乡建设", agency=housing, district=gongshu)
    d = make(session, days_ago=2, status=Status.TRIAGE, topic="城乡建设", agency=housing, district=west)
    a.updated_at = NOW  # the oldest ticket changed last
    session.commit()

    assert sorted_by(session, "created") == [d.number, c.number, b.number, a.number]  # the default
    assert sorted_by(session, "created", "asc") == [a.number, b.number, c.number, d.number]
    # Status in the workflow's order (待分拣 before 办理中 before 已答复), not by its code's spelling.
    assert sorted_by(session, "status") == [b.number, d.number, c.number, a.number]
    assert sorted_by(session, "status", "desc") == [a.number, c.number, d.number, b.number]
    assert sorted_by(session, "updated") == [a.number, d.number, c.number, b.number]
    assert sorted_by(session, "updated", "asc") == [b.number, c.number, d.number, a.number]
    for key, name in (("agency", lambda t: t.agency_id), ("district", lambda t: t.district_id), ("topic", lambda t: t.topic)):
        ascending = find_tickets(session, TicketFilter(), order=TicketOrder.parse(key, "asc"))
        descending = find_tickets(session, TicketFilter(), order=TicketOrder.parse(key, "desc"))
        # Equal values stay together with the smaller id first (ascending), nothing last either way.
        assert name(ascending[-1]) is None and name(descending[-1]) is None, key
        groups = [name(t) for t in ascending[:-1]]
        assert len([value for value, _ in groupby(groups)]) == len(set(groups)) == 2, key
        assert [name(t) for t in descending[:-1]] == groups[::-1], key
        for values in (ascending, descending):
            ids = [t.id for t in values[:-1] if name(t) == groups[0]]
            assert ids == sorted(ids, reverse=values is descending), key


def test_pages_of_a_sorted_list_neither_overlap_nor_leave_gaps(session, city):
    same = NOW + timedelta(days=3)
    made = [make(session, days_ago=1, answer_by=same) for _ in range(5)]  # all tied
    session.commit()
    pages = [sorted_by(session, "answer_by", page=p, size=2) for p in (1, 2, 3)]
    assert sum(pages, []) == [t.number for t in made]


def test_an_unknown_order_is_the_default_and_never_sql(session, city):
    older, newer = make(session, days_ago=2), make(session, days_ago=1)
    session.commit()
    assert TicketOrder.parse("id; DROP TABLE ticket", "asc") == TicketOrder()
    assert TicketOrder.parse("answer_by", "sideways") == TicketOrder("answer_by", "asc")
    assert TicketOrder.parse(None) == TicketOrder("created", "desc")
    assert sorted_by(session, "text", "asc") == [newer.number, older.number]


def test_a_header_toggles_its_own_column_and_starts_others_in_their_first_direction():
    order = TicketOrder()
    assert order.toggled("created") == TicketOrder("created", "asc")
    assert order.toggled("answer_by") == TicketOrder("answer_by", "asc")
    assert TicketOrder("answer_by", "asc").toggled("answer_by") == TicketOrder("answer_by", "desc")
    assert TicketOrder("answer_by", "desc").toggled("answer_by").args() == {"sort": "answer_by", "dir": "asc"}
    assert TicketOrder("created", "asc").toggled("created").args() == {}  # back to the default: a plain URL


def test_sorting_keeps_agency_staff_to_their_own(session, city):
    mine = make(session, agency=city["市住建局"], answer_by=NOW + timedelta(days=2))
    make(session, agency=city["市交通运输局"], answer_by=NOW + timedelta(days=1))
    session.commit()
    scope = Scope(agency_id=city["市住建局"].id)
    for key in ("answer_by", "agency", "district", "status"):
        assert sorted_by(session, key, scope=scope) == [mine.number]


def test_a_chart_s_unknown_bar_and_the_dashboard_s_count_without_invalid(session, city):
    placed = make(session, days_ago=1, agency=city["市住建局"], district=city["西湖区"])
    unplaced = make(session, days_ago=1, topic=None)
    make(session, days_ago=1, status=Status.INVALID, topic=None)
    session.commit()
    unknown = TicketFilter(unset=frozenset({"topic", "agency", "district"}), counted=True)
    assert numbers(find_tickets(session, unknown)) == [unplaced.number]
    assert count_tickets(session, TicketFilter(unset=frozenset({"topic"}))) == 2
    assert count_tickets(session, TicketFilter(counted=True)) == 2
    assert numbers(find_tickets(session, TicketFilter(district_id=city["西湖区"].id, counted=True))) == [placed.number]
