"""The system as people use it, in a real browser: a resident on a phone, an
agency, a dispatcher, the dashboard."""

from __future__ import annotations

from admin.demo import DEMO_PASSWORD
from routing.flow.inbound import CODE_LENGTH
from routing.store.tickets import Status

from ..helpers import agency_login, ticket

COMPLAINT = "西湖区文新街道某小区的物业公司擅自上调停车费，每月涨到三百元，还不让业主的车进小区，请住建部门管一管。"
PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(1)>"


def submit(watched, text: str) -> tuple[str, str]:
    """A resident fills in the station form; returns the receipt's number and code."""
    page = watched.page
    watched.go("/")
    page.fill("textarea[name=text]", text)
    page.click("button[type=submit].primary")
    number = page.text_content("#ticket-number").strip()
    code = page.text_content("#ticket-code").strip()
    return number, code


def test_a_resident_submits_on_a_phone_and_sees_number_and_code(open_page, demo):
    watched = open_page(phone=True)
    number, code = submit(watched, COMPLAINT)
    page = watched.page
    assert number.isdigit() and len(code) == CODE_LENGTH
    assert page.is_visible("#ticket-number") and page.is_visible("#ticket-code")
    # Fits the phone: nothing to scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    watched.shot("resident-receipt-phone")
    assert ticket(demo, number).status is Status.ASSIGNED
    assert watched.errors == [] and watched.dialogs == []


def test_an_agency_accepts_and_answers(open_page, demo):
    resident = open_page(phone=True)
    number, code = submit(resident, COMPLAINT)
    agency = ticket(demo, number).agency

    watched = open_page()
    watched.login(agency_login(demo, agency), DEMO_PASSWORD)
    page = watched.page
    page.click(f"text={number}")
    page.click("button:has-text('签收')")
    page.wait_for_selector("text=提交答复")
    page.fill("textarea[name=answer]", "经核查，停车费调整未经业主大会表决，已责令物业恢复原收费标准。")
    page.click("button:has-text('提交答复')")
    page.wait_for_load_state()
    watched.shot("agency-answered")
    assert ticket(demo, number).status is Status.ANSWERED

    resident.go(f"/status/{number}?code={code}")
    assert "已答复" in resident.page.text_content("main")
    assert watched.errors == [] and watched.dialogs == []


def test_a_dispatcher_corrects_a_classification(open_page, demo):
    number, _ = submit(open_page(phone=True), COMPLAINT)
    before = ticket(demo, number).topic

    watched = open_page()
    watched.login("dispatcher", DEMO_PASSWORD)
    page = watched.page
    watched.go(f"/desk/tickets/{number}")
    form = page.locator("form[action$='/correct']")
    form.locator("select[name=topic]").select_option("交通运输")
    form.locator("textarea[name=reason]").fill("停车问题归交通")
    form.locator("button:has-text('更正并派单')").click()
    page.wait_for_selector("text=已更正。")
    watched.shot("dispatcher-corrected")
    after = ticket(demo, number)
    assert before != "交通运输" and after.topic == "交通运输"
    assert [e.reason for e in after.events if e.action == "correct"] == ["停车问题归交通"]
    assert watched.errors == [] and watched.dialogs == []


def test_the_dashboard_draws_its_charts_and_keeps_script_text_inert(open_page, demo):
    resident = open_page(phone=True)
    numbers = [submit(resident, PAYLOAD)[0] for _ in range(3)]  # three make a hot issue

    watched = open_page()
    watched.login("dispatcher", DEMO_PASSWORD)
    page = watched.page
    watched.go("/dashboard/?days=7")
    page.wait_for_selector("#dashboard[data-ready='1']")
    assert page.locator(".chart canvas").count() >= 3
    assert int(page.text_content("#total")) >= 2
    page.select_option("#dimension", "agency")
    # The payload is listed as a hot issue, as text.
    assert PAYLOAD in page.text_content("#hot")
    watched.shot("dashboard")

    # The desk and the ticket page show it as text too, and nothing runs.
    watched.go("/desk/")
    assert "<script>alert(1)</script>" in page.text_content("main")
    watched.go(f"/desk/tickets/{numbers[0]}")
    assert PAYLOAD in page.text_content(".text-block")
    assert watched.dialogs == [] and resident.dialogs == []
    assert watched.errors == [] and resident.errors == []
