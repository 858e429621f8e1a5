"""保密: the resident asks, on the form, on WeChat or through the API, that
the agency not see who they are; a complaint about an official (检举) is
confidential by rule."""

from __future__ import annotations

from sqlalchemy import select

from routing.store.tickets import Ticket, TicketEvent

from ..conftest import post_form
from .test_wechat import (  # noqa: F401 - fixtures
    COMPLAINT,
    app_config,
    app_db,
    app_jobs,
    fake,
    post,
    reply_text,
    xml,
)


def newest(session) -> Ticket:
    session.expire_all()
    return session.scalar(select(Ticket).order_by(Ticket.id.desc()))


def test_the_form_checkbox_makes_the_ticket_confidential(client, demo):
    post_form(client, "/", {"text": COMPLAINT, "name": "李女士", "phone": "13800000000", "confidential": "y"})
    assert newest(demo).confidential is True
    post_form(client, "/", {"text": COMPLAINT + "。", "name": "王先生", "phone": "13800000001"})
    assert newest(demo).confidential is False


def test_the_api_takes_a_confidential_boolean_and_refuses_anything_else(client, demo):
    created = client.post("/api/v1/submissions", json={"text": COMPLAINT, "confidential": True})
    assert created.status_code == 201 and newest(demo).confidential is True
    refused = client.post("/api/v1/submissions", json={"text": COMPLAINT, "confidential": "yes"})
    assert refused.status_code == 400 and refused.get_json()["field"] == "confidential"


def test_a_report_against_an_official_is_confidential_whatever_was_ticked(client, demo):
    client.post("/api/v1/submissions", json={"text": "我要举报街道办工作人员在拆迁中收受好处费。"})
    assert newest(demo).confidential is True


def test_wechat_保密_after_the_matter_makes_it_confidential_and_is_on_the_timeline(client, demo, fake):  # noqa: F811
    post(client, xml("text", 21, Content=COMPLAINT))
    answer = reply_text(post(client, xml("text", 22, Content="保密")))
    ticket = newest(demo)
    assert ticket.confidential is True and ticket.number in answer and "保密" in answer
    assert demo.scalar(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == "mark_confidential")
    )


def test_wechat_保密_with_no_matter_says_what_to_do(client, demo, fake):  # noqa: F811
    answer = reply_text(post(client, xml("text", 31, Content="保密")))
    assert "请先发送您要反映的问题" in answer
