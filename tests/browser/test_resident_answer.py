"""A resident without WeChat answers the agency's question on the status
page, on a phone, in a real browser."""

from __future__ import annotations

from sqlalchemy import select

from routing.clock import now
from routing.flow import workflow
from routing.store.people import User
from routing.store.tickets import Status

from ..helpers import agency_login, ticket
from .test_pages import COMPLAINT, submit

QUESTION = "请告诉我们是哪一栋楼？"
REPLY = "在3号楼北面，入口在文一西路上。"


def test_a_resident_answers_the_agencys_question_on_a_phone(open_page, demo):
    watched = open_page(phone=True)
    number, code = submit(watched, COMPLAINT)
    t = ticket(demo, number)
    staff = demo.scalar(select(User).where(User.username == agency_login(demo, t.agency)))
    workflow.accept(demo, t, staff, now())
    workflow.ask_resident(demo, t, staff, now(), QUESTION)
    demo.commit()

    page = watched.page
    watched.go(f"/status/{number}?code={code}")
    assert QUESTION in page.text_content("#question")
    page.fill("#more textarea[name=text]", REPLY)
    page.click("#more button[type=submit]")
    page.wait_for_selector("text=已收到您的回复")
    # Fits the phone: nothing to scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    watched.shot("resident-answered-phone")
    assert REPLY in page.text_content("main")
    after = ticket(demo, number)
    assert after.status is Status.ACCEPTED and [e.action for e in after.events][-2:] == ["add_message", "resume"]
    assert watched.errors == [] and watched.dialogs == []
