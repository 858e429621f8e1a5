"""回访 on the pages: a complaint answered on the agency's page waits in the
desk's callback queue, where a dispatcher records each try; the outcome is
on the ticket's timeline and out of the queue."""

from __future__ import annotations

import pytest

from routing.store.callbacks import Callback
from routing.store.tickets import Kind, Status

from ..conftest import post_form
from ..helpers import agency_login, ticket
from .test_flow import submit_on_the_station_page

ANSWER = "已安排清运垃圾，并加派保洁。"
QUEUE = "/desk/callbacks"


@pytest.fixture
def answered(client, auth, demo):
    """A complaint answered on the agency's page."""
    number, _ = submit_on_the_station_page(client, demo)
    t = ticket(demo, number)
    t.kind = Kind.COMPLAINT
    demo.commit()
    auth.login(agency_login(demo, t.agency))
    page = f"/agency/tickets/{number}"
    post_form(client, f"{page}/accept", {}, page=page)
    post_form(client, f"{page}/answer", {"answer": ANSWER}, page=page)
    auth.logout()
    return number


def callback_of(demo, number):
    demo.expire_all()
    return demo.query(Callback).filter_by(ticket_id=ticket(demo, number).id).one()


def test_the_desk_links_the_queue_which_shows_the_answered_complaint(client, auth, demo, answered):
    auth.login("dispatcher")
    assert QUEUE in client.get("/desk/").get_data(as_text=True)
    page = client.get(QUEUE).get_data(as_text=True)
    assert answered in page and ANSWER in page and "待回访（1）" in page


def test_recording_a_reached_callback_takes_it_off_the_queue(client, auth, demo, answered):
    auth.login("dispatcher")
    done = post_form(
        client,
        f"/desk/tickets/{answered}/callback",
        {"reached": "yes", "solved": "yes", "satisfied": "no", "said": "垃圾清了，但太慢"},
        page=QUEUE,
        follow_redirects=True,
    )
    html = done.get_data(as_text=True)
    assert "已记录回访结果" in html and "没有待回访的工单" in html
    callback = callback_of(demo, answered)
    assert (callback.reached, callback.solved, callback.satisfied, callback.said) == (
        True,
        True,
        False,
        "垃圾清了，但太慢",
    )
    timeline = client.get(f"/desk/tickets/{answered}").get_data(as_text=True)
    assert "回访" in timeline


def test_reached_without_the_outcome_is_refused(client, auth, demo, answered):
    auth.login("dispatcher")
    refused = post_form(
        client, f"/desk/tickets/{answered}/callback", {"reached": "yes"}, page=QUEUE, follow_redirects=True
    )
    assert "是否解决" in refused.get_data(as_text=True)
    assert callback_of(demo, answered).done_at is None


def test_the_last_unreached_try_closes_the_ticket(client, auth, demo, app, answered):
    app.config["CALLBACK_ATTEMPTS"] = 1
    auth.login("dispatcher")
    post_form(client, f"/desk/tickets/{answered}/callback", {"reached": "no", "said": "无人接听"}, page=QUEUE)
    callback = callback_of(demo, answered)
    assert callback.reached is False and callback.attempts == 1
    assert ticket(demo, answered).status is Status.CLOSED


def test_agency_staff_may_not_open_the_queue(client, auth, demo, answered):
    auth.login(agency_login(demo, ticket(demo, answered).agency))
    assert client.get(QUEUE).status_code == 403
