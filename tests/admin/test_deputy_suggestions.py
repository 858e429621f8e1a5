"""Handling a deputy's suggestion (代表建议): the agency records its 面商 with
the deputy and answers with a result class (A/B/C); the deputy reads both."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from collector.deputies import DeputyInput, deputy_of, submit
from routing import workflow
from routing.clock import now
from routing.models import DeputySubmission, Kind, Status, User
from routing.tickets import Labels

from ..conftest import post_form
from ..helpers import agency_login, ticket as reload

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
    assert workflow.answer_grade(ticket) == "B" and workflow.consultations(ticket)[0].detail["way"] == "当面"

    auth.logout()
    auth.login("deputy")
    mine = client.get(f"/deputy/tickets/{number}").get_data(as_text=True)
    assert "与王代表现场查看站点位置" in mine and "B 类：所提问题列入计划逐步解决" in mine and "明年增设站台" in mine


def fixed_reading(text: str, place: str | None) -> Labels:
    return Labels(topic="城乡建设", subtopic="市政设施", confidence=0.9, district="西湖区")


def test_consultation_is_for_suggestions_and_never_dated_ahead(demo):
    deputy = deputy_of(demo, demo.scalar(select(User).where(User.username == "deputy")))
    at = now()
    complaint = submit(demo, deputy, DeputyInput(text="文新街道路灯坏了很多天了"), fixed_reading, at)
    staff = demo.scalar(select(User).where(User.username == agency_login(demo, complaint.agency)))
    workflow.accept(demo, complaint, staff, at)
    with pytest.raises(workflow.WorkflowError, match="只有代表建议"):
        workflow.consult(demo, complaint, staff, at, held_on=at.date(), way="电话", note="电话沟通")
    suggestion = submit(demo, deputy, DeputyInput(text=SUGGESTION, mode="suggestion"), fixed_reading, at)
    workflow.accept(demo, suggestion, staff, at)
    with pytest.raises(workflow.WorkflowError, match="不能晚于今天"):
        workflow.consult(demo, suggestion, staff, at, held_on=at.date() + timedelta(days=1), way="电话", note="沟通")
    with pytest.raises(workflow.WorkflowError, match="面商方式"):
        workflow.consult(demo, suggestion, staff, at, held_on=at.date(), way="飞鸽传书", note="沟通")
    with pytest.raises(workflow.WorkflowError, match="A、B 或 C"):
        workflow.answer(demo, suggestion, staff, at, "研究中", grade="D")
