"""The status page answers back (群众补充): with the ticket's code a resident
without WeChat answers the agency's question — the clock runs again exactly
as after a WeChat reply — or adds more, with a photo, while the ticket is
open; and sees their own words and every answer the ticket got."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from wechatpy import parse_message

import collector.web
from collector.wechat.delivery import Settings
from collector.wechat.intake import receive
from routing.flow import workflow
from routing.flow.deadlines import load_calendar
from routing.store.people import User
from routing.store.tickets import Attachment, Status, TicketEvent

from ..admin.test_flow import submit_on_the_station_page
from ..conftest import csrf_token, post_form
from ..helpers import agency_login, ticket
from .test_wechat import accepted_on_wechat, app_config, fake, xml  # noqa: F401 - fixtures

ASKED = datetime(2026, 11, 2, 9, 0)  # a Monday
ANSWERED = ASKED + timedelta(days=3)  # three working days later
QUESTION = "请告诉我们是哪一栋楼，停车场入口在哪条路上？"
REPLY = "在3号楼北面，入口在文一西路上，保安亭旁边。"
# The smallest PNG there is: a photo as far as its bytes go.
PNG = b"\x89PNG\r\n\x1a\n" + bytes.fromhex(
    "0000000d49484452000000010000000108060000001f15c4890000000d4944415478da6360000002000154a24f5d0000000049454e44ae426082"
)


def staff_of(demo, t) -> User:
    return demo.scalar(select(User).where(User.username == agency_login(demo, t.agency)))


def accepted_on_the_station_page(client, demo):
    number, code = submit_on_the_station_page(client, demo)
    t = ticket(demo, number)
    workflow.accept(demo, t, staff_of(demo, t), ASKED)
    demo.commit()
    return number, code


def asked(demo, number: str):
    t = ticket(demo, number)
    workflow.ask_resident(demo, t, staff_of(demo, t), ASKED, QUESTION)
    demo.commit()
    return t.answer_by


def add_more(client, number, code, text=REPLY, photo=None, *, page_code=None, page=None):
    """Post the status page's form as the resident's phone does: with the page's CSRF token."""
    data = {"code": code, "text": text}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo[0]), photo[1])
    page = page or f"/status/{number}?code={page_code or code}"
    return client.post(f"/status/{number}/more", data={**data, "csrf_token": csrf_token(client, page)},
                       content_type="multipart/form-data")


def events(demo, number) -> list[str]:
    return [e.action for e in ticket(demo, number).events]


def test_answering_the_question_resumes_the_ticket_as_a_wechat_reply_does(app, client, demo, monkeypatch):
    number, code = accepted_on_the_station_page(client, demo)
    due_before = asked(demo, number)
    page = client.get(f"/status/{number}", query_string={"code": code}).get_data(as_text=True)
    assert QUESTION in page and "回复承办单位" in page

    monkeypatch.setattr(collector.web, "now", lambda: ANSWERED)
    response = add_more(client, number, code)
    assert response.status_code == 302
    assert "已收到您的回复" in client.get(response.headers["Location"]).get_data(as_text=True)

    # The same ticket, answered on WeChat at the same moment.
    on_wechat, staff = accepted_on_wechat(client, demo, 9001)
    workflow.ask_resident(demo, on_wechat, staff, ASKED, QUESTION)
    demo.commit()
    wechat_due_before = on_wechat.answer_by
    receive(demo, parse_message(xml("text", 9002, Content=REPLY)), app.extensions["tingjian"].classifier.current(),
            ANSWERED, Settings(window=timedelta(minutes=10)))
    demo.commit()

    web = ticket(demo, number)
    wechat = ticket(demo, on_wechat.number)
    assert web.status is wechat.status is Status.ACCEPTED
    assert web.paused_at is wechat.paused_at is None
    assert [e.action for e in web.events][-2:] == [e.action for e in wechat.events][-2:] == ["add_message", "resume"]
    web_resume, wechat_resume = web.events[-1], wechat.events[-1]
    assert (web_resume.actor, web_resume.reason) == (wechat_resume.actor, wechat_resume.reason) == ("系统", "群众已补充")
    assert web_resume.detail["paused_working_days"] == wechat_resume.detail["paused_working_days"] == 3
    calendar = load_calendar(demo)
    assert web.answer_by == calendar.add_working_days(due_before, 3)
    assert wechat.answer_by == calendar.add_working_days(wechat_due_before, 3)
    # What the resident wrote is on the ticket, as a message and on the timeline.
    assert REPLY in web.text and web.events[-2].reason == REPLY
    assert web.messages[-1].payload["text"] == REPLY


def test_more_on_an_accepted_ticket_keeps_its_state_and_reaches_the_agencys_page(client, auth, demo):
    number, code = accepted_on_the_station_page(client, demo)
    response = add_more(client, number, code, text="补充：物业今天又贴了涨价通知，照片附上。", photo=(PNG, "notice.png"))
    assert response.status_code == 302
    t = ticket(demo, number)
    assert t.status is Status.ACCEPTED and events(demo, number)[-1] == "add_message"
    photo = demo.scalar(select(Attachment).where(Attachment.ticket_id == t.id))
    assert (photo.kind, photo.content_type, photo.size) == ("image", "image/png", len(PNG))
    assert photo.message_id == t.messages[-1].id

    auth.login(agency_login(demo, t.agency))
    page = client.get(f"/agency/tickets/{number}").get_data(as_text=True)
    assert "物业今天又贴了涨价通知" in page
    shown = client.get(f"/photos/{number}/{photo.id}")
    assert shown.status_code == 200 and shown.mimetype == "image/png" and shown.data == PNG
    assert f"/photos/{number}/{photo.id}" in page


