"""Redoing (重办): every 不满意 sends the ticket back as its next redo; from the
REDO_ESCALATION-th redo on it is reported to the supervisor and the
dispatcher centre decides — closed as 已尽力, or the agency goes on."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from routing.flow import ratings, redo, workflow
from routing.flow.escalation import REDO, open_escalations
from routing.flow.inbound import Inbound, Labels
from routing.flow.steps import PermissionDenied, WorkflowError
from routing.flow.tickets import open_ticket
from routing.store.oversight import Escalation, EscalationKind
from routing.store.people import Role
from routing.store.tickets import Kind, Status

from .test_workflow import user as person

NOW = datetime(2026, 3, 2, 9, 0)  # a Monday


@pytest.fixture
def ticket(demo, housing):
    t = open_ticket(demo, Inbound(channel="api", text="小区电梯经常停运，物业不管。"),
                    Labels(topic="城乡建设", subtopic=None, confidence=0.9), NOW)
    t.agency, t.agency_id = housing, housing.id
    demo.flush()
    assert t.status is Status.ASSIGNED
    return t


def answered(session, ticket, housing_staff, at, text="已督促物业修复电梯。"):
    workflow.accept(session, ticket, housing_staff, at)
    workflow.answer(session, ticket, housing_staff, at + timedelta(hours=1), text)
    session.flush()


def unsatisfied(session, ticket, housing_staff, at, comment="电梯还是停", **kwargs):
    answered(session, ticket, housing_staff, at)
    ratings.rate(session, ticket, at + timedelta(hours=2), "unsatisfied", comment, **kwargs)
    session.flush()


def notices(session, ticket):
    return session.scalars(select(Escalation).where(Escalation.ticket_id == ticket.id, Escalation.deadline == REDO)).all()


def test_each_unsatisfied_rating_is_the_next_redo(demo, ticket, housing_staff):
    assert ticket.redo_count == 0
    unsatisfied(demo, ticket, housing_staff, NOW)
    assert ticket.redo_count == 1 and ticket.status is Status.ASSIGNED
    reopened = ticket.events[-1]
    assert reopened.action == "reopen" and reopened.detail["redo"] == 1
    assert reopened.reason == "群众不满意：电梯还是停"
    unsatisfied(demo, ticket, housing_staff, NOW + timedelta(days=1))
    assert ticket.redo_count == 2 and ticket.events[-2].detail["redo"] == 2


def test_a_dispatchers_reopening_is_not_a_redo(demo, ticket, housing_staff, dispatcher):
    answered(demo, ticket, housing_staff, NOW)
    workflow.reopen(demo, ticket, dispatcher, NOW + timedelta(hours=3), reason="答复不完整")
    assert ticket.redo_count == 0 and "redo" not in ticket.events[-1].detail
    assert ticket.redo_review_since is None


def test_a_satisfied_rating_is_no_redo(demo, ticket, housing_staff):
    answered(demo, ticket, housing_staff, NOW)
    ratings.rate(demo, ticket, NOW + timedelta(hours=2), "basically_satisfied")
    assert ticket.redo_count == 0 and ticket.status is Status.CLOSED


def test_a_deputys_dissatisfaction_is_a_redo_too(demo, ticket, housing_staff):
    ticket.kind = Kind.DEPUTY_SUGGESTION
    deputy = person(demo, Role.DEPUTY, name="redo-deputy")
    workflow.accept(demo, ticket, housing_staff, NOW)
    workflow.answer(demo, ticket, housing_staff, NOW + timedelta(hours=1), "已纳入明年计划。", grade="B")
    ratings.rate_by_deputy(demo, ticket, deputy, NOW + timedelta(hours=2), "unsatisfied", "没有具体时间表")
    assert ticket.redo_count == 1 and ticket.events[-1].detail["redo"] == 1


def test_below_the_threshold_nobody_is_told(demo, ticket, housing_staff):
    unsatisfied(demo, ticket, housing_staff, NOW)
    assert notices(demo, ticket) == [] and ticket.redo_review_since is None
    assert redo.awaiting_decision(demo) == []


def test_the_nth_redo_is_a_notice_to_the_supervisor_and_waits_for_the_centre(demo, ticket, housing_staff, housing):
    unsatisfied(demo, ticket, housing_staff, NOW)
    second = NOW + timedelta(days=1)
    unsatisfied(demo, ticket, housing_staff, second)
    moment = second + timedelta(hours=2)
    [notice] = notices(demo, ticket)
    assert notice.kind is EscalationKind.NOTICE and notice.recipient_id == housing.supervisor_id
    assert notice.agency_id == housing.id and notice.due_at == moment
    assert "第 2 次重办" in notice.text
    assert ticket.redo_review_since == moment
    assert ticket.events[-1].action == "notify_supervisor" and ticket.events[-1].detail["deadline"] == REDO
    assert redo.awaiting_decision(demo) == [ticket]
    # The supervisor sees it among its open notices until the centre decides.
    assert notice in open_escalations(demo, agency_id=housing.supervisor_id)


def test_the_threshold_is_a_setting(demo, ticket, housing_staff):
    unsatisfied(demo, ticket, housing_staff, NOW, redo_escalation=1)
    assert len(notices(demo, ticket)) == 1 and ticket.redo_review_since is not None


def test_the_centre_closes_it_as_done_as_far_as_it_can_be(demo, ticket, housing_staff, dispatcher):
    unsatisfied(demo, ticket, housing_staff, NOW, redo_escalation=1)
    later = NOW + timedelta(days=1)
    redo.close_exhausted(demo, ticket, dispatcher, later, "已多次协调，电梯需整体更换，已列入加装改造计划。")
    demo.flush()
    assert ticket.status is Status.CLOSED and ticket.closed_at == later
    assert ticket.redo_review_since is None and ticket.accept_by is None and ticket.answer_by is None
    event = ticket.events[-1]
    assert (event.action, event.from_status, event.to_status) == ("close_exhausted", "assigned", "closed")
    assert event.reason.startswith("已多次协调") and event.detail["redo"] == 1
    # Decided: the notice is no longer open.
    assert open_escalations(demo) == []


def test_the_centre_lets_the_agency_go_on(demo, ticket, housing_staff, dispatcher):
    unsatisfied(demo, ticket, housing_staff, NOW, redo_escalation=1)
    workflow.accept(demo, ticket, housing_staff, NOW + timedelta(days=1))
    redo.continue_redo(demo, ticket, dispatcher, NOW + timedelta(days=1, hours=1), "请物业公司负责人到场")
    assert ticket.status is Status.ACCEPTED and ticket.redo_review_since is None
    assert ticket.events[-1].action == "continue_redo"
    # The next dissatisfaction goes before the centre again.
    workflow.answer(demo, ticket, housing_staff, NOW + timedelta(days=2), "已更换主板。")
    ratings.rate(demo, ticket, NOW + timedelta(days=3), "unsatisfied", redo_escalation=1)
    assert ticket.redo_count == 2 and ticket.redo_review_since == NOW + timedelta(days=3)


def test_closing_as_exhausted_needs_a_reason_and_changes_nothing_without(demo, ticket, housing_staff, dispatcher):
    unsatisfied(demo, ticket, housing_staff, NOW, redo_escalation=1)
    events = len(ticket.events)
    with pytest.raises(WorkflowError, match="已尽力办结的理由"):
        redo.close_exhausted(demo, ticket, dispatcher, NOW + timedelta(days=1), "  ")
    assert ticket.status is Status.ASSIGNED and ticket.redo_review_since is not None
    assert len(ticket.events) == events


def test_only_the_centre_decides(demo, ticket, housing_staff):
    unsatisfied(demo, ticket, housing_staff, NOW, redo_escalation=1)
    with pytest.raises(PermissionDenied):
        redo.close_exhausted(demo, ticket, housing_staff, NOW + timedelta(days=1), "理由")
    with pytest.raises(PermissionDenied):
        redo.continue_redo(demo, ticket, housing_staff, NOW + timedelta(days=1))
    assert ticket.status is Status.ASSIGNED and ticket.redo_review_since is not None


def test_no_decision_without_a_redo_waiting_for_one(demo, ticket, housing_staff, dispatcher):
    answered(demo, ticket, housing_staff, NOW)
    with pytest.raises(WorkflowError, match="没有等待分拨中心决定的重办"):
        redo.close_exhausted(demo, ticket, dispatcher, NOW + timedelta(hours=3), "理由")
    with pytest.raises(WorkflowError, match="没有等待分拨中心决定的重办"):
        redo.continue_redo(demo, ticket, dispatcher, NOW + timedelta(hours=3))
    assert ticket.status is Status.ANSWERED and ticket.closed_at is None


def test_a_closed_ticket_cannot_be_closed_as_exhausted(demo, ticket, housing_staff, dispatcher):
    unsatisfied(demo, ticket, housing_staff, NOW, redo_escalation=1)
    redo.close_exhausted(demo, ticket, dispatcher, NOW + timedelta(days=1), "已尽力")
    with pytest.raises(WorkflowError, match="不能已尽力办结"):
        redo.close_exhausted(demo, ticket, dispatcher, NOW + timedelta(days=2), "再来一次")
    with pytest.raises(WorkflowError, match="不能继续重办"):
        redo.continue_redo(demo, ticket, dispatcher, NOW + timedelta(days=2))


def test_earlier_answers_are_listed_with_their_ratings(demo, ticket, housing_staff, dispatcher):
    unsatisfied(demo, ticket, housing_staff, NOW, comment="电梯还是停")
    answered(demo, ticket, housing_staff, NOW + timedelta(days=1), text="已更换电梯控制板。")
    workflow.reopen(demo, ticket, dispatcher, NOW + timedelta(days=1, hours=3), reason="答复未说明维保安排")
    first, second = redo.earlier_rounds(ticket)
    assert (first.answer, first.answered_at, first.by) == ("已督促物业修复电梯。", NOW + timedelta(hours=1), housing_staff.label)
    assert (first.rating, first.comment, first.redo) == ("不满意", "电梯还是停", 1)
    assert (second.answer, second.rating, second.redo) == ("已更换电梯控制板。", None, None)
