"""重办 on the pages: a redone ticket is flagged in the queues and on its page,
the agency and the dispatcher read the earlier answers with their ratings,
and the dispatcher decides on a ticket redone too often."""

from __future__ import annotations

from datetime import timedelta

import pytest

from routing.clock import now
from routing.flow import ratings, workflow
from routing.store.people import Role, User
from routing.store.tickets import Status

from ..conftest import post_form
from ..helpers import agency_login, ticket
from .test_flow import submit_on_the_station_page


def answered_and_rated_unsatisfied(demo, number, answer, comment):
    """The agency answers, and the resident is not satisfied with it."""
    t = ticket(demo, number)
    staff = User(username=f"redo-{t.agency_id}-{len(t.events)}", display_name="办理员", role=Role.AGENCY,
                 agency_id=t.agency_id, password_hash="x")
    demo.add(staff)
    moment = now() - timedelta(hours=1)
    workflow.accept(demo, t, staff, moment)
    workflow.answer(demo, t, staff, moment, answer)
    ratings.rate(demo, t, moment + timedelta(minutes=5), "unsatisfied", comment)
    demo.commit()
    return t


@pytest.fixture
def redone(client, demo):
    number, _ = submit_on_the_station_page(client, demo)
    answered_and_rated_unsatisfied(demo, number, "已安排清运垃圾。", "垃圾还在")
    return number


@pytest.fixture
def redone_twice(demo, redone):
    answered_and_rated_unsatisfied(demo, redone, "已再次清运并加派保洁。", "第二天又堆满了")
    return redone


def test_the_agency_sees_the_redo_in_its_queue_and_the_earlier_answer(client, auth, demo, redone):
    t = ticket(demo, redone)
    auth.login(agency_login(demo, t.agency))
    queue = client.get("/agency/").get_data(as_text=True)
    assert redone in queue and "第 1 次重办" in queue
    html = client.get(f"/agency/tickets/{redone}").get_data(as_text=True)
    assert "第 1 次重办" in html and 'id="earlier-answers"' in html
    assert "已安排清运垃圾。" in html and "评价：不满意" in html and "垃圾还在" in html


def test_the_dispatcher_sees_the_redo_in_the_list_and_on_the_page(client, auth, demo, redone):
    auth.login("dispatcher")
    listing = client.get("/tickets/").get_data(as_text=True)
    assert redone in listing and "第 1 次重办" in listing
    html = client.get(f"/desk/tickets/{redone}").get_data(as_text=True)
    assert "已安排清运垃圾。" in html and "垃圾还在" in html
    # Below REDO_ESCALATION nothing waits for the centre.
    assert 'id="redo-decision"' not in html and "重办待决定" not in client.get("/desk/").get_data(as_text=True)


def test_a_ticket_without_redo_has_no_badge(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo)
    auth.login(agency_login(demo, ticket(demo, number).agency))
    html = client.get(f"/agency/tickets/{number}").get_data(as_text=True)
    assert "次重办" not in html and 'id="earlier-answers"' not in html


def test_redone_too_often_it_waits_for_the_centre_which_closes_it_as_exhausted(client, auth, demo, redone_twice):
    auth.login("dispatcher")
    desk = client.get("/desk/").get_data(as_text=True)
    assert "重办待决定（1）" in desk and redone_twice in desk and "待中心决定" in desk
    page = f"/desk/tickets/{redone_twice}"
    html = client.get(page).get_data(as_text=True)
    assert 'id="redo-decision"' in html and "第 2 次重办" in html and "此前的答复（2）" in html
    version = ticket(demo, redone_twice).version
    refused = post_form(client, f"{page}/close_exhausted", {"reason": ""}, page=page, follow_redirects=True)
    assert "请填写已尽力办结的理由" in refused.get_data(as_text=True)
    t = ticket(demo, redone_twice)
    assert t.status is Status.ASSIGNED and t.version == version
    post_form(client, f"{page}/close_exhausted", {"reason": "已两次清运，垃圾点将整体迁移。"}, page=page)
    t = ticket(demo, redone_twice)
    assert t.status is Status.CLOSED and t.redo_review_since is None
    assert t.events[-1].action == "close_exhausted"
    assert "已尽力办结" in client.get(page).get_data(as_text=True)


def test_the_centre_may_let_the_agency_go_on(client, auth, demo, redone_twice):
    auth.login("dispatcher")
    page = f"/desk/tickets/{redone_twice}"
    post_form(client, f"{page}/continue_redo", {"reason": ""}, page=page)
    t = ticket(demo, redone_twice)
    assert t.status is Status.ASSIGNED and t.redo_review_since is None
    assert "重办待决定" not in client.get("/desk/").get_data(as_text=True)


def test_an_agency_cannot_take_the_centres_decision(client, auth, demo, redone_twice):
    auth.login(agency_login(demo, ticket(demo, redone_twice).agency))
    page = f"/agency/tickets/{redone_twice}"
    response = post_form(client, f"/desk/tickets/{redone_twice}/close_exhausted", {"reason": "x"}, page=page)
    assert response.status_code in (302, 403)
    assert ticket(demo, redone_twice).status is Status.ASSIGNED
