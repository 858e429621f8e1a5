"""短信告知办理进展: the resident says whether they want SMS — a ticked
checkbox on the form, ``sms_notice`` on the API — and may stop them later on
the status page (不再接收短信), an event on the timeline; after it nothing is
texted about that ticket, not even what was already queued."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from routing.flow import workflow
from routing.store.tickets import Ticket, TicketEvent

from ..conftest import csrf_token, post_form
from .fake_sms import FakeSms
from .test_sms_notices import COMPLAINT, NOON, app_config, run, staff_of, submitted  # noqa: F401 - fixtures

PHONE = "13800135678"


@pytest.fixture
def fake():
    with FakeSms("aliyun") as server:
        yield server


def by_api(client, demo, **fields) -> Ticket:
    body = {"text": COMPLAINT, "contact": {"name": "李女士", "phone": PHONE}, **fields}
    response = client.post("/api/v1/submissions", json=body)
    assert response.status_code == 201
    return demo.scalar(select(Ticket).where(Ticket.number == response.get_json()["ticket"]))


def on_the_form(client, demo, **fields) -> Ticket:
    response = post_form(client, "/", {"text": COMPLAINT, "phone": PHONE, **fields})
    assert response.status_code == 302
    return demo.scalars(select(Ticket).order_by(Ticket.id.desc())).first()


def status_page(t: Ticket) -> str:
    return f"/status/{t.number}?code={t.code}"


def stop(client, t: Ticket, code: str | None = None):
    return client.post(
        f"/status/{t.number}/sms-stop", data={"code": code or t.code, "csrf_token": csrf_token(client, status_page(t))}
    )


def stops(demo, t: Ticket) -> int:
    demo.expire_all()
    return demo.scalar(
        select(func.count())
        .select_from(TicketEvent)
        .where(TicketEvent.ticket_id == t.id, TicketEvent.action == "stop_sms")
    )


def test_the_api_takes_sms_notice_false_and_then_texts_nothing(client, demo, fake):
    t = by_api(client, demo, sms_notice=False)
    run(client, NOON)
    assert t.sms_notice is False and fake.sent == []


def test_without_sms_notice_the_api_resident_is_texted(client, demo, fake):
    t = by_api(client, demo)
    run(client, NOON)
    assert t.sms_notice is True and [m["phone"] for m in fake.sent] == [PHONE]


def test_an_sms_notice_that_is_no_boolean_is_refused_and_nothing_stored(client, demo, fake):
    before = demo.scalar(select(func.count()).select_from(Ticket))
    response = client.post("/api/v1/submissions", json={"text": COMPLAINT, "sms_notice": "yes"})
    assert response.status_code == 400 and response.get_json()["field"] == "sms_notice"
    assert demo.scalar(select(func.count()).select_from(Ticket)) == before


def test_the_forms_checkbox_is_ticked_by_default(client):
    page = client.get("/").get_data(as_text=True)
    [box] = re.findall(r'<input[^>]*name="sms_notice"[^>]*>', page)
    assert 'type="checkbox"' in box and "checked" in box and "短信告知办理进展" in page


def test_a_resident_who_unticks_it_on_the_form_gets_no_sms(client, demo, fake):
    t = on_the_form(client, demo)  # a browser sends nothing for an unticked box
    run(client, NOON)
    assert t.sms_notice is False and fake.sent == []


def test_a_resident_who_leaves_it_ticked_gets_the_receipt(client, demo, fake):
    t = on_the_form(client, demo, sms_notice="y")
    run(client, NOON)
    assert t.sms_notice is True and [m["template"] for m in fake.sent] == ["SMS_100"]


def test_stopping_on_the_status_page_is_on_the_timeline_and_stops_later_sms(client, demo, fake):
    t = submitted(client, demo)
    run(client, NOON)
    assert "不再接收短信" in client.get(status_page(t)).get_data(as_text=True)
    response = stop(client, t)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已为这张工单停止发送短信" in page and "您已停止接收短信" in page
    assert 'id="sms-stop"' not in page
    assert stops(demo, t) == 1
    staff = staff_of(demo, t)
    workflow.accept(demo, t, staff, NOON)
    workflow.ask_resident(demo, t, staff, NOON, "请问具体是哪个小区？")
    demo.commit()
    run(client, NOON + timedelta(minutes=5))
    assert [m["template"] for m in fake.sent] == ["SMS_100"]  # the receipt, before; not the question


def test_an_sms_already_queued_is_not_sent_after_the_stop(client, demo, fake):
    t = submitted(client, demo)
    stop(client, t)
    run(client, NOON)
    assert fake.sent == []


def test_stopping_needs_the_code_and_the_forms_token(client, demo, fake):
    t = submitted(client, demo)
    assert stop(client, t, code="WRONG1").status_code == 404
    assert client.post(f"/status/{t.number}/sms-stop", data={"code": t.code}).status_code == 400
    demo.expire_all()
    assert stops(demo, t) == 0 and demo.get(Ticket, t.id).sms_notice is True


def test_stopping_twice_is_refused_the_second_time_and_changes_nothing(client, demo, fake):
    t = submitted(client, demo)
    stop(client, t)
    demo.expire_all()
    version = demo.get(Ticket, t.id).version
    client.post(f"/status/{t.number}/sms-stop", data={"code": t.code, "csrf_token": csrf_token(client, "/")})
    demo.expire_all()
    assert stops(demo, t) == 1 and demo.get(Ticket, t.id).version == version
