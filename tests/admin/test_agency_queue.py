"""The agency's queue (待办工单): tabs by state with their counts, both
deadlines shown and sortable, and a reopened ticket flagged."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from routing.clock import now
from routing.flow import answers, workflow
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.store.people import Agency, User
from routing.store.tickets import Status, Ticket

from ..helpers import agency_login, ticket


@pytest.fixture
def housing(demo):
    """市住建局 with four new tickets: one accepted, one waiting for the resident,
    one answered and reopened, one just assigned."""
    agency = demo.scalar(select(Agency).where(Agency.name == "市住建局"))
    login = agency_login(demo, agency)
    staff = demo.scalar(select(User).where(User.username == login))
    made = []
    for minutes, text in ((40, "小区电梯坏了"), (30, "楼道灯不亮"), (20, "物业不作为"), (10, "外墙瓷砖掉落")):
        labels = Labels(topic="城乡建设", confidence=0.9)
        made.append(open_ticket(demo, Inbound(channel="web", text=text), labels, now() - timedelta(minutes=minutes)))
    demo.flush()
    accepted, waiting, reopened, _ = made
    for t in (accepted, waiting, reopened):
        workflow.accept(demo, t, staff, now())
    workflow.ask_resident(demo, waiting, staff, now(), "请说明楼号")
    answers.answer(demo, reopened, staff, now(), "已派人查看")
    workflow.reopen(demo, reopened, None, now(), "群众不满意")
    demo.commit()
    assert all(t.agency_id == agency.id for t in made)
    return login, [t.number for t in made]


def rows(page: str) -> list[str]:
    body = page.split('<table class="queue">', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<a href="/agency/tickets/(\d+)">', body)


def test_the_queue_shows_both_deadlines_and_tabs_with_counts(client, auth, demo, housing):
    login, numbers = housing
    auth.login(login)
    page = client.get("/agency/").get_data(as_text=True)
    assert "<th" in page and "签收时限" in page.split('<table class="queue">', 1)[1].split("</thead>", 1)[0]
    assert set(numbers) <= set(rows(page))
    agency_id = ticket(demo, numbers[0]).agency_id
    open_ = demo.scalars(select(Ticket.status).where(Ticket.agency_id == agency_id,
                                                     Ticket.status.in_(AGENCY_STATES))).all()
    tabs = dict(re.findall(r'state=([a-z]+)[^"]*"[^>]*>[^<]+<span class="count">(\d+)</span>', page))
    for state in AGENCY_STATES:
        assert int(tabs[state.value]) == sum(1 for s in open_ if s is state)


def test_a_tab_shows_only_its_state(client, auth, demo, housing):
    login, numbers = housing
    auth.login(login)
    waiting = rows(client.get("/agency/?state=waiting").get_data(as_text=True))
    assert numbers[1] in waiting and numbers[0] not in waiting
    assert all(ticket(demo, n).status is Status.WAITING for n in waiting)
    # An unknown state is every open ticket, not an error.
    assert set(numbers) <= set(rows(client.get("/agency/?state=closed").get_data(as_text=True)))


def test_the_queue_sorts_by_either_deadline(client, auth, demo, housing):
    login, _ = housing
    auth.login(login)
    for key in ("accept_by", "answer_by"):
        shown = rows(client.get(f"/agency/?sort={key}").get_data(as_text=True))
        deadlines = [getattr(ticket(demo, n), key) for n in shown]
        assert deadlines == sorted(deadlines), key


def test_a_reopened_ticket_is_flagged(client, auth, demo, housing):
    login, numbers = housing
    auth.login(login)
    page = client.get("/agency/").get_data(as_text=True)
    row = {n: r for n, r in re.findall(r'<tr>\s*<td><a href="/agency/tickets/(\d+)">(.*?)</tr>', page, re.S)}
    assert "重新办理" in row[numbers[2]]
    assert "重新办理" not in row[numbers[0]] and "重新办理" not in row[numbers[3]]


AGENCY_STATES = (Status.ASSIGNED, Status.ACCEPTED, Status.WAITING, Status.DISPUTED)
