"""Handling a deputy's suggestion (代表建议): the agency records its 面商 with
the deputy and answers with a result class (A/B/C); the deputy reads both."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from admin.demo import DEMO_PASSWORD
from collector.deputies import DeputyInput, deputy_of, register, submit
from routing.clock import now
from routing.flow import ratings, steps, suggestions, workflow
from routing.flow.deadlines import add_months, load_calendar, months_later
from routing.store.deputies import DeputySubmission
from routing.store.people import User
from routing.store.tickets import Kind, Status

from ..conftest import post_form
from ..helpers import agency_login, fixed_reading
from ..helpers import ticket as reload

SUGGESTION = "建议在西湖区文新街道学院路增设公交站台，方便周边居民出行。"


def test_an_agency_consults_the_deputy_and_grades_its_answer(client, auth, demo):
    auth.login("deputy")
    post_form(client, "/deputy/", {"text": SUGGESTION, "mode": "suggestion", "constituents": "30"},
              content_type="multipart/form-data")
    number = demo.scalar(select(DeputySubmission)).ticket.number
    ticket = reload(demo, number)
    assert ticket.kind is Kind.DEPUTY_SUGGESTION and ticket.agency is not None
    auth.logout()
    auth.login(agency_login(demo, ticket.agency))
    page = f"/agency/tickets/{number}"
    post_form(client, f"{page}/accept", {}, page=page)
    assert "面商记录" in client.get(page).get_data(as_text=True)
    today = now().date()
    post_form(client, f"{page}/consult", {"held_on": today.isoformat(), "way": "当面", "note": "与王代表现场查看站点位置"}, page=page)
    # Without its result class the answer to a suggestion is refused.
    post_form(client, f"{page}/answer", {"answer": "已会同公交集团研究。"}, page=page)
    assert reload(demo, number).status is Status.ACCEPTED
    post_form(client, f"{page}/answer", {"answer": "已会同公交集团研究，明年增设站台。", "grade": "B"}, page=page)
    ticket = reload(demo, number)
    assert ticket.status is Status.ANSWERED
    assert suggestions.answer_grade(ticket) == "B" and suggestions.consultations(ticket)[0].detail["way"] == "当面"

    auth.logout()
    auth.login("deputy")
    mine = client.get(f"/deputy/tickets/{number}").get_data(as_text=True)
    assert "与王代表现场查看站点位置" in mine and "B 类：所提问题列入计划逐步解决" in mine and "明年增设站台" in mine


def test_consultation_is_for_suggestions_and_never_dated_ahead(demo):
    deputy = deputy_of(demo, demo.scalar(select(User).where(User.username == "deputy")))
    at = now()
    complaint = submit(demo, deputy, DeputyInput(text="文新街道路灯坏了很多天了"), fixed_reading, at)
    staff = demo.scalar(select(User).where(User.username == agency_login(demo, complaint.agency)))
    workflow.accept(demo, complaint, staff, at)
    with pytest.raises(steps.WorkflowError, match="只有代表建议"):
        suggestions.consult(demo, complaint, staff, at, held_on=at.date(), way="电话", note="电话沟通")
    suggestion = submit(demo, deputy, DeputyInput(text=SUGGESTION, mode="suggestion"), fixed_reading, at)
    workflow.accept(demo, suggestion, staff, at)
    with pytest.raises(steps.WorkflowError, match="不能晚于今天"):
        suggestions.consult(demo, suggestion, staff, at, held_on=at.date() + timedelta(days=1), way="电话", note="沟通")
    with pytest.raises(steps.WorkflowError, match="面商方式"):
        suggestions.consult(demo, suggestion, staff, at, held_on=at.date(), way="飞鸽传书", note="沟通")
    with pytest.raises(steps.WorkflowError, match="A、B 或 C"):
        workflow.answer(demo, suggestion, staff, at, "研究中", grade="D")


def answered_suggestion(client, auth, demo, text: str = SUGGESTION) -> str:
    """The demo deputy's suggestion, accepted and answered (B 类) by its agency; the deputy logged in."""
    auth.login("deputy")
    post_form(client, "/deputy/", {"text": text, "mode": "suggestion", "constituents": "30"},
              content_type="multipart/form-data")
    number = demo.scalars(select(DeputySubmission).order_by(DeputySubmission.id.desc())).first().ticket.number
    ticket = reload(demo, number)
    staff = demo.scalar(select(User).where(User.username == agency_login(demo, ticket.agency)))
    workflow.accept(demo, ticket, staff, now())
    workflow.answer(demo, ticket, staff, now(), "已会同公交集团研究，明年增设站台。", grade="B")
    demo.commit()
    return number


