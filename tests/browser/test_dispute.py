"""A dispute in a real browser, from the agency's click to the ruling and the
routing rule it becomes: the same matter is then routed right at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from admin.demo import DEMO_PASSWORD
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.store.configuration import RoutingRule
from routing.store.people import Agency
from routing.store.tickets import Status

from ..helpers import agency_login, ticket

TEXT = "西湖区文新街道某小区门口的人行道被占用摆摊，晚上噪音很大。"
BASIS = "《杭州市环境噪声管理条例》第五条"


def raise_matter(session):
    labels = Labels(topic="城乡建设", confidence=0.9, district="西湖区", street="文新街道")
    t = open_ticket(session, Inbound(channel="api", text=TEXT), labels, datetime.now())
    session.commit()
    return t


def test_a_dispute_upheld_becomes_the_rule_that_routes_the_matter_right(open_page, demo):
    t = raise_matter(demo)
    env = demo.scalar(select(Agency).where(Agency.name == "市生态环境局"))
    assert t.status is Status.ASSIGNED and t.agency_id != env.id
    first_assigned_at = t.assigned_at

    agency = open_page(phone=True)
    agency.login(agency_login(demo, t.agency), DEMO_PASSWORD)
    agency.go(f"/agency/tickets/{t.number}")
    page = agency.page
    page.check("#dispute-form input[value=not_our_duty]")
    page.fill("#dispute-form textarea[name=basis]", BASIS)
    page.select_option("#dispute-form select[name=proposed]", str(env.id))
    agency.shot("dispute-agency-form-phone")
    page.click("#dispute-form button[type=submit]")
    page.wait_for_selector("text=派单争议已提交")
    assert ticket(demo, t.number).status is Status.DISPUTED

    desk = open_page()
    desk.login("dispatcher", DEMO_PASSWORD)
    desk.go("/desk/disputes")
    page = desk.page
    assert "非本单位职责" in page.text_content("#disputes")
    page.click(f"#disputes a:text('{t.number}')")
    page.wait_for_selector("#ruling")
    assert page.input_value("#ruling select[name=agency]") == str(env.id)
    page.fill("#ruling textarea[name=reason]", "噪音扰民属环保职责")
    desk.shot("dispute-ruling")
    page.click("#ruling button.primary")
    page.wait_for_selector("text=已裁定争议成立")
    page.click("text=将裁定结果设为派单规则")
    page.wait_for_selector("button[value=save]")
    page.click("button[value=save]")
    page.wait_for_load_state()
    desk.shot("dispute-rule-saved")

    moved = ticket(demo, t.number)
    assert moved.status is Status.ASSIGNED and moved.agency_id == env.id
    # Fresh deadlines, counted from the ruling (转办 through the upheld dispute).
    transfer = next(e for e in reversed(moved.events) if e.action == "reassign")
    assert transfer.detail["dispute"] == "upheld" and moved.assigned_at > first_assigned_at
    assert transfer.detail["answer_by"] == moved.answer_by.isoformat() and moved.ruling_by is None
    rule = demo.scalar(select(RoutingRule).where(RoutingRule.agency_id == env.id, RoutingRule.note.contains(t.number)))
    assert rule is not None and rule.active
    again = raise_matter(demo)
    assert again.status is Status.ASSIGNED and again.agency_id == env.id
    assert agency.errors == [] and desk.errors == [] and desk.dialogs == []
