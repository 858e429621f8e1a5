"""The index of ticket fingerprints: what a new ticket's duplicate search
reads, and what it must not find."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.dispatch.matters import (
    count_unindexed,
    fingerprints_of,
    index_matters,
    open_fingerprints_since,
    similar_open,
    unindexed_open,
)
from routing.flow import steps
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.store.areas import District
from routing.store.people import Role, User
from routing.store.tickets import MatterTerm, Status, Ticket

# After the demo's own tickets, so that a fortnight's window holds only the tests'.
NOW = datetime(2027, 6, 1, 10, 0)
LIGHT = ((1, 0.8), (2, 0.6))
LIGHT_RETOLD = ((1, 0.6), (3, 0.8))
OTHER = ((9, 1.0),)


def raised(session: Session, at: datetime, matter=LIGHT, district: District | None = None) -> Ticket:
    labels = Labels(topic="城乡建设", confidence=0.9, matter=matter)
    ticket = open_ticket(session, Inbound(channel="web", text="大关路路灯不亮"), labels, at)
    ticket.district = district
    session.flush()
    return ticket


@pytest.fixture
def districts(demo) -> dict[str, District]:
    return {d.name: d for d in demo.scalars(select(District))}


def test_a_ticket_opened_with_a_fingerprint_is_indexed_and_indexing_again_replaces_it(demo):
    ticket = raised(demo, NOW)
    assert fingerprints_of(demo, [ticket.id]) == {ticket.id: list(LIGHT)}
    index_matters(demo, {ticket.id: (ticket.created_at, OTHER)})
    assert fingerprints_of(demo, [ticket.id]) == {ticket.id: list(OTHER)}
    assert demo.scalar(select(func.count()).select_from(MatterTerm).where(MatterTerm.ticket_id == ticket.id)) == 1
    assert demo.scalar(select(MatterTerm.raised_at).where(MatterTerm.ticket_id == ticket.id)) == NOW


def test_the_search_finds_open_tickets_of_the_year_that_share_terms_best_first(demo):
    close = raised(demo, NOW - timedelta(days=300))
    retold = raised(demo, NOW - timedelta(days=2), LIGHT_RETOLD)
    raised(demo, NOW - timedelta(days=1), OTHER)
    too_old = raised(demo, NOW - timedelta(days=400))
    closed = raised(demo, NOW - timedelta(days=3))
    dispatcher = demo.scalar(select(User).where(User.role == Role.DISPATCHER))
    steps.transition(demo, closed, "invalidate", dispatcher, NOW, reason="广告")
    assert closed.status is Status.INVALID
    new = raised(demo, NOW)

    found = similar_open(demo, LIGHT, NOW - timedelta(days=365), exclude=new.id)
    assert [ticket_id for ticket_id, _ in found] == [close.id, retold.id]
    assert found[0][1] == pytest.approx(1.0) and found[1][1] == pytest.approx(0.8 * 0.6)
    assert too_old.id not in dict(found) and closed.id not in dict(found)
    assert similar_open(demo, LIGHT, NOW - timedelta(days=365), exclude=new.id, limit=1) == found[:1]
    assert similar_open(demo, (), NOW - timedelta(days=365)) == []


def test_the_search_keeps_to_the_district_or_tickets_whose_place_is_unknown(demo, districts):
    here = raised(demo, NOW, district=districts["拱墅区"])
    unplaced = raised(demo, NOW)
    raised(demo, NOW, district=districts["西湖区"])
    found = similar_open(demo, LIGHT, NOW - timedelta(days=1), district_id=districts["拱墅区"].id)
    assert sorted(ticket_id for ticket_id, _ in found) == sorted([here.id, unplaced.id])


def test_the_window_s_fingerprints_for_hot_issues_and_the_tickets_left_to_index(demo):
    indexed = raised(demo, NOW - timedelta(days=1))
    unread = open_ticket(demo, Inbound(channel="wechat", text="路灯坏了"), None, NOW)  # no labels yet
    raised(demo, NOW - timedelta(days=30))
    demo.flush()
    assert open_fingerprints_since(demo, NOW - timedelta(days=14), limit=100) == {indexed.id: list(LIGHT)}
    since = NOW - timedelta(days=14)
    assert count_unindexed(demo, since) == 1
    assert [t.id for t in unindexed_open(demo, since)] == [unread.id]
    assert unindexed_open(demo, since, after=unread.id) == []