def test_a_deputy_not_satisfied_sends_the_suggestion_back_for_one_month(client, auth, demo):
    number = answered_suggestion(client, auth, demo)
    page = f"/deputy/tickets/{number}"
    agency_id = reload(demo, number).agency_id
    assert "评价答复" in client.get(page).get_data(as_text=True)
    # 不满意 needs its reason.
    refused = post_form(client, f"{page}/rate", {"rating": "unsatisfied", "reason": ""}, page=page)
    assert refused.status_code == 400 and "请填写不满意的理由" in refused.get_data(as_text=True)
    assert reload(demo, number).status is Status.ANSWERED

    post_form(client, f"{page}/rate", {"rating": "unsatisfied", "reason": "站台位置不合理，未与居民沟通"}, page=page)
    ticket = reload(demo, number)
    [rated] = [e for e in ticket.events if e.action == "deputy_rate"]
    assert rated.actor_id == demo.scalar(select(User.id).where(User.username == "deputy"))
    assert rated.detail["rating"] == "unsatisfied" and "未与居民沟通" in rated.reason
    assert ticket.status is Status.ASSIGNED and ticket.agency_id == agency_id and ticket.answer is None
    # Handled again within one month of the rating, on the calendar's working days.
    assert ticket.answer_by == months_later(load_calendar(demo), rated.at, 1)
    assert add_months(rated.at, 1) <= ticket.answer_by.date() < add_months(rated.at, 1) + timedelta(days=10)
    reopened = ticket.events[-1]
    assert reopened.action == "reopen" and "代表不满意" in reopened.reason
    assert "评价答复" not in client.get(page).get_data(as_text=True)


def test_a_satisfied_deputy_closes_the_suggestion(client, auth, demo):
    number = answered_suggestion(client, auth, demo)
    page = f"/deputy/tickets/{number}"
    post_form(client, f"{page}/rate", {"rating": "basically_satisfied"}, page=page)
    ticket = reload(demo, number)
    assert ticket.status is Status.CLOSED and ticket.rating == "basically_satisfied" and ticket.closed_at is not None


def test_only_the_deputy_who_raised_it_rates_and_only_a_suggestion(client, auth, demo):
    number = answered_suggestion(client, auth, demo)
    auth.logout()
    register(demo, "deputy-li", "李代表", "市", ["文新街道人大代表联络站"], DEMO_PASSWORD)
    auth.login("deputy-li")
    page = f"/deputy/tickets/{number}"
    response = post_form(client, f"{page}/rate", {"rating": "satisfied"}, page="/deputy/")
    assert response.status_code == 404 and reload(demo, number).status is Status.ANSWERED

    deputy = deputy_of(demo, demo.scalar(select(User).where(User.username == "deputy")))
    complaint = submit(demo, deputy, DeputyInput(text="文新街道路灯坏了很多天了"), fixed_reading, now())
    staff = demo.scalar(select(User).where(User.username == agency_login(demo, complaint.agency)))
    workflow.accept(demo, complaint, staff, now())
    workflow.answer(demo, complaint, staff, now(), "已修复。")
    with pytest.raises(steps.WorkflowError, match="只用于代表建议"):
        ratings.rate_by_deputy(demo, complaint, deputy.user, now(), "satisfied")
