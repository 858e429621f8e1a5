"""Assisting agencies (协办单位) give the lead agency their views on a deputy's
suggestion within one month of being assigned: the deadline is shown to them,
yellow when near, red when missed."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from collector.deputies import DeputyInput, deputy_of, submit
from routing.clock import now
from routing.flow import workflow
from routing.flow.assisting import opinion_due, opinion_dues
from routing.flow.deadlines import add_months, load_calendar, months_later
from routing.flow.escalation import Level
from routing.store.people import Agency, User

from ..conftest import post_form
from ..helpers import agency_login, fixed_reading
from ..helpers import ticket as reload

SUGGESTION = "建议在西湖区文新街道学院路增设公交站台，方便周边居民出行。"


def agency(session, name: str) -> Agency:
    return session.scalar(select(Agency).where(Agency.name == name))


def suggestion_assisted(session, assigned_ago: timedelta, *, text: str = SUGGESTION):
    """A deputy's suggestion with 市城管局 assisting since ``assigned_ago``."""
    deputy = deputy_of(session, session.scalar(select(User).where(User.username == "deputy")))
    at = now() - assigned_ago
    ticket = submit(session, deputy, DeputyInput(text=text, mode="suggestion"), fixed_reading, at)
    dispatcher = session.scalar(select(User).where(User.username == "dispatcher"))
    workflow.set_assisting(session, ticket, [agency(session, "市城管局")], dispatcher, at)
    session.commit()
    return ticket, at


def test_the_opinion_is_due_one_month_after_assignment_and_late_when_missed(demo):
    ticket, at = suggestion_assisted(demo, timedelta(0))
    calendar = load_calendar(demo)
    chengguan = agency(demo, "市城管局")
    due = opinion_due(ticket, chengguan, calendar)
    assert due.assigned_at == at and due.due == months_later(calendar, at, 1)
    assert add_months(at, 1) <= due.due.date() and due.given_at is None
    assert due.level(at + timedelta(days=1), calendar) is Level.NONE
    assert due.level(due.due - timedelta(days=1), calendar) is Level.YELLOW
    assert due.level(due.due + timedelta(hours=1), calendar) is Level.RED

    staff = demo.scalar(select(User).where(User.username == agency_login(demo, chengguan)))
    workflow.add_opinion(demo, ticket, staff, at + timedelta(days=3), "站台选址需避开消防通道。")
    on_time = opinion_due(ticket, chengguan, calendar)
    assert on_time.given_at == at + timedelta(days=3) and on_time.level(due.due + timedelta(days=9), calendar) is Level.NONE
    assert [d.agency for d in opinion_dues(ticket, calendar)] == ["市城管局"]
    # The lead agency has no opinion to give.
    assert opinion_due(ticket, ticket.agency, calendar) is None


def test_an_opinion_given_after_the_month_counts_as_late(demo):
    ticket, at = suggestion_assisted(demo, timedelta(0))
    calendar = load_calendar(demo)
    chengguan = agency(demo, "市城管局")
    staff = demo.scalar(select(User).where(User.username == agency_login(demo, chengguan)))
    late = opinion_due(ticket, chengguan, calendar).due + timedelta(days=2)
    workflow.add_opinion(demo, ticket, staff, late, "意见迟到。")
    assert opinion_due(ticket, chengguan, calendar).level(late, calendar) is Level.RED


def test_only_deputy_suggestions_have_an_opinion_deadline(demo):
    deputy = deputy_of(demo, demo.scalar(select(User).where(User.username == "deputy")))
    complaint = submit(demo, deputy, DeputyInput(text="文新街道路灯坏了很多天了"), fixed_reading, now())
    dispatcher = demo.scalar(select(User).where(User.username == "dispatcher"))
    workflow.set_assisting(demo, complaint, [agency(demo, "市城管局")], dispatcher, now())
    assert opinion_due(complaint, agency(demo, "市城管局"), load_calendar(demo)) is None


def test_the_assisting_agency_sees_its_deadline_marked_on_its_pages(client, auth, demo):
    fresh, at = suggestion_assisted(demo, timedelta(0))
    missed, _ = suggestion_assisted(demo, timedelta(days=45), text=SUGGESTION + "（二）")
    auth.login(agency_login(demo, agency(demo, "市城管局")))
    queue = client.get("/agency/").get_data(as_text=True)
    assert "协办意见时限" in queue
    assisting = queue[queue.index('id="assisting"'):]
    rows = dict(re.findall(r'<a href="/agency/tickets/(\d+)">\d+</a>(.*?)</tr>', assisting, re.S))
    due = months_later(load_calendar(demo), at, 1)
    assert due.strftime("%Y-%m-%d") in rows[fresh.number] and "level-" not in rows[fresh.number]
    assert "level-red" in rows[missed.number] and "逾期" in rows[missed.number]

    page_url = f"/agency/tickets/{missed.number}"
    page = client.get(page_url).get_data(as_text=True)
    assert re.search(r'id="opinion-due">协办意见时限：.*level-red', page)
    post_form(client, f"{page_url}/opinion", {"opinion": "已会同交警部门研究。"}, page=page_url)
    # Given late: still marked, and given.
    page = client.get(page_url).get_data(as_text=True)
    assert "已提出" in page and "level-red" in page
    assert reload(demo, missed.number).events[-1].action == "assist_opinion"
