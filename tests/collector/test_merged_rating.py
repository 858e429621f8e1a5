"""A ticket merged into another (合并办理) is answered by the agency that
handles that one: its resident is told so, reads it on the status page, and
rates the answer — 满意 closes it, 不满意 takes it out of the merge and back
to that agency."""

from __future__ import annotations

from sqlalchemy import select

from routing.clock import now
from routing.flow import workflow
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.store.people import Agency, User
from routing.store.tickets import Status, Ticket

from ..conftest import post_form
from ..helpers import agency_login
from ..helpers import ticket as reload
from .test_wechat import COMPLAINT, app_config, fake, post, reply_text, settle, xml  # noqa: F401 - fixtures

ANSWER = "路灯已由我局更换灯具，恢复照明。"


def merged_and_answered_elsewhere(client, demo, merged: Ticket) -> tuple[Ticket, Agency]:
    """``merged`` is merged into a ticket of another agency, which answers it."""
    other = demo.scalar(select(Agency).where(Agency.active.is_(True), Agency.id != merged.agency_id).order_by(Agency.id))
    dispatcher = demo.scalar(select(User).where(User.username == "dispatcher"))
    lead = open_ticket(demo, Inbound(channel="api", text=COMPLAINT),
                       Labels(topic=None, subtopic=None, confidence=0.1, needs_triage=True, triage_reason="测试"), now())
    workflow.assign(demo, lead, other, dispatcher, now())
    workflow.merge(demo, merged, lead, dispatcher, now(), reason="同一处路灯")
    staff = demo.scalar(select(User).where(User.username == agency_login(demo, other)))
    workflow.accept(demo, lead, staff, now())
    workflow.answer(demo, lead, staff, now(), ANSWER)
    demo.commit()
    return lead, other


def test_a_merged_wechat_ticket_hears_the_answering_agency_and_not_satisfied_goes_back_there(client, demo, fake):  # noqa: F811
    post(client, xml("text", 601, Content=COMPLAINT))
    settle(client, demo)
    mine = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    before = mine.agency
    lead, answering = merged_and_answered_elsewhere(client, demo, mine)
    settle(client, demo)

    [told] = [m["text"]["content"] for m in fake.fake.sent if ANSWER in m["text"]["content"]]
    assert answering.name in told and before.name not in told
    page = client.get(f"/status/{mine.number}?code={mine.code}").get_data(as_text=True)
    assert answering.name in page and before.name not in page and "提交评价" in page

    reply = reply_text(post(client, xml("text", 602, Content="不满意")))
    assert reply == f"已收到您的意见，工单 {mine.number} 将由{answering.name}重新办理。"
    mine = reload(demo, mine.number)
    assert mine.status is Status.ASSIGNED and mine.agency_id == answering.id and mine.merged_into_id is None
    rate, unmerge, reopen = mine.events[-3:]
    assert [rate.action, unmerge.action, reopen.action] == ["rate", "unmerge", "reopen"]
    # The rating counts for the agency that answered (scorecards read the event's agency).
    assert rate.agency_id == answering.id and unmerge.detail["ticket"] == lead.number
    assert reload(demo, lead.number).status is Status.ANSWERED


def test_a_merged_ticket_rated_satisfied_on_the_status_page_is_closed(client, demo, fake):  # noqa: F811
    post(client, xml("text", 611, Content=COMPLAINT))
    settle(client, demo)
    mine = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    lead, answering = merged_and_answered_elsewhere(client, demo, mine)
    page = f"/status/{mine.number}?code={mine.code}"
    post_form(client, f"/status/{mine.number}/rating", {"rating": "satisfied", "code": mine.code}, page=page)
    mine = reload(demo, mine.number)
    assert mine.status is Status.CLOSED and mine.rating == "satisfied"
    assert mine.merged_into_id == lead.id and mine.agency_id == answering.id
    assert [e.action for e in mine.events[-2:]] == ["rate", "close"]
    # Rated and closed: nothing is left to rate, on the page or on WeChat.
    assert "提交评价" not in client.get(page).get_data(as_text=True)
    assert "没有等待评价" in reply_text(post(client, xml("text", 612, Content="满意")))
