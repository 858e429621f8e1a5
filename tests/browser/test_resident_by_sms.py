"""A resident without WeChat, from the form to the rating, on a phone in a
real browser, told each step by SMS (a fake Aliyun SMS server that checks
the SDK's signature): the receipt; the agency's question, answered on the
status page the SMS links to; the answer, rated there."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from admin.demo import DEMO_PASSWORD
from routing.clock import now as city_now
from routing.store.tickets import Status
from routing.store.workers import run_pending

from ..collector.fake_sms import KEY_ID, KEY_SECRET, FakeSms
from ..helpers import agency_login, ticket
from .test_pages import COMPLAINT

PHONE = "13800135678"
QUESTION = "请告诉我们是哪个小区、停车场入口在哪条路上？"
REPLY = "是文新街道嘉绿苑小区，停车场入口在文一西路上。"
ANSWER = "经核查，停车费调整未经业主大会表决，已责令物业恢复原收费标准。"


@pytest.fixture
def sms():
    with FakeSms("aliyun") as server:
        yield server


@pytest.fixture
def app_config(sms) -> dict:
    return {
        "SERVER_NAME": None,  # a real browser asks for 127.0.0.1:<port>
        "SMS_PROVIDER": "aliyun",
        "SMS_ACCESS_KEY_ID": KEY_ID,
        "SMS_ACCESS_KEY_SECRET": KEY_SECRET,
        "SMS_SIGN_NAME": "听见",
        "SMS_ENDPOINT": sms.endpoint,
        "SMS_TEMPLATES": "receipt=SMS_100,ask=SMS_101,answer=SMS_102",
    }


def run_the_outbox(app) -> None:
    """The worker, a little after the step that queued the notices."""
    services = app.extensions["tingjian"]
    later = city_now() + timedelta(minutes=1)
    run_pending(services.db, services.jobs, lambda: later)


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def test_a_resident_told_by_sms_answers_the_question_and_rates_the_answer_on_a_phone(
    app, live_server, open_page, demo, sms
):
    # The links in SMS are under PUBLIC_URL: here, the live server.
    app.config["PUBLIC_URL"] = live_server
    resident = open_page(phone=True)
    page = resident.page

    # 1. The form, with a phone; the SMS box is ticked already.
    resident.go("/")
    page.fill("textarea[name=text]", COMPLAINT)
    page.fill("input[name=phone]", PHONE)
    assert page.is_checked("input[name=sms_notice]")
    resident.shot("sms-resident-form-phone")
    page.click("button[type=submit].primary")
    number = page.text_content("#ticket-number").strip()
    code = page.text_content("#ticket-code").strip()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    run_the_outbox(app)
    [receipt] = sms.sent
    assert receipt["phone"] == PHONE and receipt["template"] == "SMS_100"
    assert receipt["params"]["number"] == number and receipt["params"]["code"] == code

    # 2. The agency accepts and asks for more (请群众补充).
    agency = open_page()
    agency.login(agency_login(demo, ticket(demo, number).agency), DEMO_PASSWORD)
    agency.page.click(f"text={number}")
    agency.page.click("button:has-text('签收')")
    agency.page.wait_for_selector("textarea[name=question]")
    agency.page.fill("textarea[name=question]", QUESTION)
    agency.page.click("button:has-text('请群众补充')")
    agency.page.wait_for_load_state()
    assert ticket(demo, number).status is Status.WAITING
    run_the_outbox(app)
    asked = sms.sent[-1]
    assert asked["template"] == "SMS_101" and asked["params"]["number"] == number

    # 3. The resident follows the SMS's link and answers on the status page.
    resident.go(path_of(asked["params"]["link"]))
    assert QUESTION in page.text_content("#question")
    assert page.is_visible("#sms-stop")  # every page the SMS links to says how to stop them
    page.fill("#more textarea[name=text]", REPLY)
    page.click("#more button[type=submit]")
    page.wait_for_selector("text=已收到您的回复")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    resident.shot("sms-resident-answered-phone")
    assert ticket(demo, number).status is Status.ACCEPTED

    # 4. The agency answers.
    agency.page.reload()
    assert REPLY in agency.page.text_content("main")
    agency.page.fill("textarea[name=answer]", ANSWER)
    agency.page.click("button:has-text('提交答复')")
    agency.page.wait_for_load_state()
    assert ticket(demo, number).status is Status.ANSWERED
    run_the_outbox(app)
    answered = sms.sent[-1]
    assert answered["template"] == "SMS_102" and answered["params"]["number"] == number

    # 5. The resident follows that link and rates the answer.
    resident.go(path_of(answered["params"]["link"]))
    assert ANSWER in page.text_content("#answers")
    page.check("input[name=rating][value=satisfied]")
    page.click("button:has-text('提交评价')")
    page.wait_for_selector("text=感谢您的评价")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    resident.shot("sms-resident-rated-phone")
    rated = ticket(demo, number)
    assert rated.rating == "satisfied" and rated.status is Status.CLOSED
    assert [m["template"] for m in sms.sent] == ["SMS_100", "SMS_101", "SMS_102"]
    assert resident.errors == [] and resident.dialogs == []
    assert agency.errors == [] and agency.dialogs == []