def test_another_agency_cannot_open_the_photo(client, auth, demo):
    number, code = accepted_on_the_station_page(client, demo)
    add_more(client, number, code, photo=(PNG, "notice.png"))
    photo = demo.scalar(select(Attachment))
    auth.login("huanbao")  # 市生态环境局: not this ticket's agency
    assert client.get(f"/photos/{number}/{photo.id}").status_code == 404


@pytest.mark.parametrize("app_config", [{"RATELIMIT_LOOKUP_TICKET": "2 per hour"}])
def test_a_wrong_code_changes_nothing_and_counts_against_the_ticket(client, demo):
    number, code = accepted_on_the_station_page(client, demo)
    asked(demo, number)
    before = events(demo, number)
    for guess in ("WRONGCODE1", "WRONGCODE2"):
        response = add_more(client, number, guess, page_code=code)
        assert response.status_code == 404
    assert events(demo, number) == before and ticket(demo, number).status is Status.WAITING
    # The guesses by post count as lookups' do: now even the right code waits.
    assert client.get(f"/status/{number}", query_string={"code": code}).status_code == 429


def test_a_photo_that_is_not_an_image_is_refused_and_nothing_is_kept(client, demo):
    number, code = accepted_on_the_station_page(client, demo)
    asked(demo, number)
    before = events(demo, number)
    response = add_more(client, number, code, photo=(b"MZ\x90\x00 not a photo at all", "photo.jpg"))
    assert response.status_code == 400
    assert "这个文件不是照片" in response.get_data(as_text=True)
    assert REPLY in response.get_data(as_text=True)  # what they wrote is still in the form
    assert events(demo, number) == before and ticket(demo, number).status is Status.WAITING
    assert demo.scalar(select(func.count()).select_from(Attachment)) == 0


def test_an_empty_answer_is_refused_saying_what_to_do(client, demo):
    number, code = accepted_on_the_station_page(client, demo)
    before = events(demo, number)
    response = add_more(client, number, code, text="  ")
    assert response.status_code == 400 and "请填写要补充的内容" in response.get_data(as_text=True)
    assert events(demo, number) == before


def test_the_form_needs_its_csrf_token(client, demo):
    number, code = accepted_on_the_station_page(client, demo)
    response = client.post(f"/status/{number}/more", data={"code": code, "text": REPLY})
    assert response.status_code == 400
    assert events(demo, number)[-1] == "accept"


def test_a_closed_ticket_offers_no_form_and_takes_nothing(client, demo):
    number, code = accepted_on_the_station_page(client, demo)
    t = ticket(demo, number)
    workflow.answer(demo, t, staff_of(demo, t), ASKED, "已责令物业恢复原收费标准。")
    workflow.close(demo, t, None, ASKED, reason="群众评价：满意")
    demo.commit()
    page = client.get(f"/status/{number}", query_string={"code": code}).get_data(as_text=True)
    assert 'id="more"' not in page
    before = events(demo, number)
    response = add_more(client, number, code, page="/")  # a form kept open from before
    assert response.status_code == 400 and "不能再补充情况" in response.get_data(as_text=True)
    assert events(demo, number) == before


def test_the_page_keeps_the_residents_words_and_every_answer_after_a_reopening(client, demo):
    number, code = accepted_on_the_station_page(client, demo)
    add_more(client, number, code, text="补充：涨价从本月一号开始。")
    t = ticket(demo, number)
    staff = staff_of(demo, t)
    first, second = "已约谈物业公司，要求说明收费依据。", "经核查，涨价未经业主大会表决，已责令恢复原收费标准。"
    workflow.answer(demo, t, staff, ASKED, first)
    demo.commit()
    post_form(client, f"/status/{number}/rating", {"code": code, "rating": "unsatisfied", "comment": "没有解决"},
              page=f"/status/{number}?code={code}")
    t = ticket(demo, number)
    workflow.accept(demo, t, staff, ANSWERED)
    workflow.answer(demo, t, staff, ANSWERED, second)
    demo.commit()

    page = client.get(f"/status/{number}", query_string={"code": code}).get_data(as_text=True)
    answers = page[page.index('id="answers"'):]
    assert answers.index(first) < answers.index("此后重新办理") < answers.index(second)
    assert "2026-11-02 09:00" in answers and "2026-11-05 09:00" in answers
    own = page[page.index('id="own-text"'):page.index('id="answers"')]
    assert "擅自上调停车费" in own and "西湖区" in own
    assert "您补充的情况：补充：涨价从本月一号开始。" in page
    # Not their contact details, nor who on the staff did what.
    assert "李女士" not in page and "13800000000" not in page and staff.display_name not in page


def test_the_api_status_stays_free_of_personal_data(client, demo):
    number, code = accepted_on_the_station_page(client, demo)
    add_more(client, number, code, text="补充：我家在3号楼2单元，电话13911112222。")
    t = ticket(demo, number)
    workflow.answer(demo, t, staff_of(demo, t), ASKED, "已责令物业恢复原收费标准。")
    demo.commit()
    body = client.get(f"/api/v1/tickets/{number}", query_string={"code": code}).get_json()
    dumped = json.dumps(body, ensure_ascii=False)
    for personal in ("李女士", "13800000000", "13911112222", "擅自上调停车费", "工作人员"):
        assert personal not in dumped
    assert {"text", "location", "question"}.isdisjoint(body)
    assert "add_message" not in [e["action"] for e in body["timeline"]]
    assert body["answers"] == [{"at": ASKED.isoformat(), "answer": "已责令物业恢复原收费标准。"}]
    assert demo.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.action == "add_message")) == 1
