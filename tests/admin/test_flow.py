"""The walking skeleton end to end, through HTTP, as the people who use it."""

from __future__ import annotations

import re

from sqlalchemy import select

from routing.store.areas import Station
from routing.store.people import Agency
from routing.store.tickets import Correction, Status

from ..conftest import post_form
from ..helpers import agency_login, ticket

COMPLAINT = "西湖区文新街道某小区的物业公司擅自上调停车费，每月涨到三百元，还不让业主的车进小区，请住建部门管一管。"


def submit_on_the_station_page(client, demo, text=COMPLAINT, phone="13800000000"):
    station = demo.scalar(select(Station).where(Station.name == "文新街道人大代表联络站"))
    page = client.get("/")
    assert page.status_code == 200
    assert "向人大代表反映问题" in page.get_data(as_text=True)
    response = post_form(
        client, "/", {"station": str(station.id), "text": text, "name": "李女士", "phone": phone},
        follow_redirects=True,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    number = re.search(r'id="ticket-number">(\d+)<', html).group(1)
    code = re.search(r'id="ticket-code">([A-Z0-9]+)<', html).group(1)
    return number, code


def test_a_resident_message_becomes_a_routed_ticket_that_an_agency_answers(client, auth, demo):
    number, code = submit_on_the_station_page(client, demo)

    # Classified and routed, with deadlines in working days.
    t = ticket(demo, number)
    assert t.topic == "城乡建设"
    assert t.district.name == "西湖区"
    assert t.status is Status.ASSIGNED
    assert t.agency is not None
    assert t.created_at < t.accept_by < t.answer_by
    assert [e.action for e in t.events] == ["create", "assign"]

    # The agency sees it in its own queue and accepts it.
    username = agency_login(demo, t.agency)
    auth.login(username)
    queue = client.get("/agency/").get_data(as_text=True)
    assert number in queue
    page = client.get(f"/agency/tickets/{number}").get_data(as_text=True)
    # The resident's number masked: the agency reveals it with a reason when it calls back.
    assert "擅自上调停车费" in page and "138****0000" in page and "13800000000" not in page
    post_form(client, f"/agency/tickets/{number}/accept", {}, page=f"/agency/tickets/{number}")
    assert ticket(demo, number).status is Status.ACCEPTED

    # It answers; the resident's lookup page then shows the answer.
    answer = "经核查，该小区停车费调整未经业主大会表决，已责令物业公司恢复原收费标准。"
    post_form(client, f"/agency/tickets/{number}/answer", {"answer": answer}, page=f"/agency/tickets/{number}")
    t = ticket(demo, number)
    assert t.status is Status.ANSWERED and t.answer == answer
    assert [e.action for e in t.events] == ["create", "assign", "accept", "answer"]
    assert all(e.at and e.actor for e in t.events)
    assert t.events[-1].actor.startswith(t.agency.name)
    auth.logout()

    status = client.get(f"/status/{number}?code={code}").get_data(as_text=True)
    assert answer in status and "已答复" in status
    assert "13800000000" not in status
    assert client.get(f"/status/{number}?code=WRONGCODE").status_code == 404


def test_a_dispatcher_corrects_what_the_classifier_was_not_sure_of(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo, "你好，请问在这里可以反映什么样的问题？多久会有答复？")
    t = ticket(demo, number)
    assert t.status is Status.TRIAGE

    auth.login("dispatcher")
    desk = client.get("/desk/").get_data(as_text=True)
    assert number in desk

    agency = demo.scalar(select(Agency).where(Agency.name == "市数据资源局"))
    post_form(
        client,
        f"/desk/tickets/{number}/correct",
        {"topic": "政务服务", "agency": str(agency.id), "reason": "咨询办事渠道"},
        page=f"/desk/tickets/{number}",
    )
    t = ticket(demo, number)
    assert t.status is Status.ASSIGNED
    assert t.agency_id == agency.id and t.topic == "政务服务"
    assert t.accept_by and t.answer_by
    assert [e.action for e in t.events][-2:] == ["correct", "assign"]
    assert t.events[-2].actor == "分拨中心值班员（分拨员）" and t.events[-2].reason == "咨询办事渠道"
    # Each correction is kept as a labelled example.
    corrections = demo.scalars(select(Correction).where(Correction.ticket_id == t.id)).all()
    assert {(c.field, c.label) for c in corrections} == {("topic", "政务服务"), ("agency", "市数据资源局")}


def test_an_agency_can_neither_see_nor_change_another_agencys_ticket(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo)
    t = ticket(demo, number)
    other = demo.scalar(select(Agency).where(Agency.id != t.agency_id, Agency.name == "市生态环境局"))
    auth.login(agency_login(demo, other))

    assert number not in client.get("/agency/").get_data(as_text=True)
    assert client.get(f"/agency/tickets/{number}").status_code == 404
    token_page = "/agency/"
    assert post_form(client, f"/agency/tickets/{number}/accept", {}, page=token_page).status_code == 404
    assert post_form(client, f"/agency/tickets/{number}/answer", {"answer": "不是我们的"}, page=token_page).status_code == 404
    assert post_form(client, f"/agency/tickets/{number}/return", {"reason": "x"}, page=token_page).status_code == 404
    assert client.get("/desk/").status_code == 403
    t = ticket(demo, number)
    assert t.status is Status.ASSIGNED and [e.action for e in t.events] == ["create", "assign"]


def test_staff_pages_need_a_login(client, demo):
    for url in ("/desk/", "/agency/", "/desk/tickets/1", "/home"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_wrong_password_does_not_log_in(client, auth, demo):
    response = auth.login("dispatcher", "not-the-password")
    assert response.status_code == 400
    assert "用户名或密码不对" in response.get_data(as_text=True)
    assert client.get("/desk/").status_code == 302


def test_forms_without_csrf_token_are_refused(client, auth, demo):
    response = client.post("/", data={"text": COMPLAINT})
    assert response.status_code == 400
    assert client.post("/login", data={"username": "dispatcher", "password": "tingjian-demo"}).status_code == 400


def test_an_agency_returns_a_ticket_that_is_not_theirs_with_a_reason(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo)
    t = ticket(demo, number)
    auth.login(agency_login(demo, t.agency))
    page = f"/agency/tickets/{number}"
    refused = post_form(client, f"{page}/return", {"reason": ""}, page=page, follow_redirects=True)
    assert "请填写退回理由" in refused.get_data(as_text=True)
    assert ticket(demo, number).status is Status.ASSIGNED

    post_form(client, f"{page}/return", {"reason": "属于物业合同纠纷，应由街道调解。"}, page=page)
    t = ticket(demo, number)
    assert t.status is Status.TRIAGE and t.agency_id is None
    assert t.events[-1].action == "return" and t.events[-1].reason == "属于物业合同纠纷，应由街道调解。"
