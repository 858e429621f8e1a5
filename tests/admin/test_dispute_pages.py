"""派单争议 on the pages: the agency disputes next to 签收 and 退回, the
dispatcher rules on the desk, and an upheld ruling becomes a routing rule."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.store.configuration import RoutingRule
from routing.store.people import Agency
from routing.store.tickets import Status

from ..conftest import post_form
from ..helpers import agency_login, ticket
from .test_flow import submit_on_the_station_page

TEXT = "西湖区文新街道某小区门口的人行道被占用摆摊，晚上噪音很大。"


@pytest.fixture
def disputed_number(client, auth, demo):
    """A ticket the agency disputed through its page, proposing 市生态环境局."""
    number, _ = submit_on_the_station_page(client, demo, text=TEXT)
    t = ticket(demo, number)
    auth.login(agency_login(demo, t.agency))
    page = f"/agency/tickets/{number}"
    html = client.get(page).get_data(as_text=True)
    assert "申请派单争议" in html and "签收" in html and "退回分拨中心" in html
    env = demo.scalar(select(Agency).where(Agency.name == "市生态环境局"))
    response = post_form(
        client, f"{page}/dispute",
        {"reason_class": "not_our_duty", "basis": "《杭州市环境噪声管理条例》第五条", "proposed": str(env.id)},
        page=page, follow_redirects=True,
    )
    assert "派单争议已提交" in response.get_data(as_text=True)
    assert ticket(demo, number).status is Status.DISPUTED
    auth.logout()
    return number


def test_the_agency_disputes_once_and_then_sees_it_waiting(client, auth, demo, disputed_number):
    t = ticket(demo, disputed_number)
    auth.login(agency_login(demo, t.agency))
    html = client.get(f"/agency/tickets/{disputed_number}").get_data(as_text=True)
    assert 'id="dispute-form"' not in html and "分拨中心将在" in html
    assert disputed_number in client.get("/agency/").get_data(as_text=True)


def test_a_dispute_without_basis_or_token_changes_nothing(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo, text=TEXT)
    t = ticket(demo, number)
    version = t.version
    auth.login(agency_login(demo, t.agency))
    page = f"/agency/tickets/{number}"
    refused = post_form(client, f"{page}/dispute", {"reason_class": "overlap", "basis": ""}, page=page,
                        follow_redirects=True)
    assert "请填写争议依据" in refused.get_data(as_text=True)
    no_class = post_form(client, f"{page}/dispute", {"basis": "三定方案"}, page=page, follow_redirects=True)
    assert "请选择争议理由" in no_class.get_data(as_text=True)
    assert client.post(f"{page}/dispute", data={"reason_class": "overlap", "basis": "三定方案"}).status_code == 400
    t = ticket(demo, number)
    assert (t.status, t.version) == (Status.ASSIGNED, version)


def test_another_agency_cannot_dispute_it(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo, text=TEXT)
    other = demo.scalar(select(Agency).where(Agency.name == "市人社局"))
    auth.login(agency_login(demo, other))
    page = "/agency/"
    response = post_form(client, f"/agency/tickets/{number}/dispute", {"reason_class": "overlap", "basis": "x"},
                         page=page)
    assert response.status_code == 404 and ticket(demo, number).status is Status.ASSIGNED


def test_a_rejection_needs_its_reason_and_then_binds(client, auth, demo, disputed_number):
    auth.login("dispatcher")
    queue = client.get("/desk/disputes").get_data(as_text=True)
    assert disputed_number in queue and "非本单位职责" in queue and "市生态环境局" in queue
    page = f"/desk/tickets/{disputed_number}"
    html = client.get(page).get_data(as_text=True)
    assert "派单争议裁定" in html and "《杭州市环境噪声管理条例》第五条" in html and "（争议单位建议）" in html
    refused = post_form(client, f"{page}/reject", {"reason": ""}, page=page, follow_redirects=True)
    assert "请填写裁定理由" in refused.get_data(as_text=True)
    assert ticket(demo, disputed_number).status is Status.DISPUTED
    post_form(client, f"{page}/reject", {"reason": "占道属本单位职责"}, page=page)
    t = ticket(demo, disputed_number)
    assert t.status is Status.ASSIGNED and t.dispute_rejected
    auth.logout()
    auth.login(agency_login(demo, t.agency))
    html = client.get(f"/agency/tickets/{disputed_number}").get_data(as_text=True)
    assert 'id="dispute-form"' not in html and "退回分拨中心" not in html and "首接负责" in html


def test_an_upheld_ruling_becomes_the_rule_that_routes_the_same_matter_right(client, auth, demo, disputed_number):
    env = demo.scalar(select(Agency).where(Agency.name == "市生态环境局"))
    auth.login("dispatcher")
    page = f"/desk/tickets/{disputed_number}"
    # The agency the dispute proposed is the ruling form's first choice.
    assert re.search(rf'<option selected value="{env.id}">', client.get(page).get_data(as_text=True))
    post_form(client, f"{page}/uphold", {"agency": str(env.id), "reason": "噪音扰民属环保职责"}, page=page)
    t = ticket(demo, disputed_number)
    assert t.status is Status.ASSIGNED and t.agency_id == env.id
    html = client.get(page).get_data(as_text=True)
    assert "将裁定结果设为派单规则" in html

    form = client.get(f"/desk/rules/new?ticket={disputed_number}").get_data(as_text=True)
    keywords = re.search(r'name="keywords" type="text" value="([^"]*)"', form).group(1)
    assert keywords and all(word in TEXT for word in keywords.split("、"))
    assert f'<option selected value="{env.id}">' in form
    fields = {
        "topic": f"{t.topic}/{t.subtopic}" if t.subtopic else t.topic, "district": str(t.district_id),
        "street": str(t.street_id or ""), "keywords": keywords, "agency": str(env.id),
        "priority": re.search(r'name="priority" type="number" value="(-?\d+)"', form).group(1),
        "note": "据派单争议裁定", "active": "y",
    }
    saved = post_form(client, "/desk/rules/new", fields, page=f"/desk/rules/new?ticket={disputed_number}")
    assert saved.status_code == 302
    rule = demo.scalar(select(RoutingRule).where(RoutingRule.agency_id == env.id, RoutingRule.keywords == keywords))
    assert rule is not None

    # The same matter, read the same way, now goes to the ruled agency at once.
    again = open_ticket(
        demo, Inbound(channel="api", text=TEXT),
        Labels(topic=t.topic, subtopic=t.subtopic, confidence=0.9, district="西湖区", street="文新街道"),
        t.created_at,
    )
    demo.commit()
    assert again.status is Status.ASSIGNED and again.agency_id == env.id


def test_a_rule_form_for_a_ticket_without_an_upheld_ruling_starts_empty(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo, text=TEXT)
    auth.login("dispatcher")
    html = client.get(f"/desk/rules/new?ticket={number}").get_data(as_text=True)
    assert "没有成立的派单争议裁定" in html


def test_a_return_names_its_reason_class_on_the_page(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo, text=TEXT)
    auth.login(agency_login(demo, ticket(demo, number).agency))
    page = f"/agency/tickets/{number}"
    assert "需群众补充信息" in client.get(page).get_data(as_text=True)
    post_form(client, f"{page}/return", {"reason_class": "duplicate", "reason": "与前一件重复"}, page=page)
    event = ticket(demo, number).events[-1]
    assert event.action == "return" and event.detail["reason_class"] == "duplicate"
