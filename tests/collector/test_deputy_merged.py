"""Identical suggestions from several deputies are handled together (合并办理):
when a dispatcher merges them, every deputy whose ticket was merged reads the
answer, with its result class, and is told — once each."""

from __future__ import annotations

from sqlalchemy import select

from admin.demo import DEMO_PASSWORD
from collector.deputies import DeputyInput, deputy_of, register, submit
from routing.clock import now
from routing.flow import workflow
from routing.store.deputies import DeputyNotice
from routing.store.people import User
from routing.store.tickets import Status
from routing.store.workers import run_pending

from ..conftest import post_form
from ..helpers import agency_login, fixed_reading
from ..helpers import ticket as reload

SUGGESTION = "建议在西湖区文新街道学院路增设公交站台，方便周边居民出行。"
ANSWER = "已会同公交集团研究，明年增设站台。"


def deputy_named(session, username: str):
    return deputy_of(session, session.scalar(select(User).where(User.username == username)))


def notices_of(session, deputy) -> list[DeputyNotice]:
    session.expire_all()
    return list(session.scalars(select(DeputyNotice).where(DeputyNotice.deputy_id == deputy.id)))


def run_jobs(app) -> None:
    services = app.extensions["tingjian"]
    run_pending(services.db, services.jobs, now)


def merge_on_the_desk(client, auth, duplicate: str, into: str) -> None:
    auth.login("dispatcher")
    page = f"/desk/tickets/{duplicate}"
    post_form(client, f"{page}/merge", {"into": into, "reason": "两位代表所提建议相同"}, page=page)
    auth.logout()


def test_two_deputies_merged_suggestions_both_get_the_answer_and_the_notice(app, client, auth, demo):
    register(demo, "deputy-li", "李代表", "市", ["文新街道人大代表联络站"], DEMO_PASSWORD)
    wang, li = deputy_named(demo, "deputy"), deputy_named(demo, "deputy-li")
    at = now()
    lead = submit(demo, wang, DeputyInput(text=SUGGESTION, mode="suggestion"), fixed_reading, at)
    same = submit(demo, li, DeputyInput(text=SUGGESTION + "（李代表）", mode="suggestion"), fixed_reading, at)
    merge_on_the_desk(client, auth, same.number, lead.number)
    assert reload(demo, same.number).status is Status.MERGED

    lead = reload(demo, lead.number)
    staff = demo.scalar(select(User).where(User.username == agency_login(demo, lead.agency)))
    workflow.accept(demo, lead, staff, now())
    workflow.answer(demo, lead, staff, now(), ANSWER, grade="A")
    demo.commit()
    run_jobs(app)
    run_jobs(app)

    for deputy, number in ((wang, lead.number), (li, same.number)):
        [notice] = notices_of(demo, deputy)
        assert notice.event == "answer" and ANSWER in notice.text and "A 类" in notice.text
        assert notice.ticket.number == number
    auth.login("deputy-li")
    assert "新消息（1）" in client.get("/deputy/").get_data(as_text=True)
    mine = client.get(f"/deputy/tickets/{same.number}").get_data(as_text=True)
    assert ANSWER in mine and "A 类：所提问题已经解决或基本解决" in mine


def test_a_suggestion_merged_after_the_answer_gets_it_and_is_told(app, client, auth, demo):
    register(demo, "deputy-li", "李代表", "市", ["文新街道人大代表联络站"], DEMO_PASSWORD)
    wang, li = deputy_named(demo, "deputy"), deputy_named(demo, "deputy-li")
    at = now()
    lead = submit(demo, wang, DeputyInput(text=SUGGESTION, mode="suggestion"), fixed_reading, at)
    staff = demo.scalar(select(User).where(User.username == agency_login(demo, lead.agency)))
    workflow.accept(demo, lead, staff, at)
    workflow.answer(demo, lead, staff, at, ANSWER, grade="B")
    demo.commit()
    late = submit(demo, li, DeputyInput(text=SUGGESTION + "（李代表）", mode="suggestion"), fixed_reading, now())
    merge_on_the_desk(client, auth, late.number, lead.number)
    run_jobs(app)

    assert reload(demo, late.number).answer == ANSWER
    [notice] = notices_of(demo, li)
    assert notice.ticket.number == late.number and "B 类" in notice.text
    assert len(notices_of(demo, wang)) == 1


def test_a_deputy_not_satisfied_with_a_merged_suggestion_has_it_handled_again_on_its_own(app, client, auth, demo):
    register(demo, "deputy-li", "李代表", "市", ["文新街道人大代表联络站"], DEMO_PASSWORD)
    wang, li = deputy_named(demo, "deputy"), deputy_named(demo, "deputy-li")
    lead = submit(demo, wang, DeputyInput(text=SUGGESTION, mode="suggestion"), fixed_reading, now())
    same = submit(demo, li, DeputyInput(text=SUGGESTION + "（李代表）", mode="suggestion"), fixed_reading, now())
    merge_on_the_desk(client, auth, same.number, lead.number)
    lead = reload(demo, lead.number)
    staff = demo.scalar(select(User).where(User.username == agency_login(demo, lead.agency)))
    workflow.accept(demo, lead, staff, now())
    workflow.answer(demo, lead, staff, now(), ANSWER, grade="C")
    demo.commit()

    auth.login("deputy-li")
    page = f"/deputy/tickets/{same.number}"
    assert "评价答复" in client.get(page).get_data(as_text=True)
    post_form(client, f"{page}/rate", {"rating": "unsatisfied", "reason": "站台选址离小区太远"}, page=page)
    same = reload(demo, same.number)
    assert same.status is Status.ASSIGNED and same.merged_into_id is None and same.agency_id == lead.agency_id
    assert [e.action for e in same.events[-3:]] == ["deputy_rate", "unmerge", "reopen"]
    assert reload(demo, lead.number).status is Status.ANSWERED
