"""审核办结 on the pages: the agency's answer form takes a citation and a
signer; an answer under a review rule waits in the desk's review queue, where
a dispatcher approves it or sends it back with a reason."""

from __future__ import annotations

import pytest

from routing.store.answering import ReviewRule
from routing.store.tickets import Status

from ..conftest import post_form
from ..helpers import agency_login, ticket
from .test_flow import submit_on_the_station_page

ANSWER = "已安排清运垃圾，并加派保洁。"


@pytest.fixture
def in_review(client, auth, demo):
    """A ticket whose agency must have its answers reviewed, answered on the agency's page."""
    number, _ = submit_on_the_station_page(client, demo)
    t = ticket(demo, number)
    demo.add(ReviewRule(kind=None, agency_id=t.agency_id, review=True, require_signer=True, active=True))
    demo.commit()
    auth.login(agency_login(demo, t.agency))
    page = f"/agency/tickets/{number}"
    post_form(client, f"{page}/accept", {}, page=page)
    refused = post_form(client, f"{page}/answer", {"answer": ANSWER}, page=page, follow_redirects=True)
    assert "本单位的答复须注明签发人" in refused.get_data(as_text=True)
    done = post_form(client, f"{page}/answer",
                     {"answer": ANSWER, "citation": "《城市市容和环境卫生管理条例》", "signed_by": "张主任"},
                     page=page, follow_redirects=True)
    assert "审核通过后群众才能看到" in done.get_data(as_text=True)
    auth.logout()
    demo.expire_all()
    assert ticket(demo, number).status is Status.REVIEWING
    return number


def test_the_answer_form_offers_citation_and_signer(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo)
    t = ticket(demo, number)
    auth.login(agency_login(demo, t.agency))
    page = f"/agency/tickets/{number}"
    post_form(client, f"{page}/accept", {}, page=page)
    html = client.get(page).get_data(as_text=True)
    assert 'name="citation"' in html and 'name="signed_by"' in html


def test_the_desk_queue_shows_the_answer_waiting_and_approval_publishes_it(client, auth, demo, in_review):
    auth.login("dispatcher")
    assert "/desk/reviews" in client.get("/desk/").get_data(as_text=True)
    queue = client.get("/desk/reviews").get_data(as_text=True)
    assert in_review in queue and ANSWER in queue and "张主任" in queue and "《城市市容和环境卫生管理条例》" in queue
    done = post_form(client, f"/desk/tickets/{in_review}/review/approve", {"reason": ""}, page="/desk/reviews",
                     follow_redirects=True)
    assert "审核通过，答复已告知群众" in done.get_data(as_text=True)
    demo.expire_all()
    t = ticket(demo, in_review)
    assert t.status is Status.ANSWERED and t.answer == ANSWER
    assert t.events[-1].action == "approve_answer"


def test_sending_back_needs_a_reason(client, auth, demo, in_review):
    auth.login("dispatcher")
    refused = post_form(client, f"/desk/tickets/{in_review}/review/send_back", {"reason": ""},
                        page="/desk/reviews", follow_redirects=True)
    assert "退回修改的理由" in refused.get_data(as_text=True)
    demo.expire_all()
    assert ticket(demo, in_review).status is Status.REVIEWING
    post_form(client, f"/desk/tickets/{in_review}/review/send_back", {"reason": "请写明清运时间。"},
              page="/desk/reviews")
    demo.expire_all()
    t = ticket(demo, in_review)
    assert t.status is Status.ACCEPTED and t.answer is None
    assert t.events[-1].reason == "请写明清运时间。"


def test_the_review_queue_is_the_desks_only(client, auth, demo, in_review):
    auth.login(agency_login(demo, ticket(demo, in_review).agency))
    assert client.get("/desk/reviews").status_code == 403
