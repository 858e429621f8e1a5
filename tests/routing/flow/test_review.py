"""Review before the answer goes out (审核办结): where a rule applies the
agency's answer waits for the dispatcher centre, which approves it (then the
resident is told) or sends it back with a reason (the agency answers again,
its deadline running on). Answers may cite a regulation and name a signer."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from routing.flow import answers, lookup, workflow
from routing.flow.escalation import ANSWER, DEADLINE_STATES
from routing.flow.inbound import Inbound, Labels
from routing.flow.steps import NOTIFY_RESIDENT, PermissionDenied, WorkflowError
from routing.flow.tickets import open_ticket
from routing.store.answering import ReviewRule
from routing.store.jobs import Job
from routing.store.people import Role, User
from routing.store.tickets import Kind, Status

from .test_workflow import user as person

NOW = datetime(2026, 3, 2, 9, 0)  # a Monday
ANSWER_TEXT = "已督促物业修复电梯。"


@pytest.fixture
def ticket(demo, housing, housing_staff):
    t = open_ticket(demo, Inbound(channel="api", text="小区电梯经常停运，物业不管。"),
                    Labels(topic="城乡建设", subtopic=None, confidence=0.9), NOW)
    t.agency, t.agency_id = housing, housing.id
    demo.flush()
    workflow.accept(demo, t, housing_staff, NOW)
    demo.flush()
    return t


@pytest.fixture
def rule(demo, housing):
    r = ReviewRule(kind=Kind.COMPLAINT, agency_id=housing.id, review=True, require_signer=False, active=True)
    demo.add(r)
    demo.flush()
    return r


def told_of_answer(session, ticket):
    return [j for j in session.scalars(select(Job).where(Job.kind == NOTIFY_RESIDENT))
            if j.payload == {"ticket_id": ticket.id, "action": "answer"}]


def submitted(session, ticket, staff, at=NOW + timedelta(hours=1), **kwargs):
    workflow.answer(session, ticket, staff, at, ANSWER_TEXT, **kwargs)
    session.flush()


def test_without_a_rule_the_answer_reaches_the_resident_at_once(demo, ticket, housing_staff):
    submitted(demo, ticket, housing_staff, citation="《物业管理条例》第三十五条")
    assert ticket.status is Status.ANSWERED and ticket.answer == ANSWER_TEXT
    assert ticket.events[-1].action == "answer"
    assert ticket.events[-1].detail == {"answer": ANSWER_TEXT, "citation": "《物业管理条例》第三十五条"}
    assert len(told_of_answer(demo, ticket)) == 1


def test_with_a_rule_the_answer_waits_for_review_unseen_by_the_resident(demo, ticket, housing_staff, rule):
    submitted(demo, ticket, housing_staff, citation="《物业管理条例》", signed_by="王局长")
    assert ticket.status is Status.REVIEWING
    assert ticket.answer is None and ticket.answered_at is None
    event = ticket.events[-1]
    assert event.action == "submit_answer" and event.from_status == "accepted"
    assert event.detail == {"answer": ANSWER_TEXT, "citation": "《物业管理条例》", "signed_by": "王局长", "rule": rule.id}
    assert told_of_answer(demo, ticket) == []
    assert answers.pending_answer(demo, ticket) is event


def test_approval_tells_the_resident_and_sets_the_answer_time(demo, ticket, housing_staff, dispatcher, rule):
    submitted(demo, ticket, housing_staff, citation="《物业管理条例》")
    approved_at = NOW + timedelta(days=1)
    answers.approve_answer(demo, ticket, dispatcher, approved_at, note="同意")
    demo.flush()
    assert ticket.status is Status.ANSWERED
    assert ticket.answer == ANSWER_TEXT and ticket.answered_at == approved_at
    event = ticket.events[-1]
    assert (event.action, event.reason, event.actor) == ("approve_answer", "同意", dispatcher.label)
    assert event.detail == {"answer": ANSWER_TEXT, "citation": "《物业管理条例》"}
    assert len(told_of_answer(demo, ticket)) == 1


def test_sent_back_the_agency_answers_again_and_its_deadline_keeps_running(
    demo, ticket, housing_staff, dispatcher, rule
):
    due = ticket.answer_by
    submitted(demo, ticket, housing_staff)
    answers.send_back_answer(demo, ticket, dispatcher, NOW + timedelta(days=1), "请写明维修完成的日期。")
    demo.flush()
    assert ticket.status is Status.ACCEPTED and ticket.answer_by == due
    assert ticket.events[-1].action == "send_back_answer"
    assert ticket.events[-1].reason == "请写明维修完成的日期。"
    assert told_of_answer(demo, ticket) == []
    workflow.answer(demo, ticket, housing_staff, NOW + timedelta(days=2), "电梯已于3月3日修复。")
    demo.flush()
    assert ticket.status is Status.REVIEWING
    assert answers.pending_answer(demo, ticket).detail["answer"] == "电梯已于3月3日修复。"
    answers.approve_answer(demo, ticket, dispatcher, NOW + timedelta(days=3))
    assert ticket.answer == "电梯已于3月3日修复。"


def test_a_ticket_in_review_is_not_chased_as_overdue_to_answer():
    assert Status.REVIEWING not in DEADLINE_STATES[ANSWER]


def test_sending_back_needs_a_reason_and_changes_nothing_without(demo, ticket, housing_staff, dispatcher, rule):
    submitted(demo, ticket, housing_staff)
    before = (ticket.status, len(ticket.events))
    with pytest.raises(WorkflowError, match="退回修改的理由"):
        answers.send_back_answer(demo, ticket, dispatcher, NOW, "  ")
    assert (ticket.status, len(ticket.events)) == before


def test_only_the_dispatcher_centre_reviews(demo, ticket, housing_staff, rule):
    submitted(demo, ticket, housing_staff)
    deputy = person(demo, Role.DEPUTY, name="review-deputy")
    for actor in (housing_staff, deputy):
        with pytest.raises(PermissionDenied):
            answers.approve_answer(demo, ticket, actor, NOW)
        with pytest.raises(PermissionDenied):
            answers.send_back_answer(demo, ticket, actor, NOW, "不行")
    assert ticket.status is Status.REVIEWING


def test_an_admin_may_review_too(demo, ticket, housing_staff, rule):
    submitted(demo, ticket, housing_staff)
    answers.approve_answer(demo, ticket, person(demo, Role.ADMIN, name="boss"), NOW + timedelta(hours=2))
    assert ticket.status is Status.ANSWERED


def test_nothing_to_review_outside_review(demo, ticket, housing_staff, dispatcher):
    with pytest.raises(WorkflowError, match="不能审核通过"):
        answers.approve_answer(demo, ticket, dispatcher, NOW)
    with pytest.raises(WorkflowError, match="不能审核退回"):
        answers.send_back_answer(demo, ticket, dispatcher, NOW, "理由")
    submitted(demo, ticket, housing_staff)  # no rule: answered at once
    with pytest.raises(WorkflowError, match="不能审核通过"):
        answers.approve_answer(demo, ticket, dispatcher, NOW)


def test_a_ticket_in_review_cannot_be_answered_again_or_asked_about(demo, ticket, housing_staff, rule):
    submitted(demo, ticket, housing_staff)
    with pytest.raises(WorkflowError, match="待审核"):
        workflow.answer(demo, ticket, housing_staff, NOW, "再答一次")
    with pytest.raises(WorkflowError, match="待审核"):
        workflow.ask_resident(demo, ticket, housing_staff, NOW, "门牌号？")


def test_another_agency_cannot_submit(demo, ticket, agencies, rule):
    other = person(demo, Role.AGENCY, agencies["市生态环境局"], "env-staff")
    with pytest.raises(PermissionDenied):
        workflow.answer(demo, ticket, other, NOW, ANSWER_TEXT)
    assert ticket.status is Status.ACCEPTED


def test_a_rule_may_require_the_signer(demo, ticket, housing_staff, rule):
    rule.require_signer = True
    demo.flush()
    with pytest.raises(WorkflowError, match="签发人"):
        submitted(demo, ticket, housing_staff)
    assert ticket.status is Status.ACCEPTED
    submitted(demo, ticket, housing_staff, signed_by="王局长")
    assert ticket.events[-1].detail["signed_by"] == "王局长"


def test_a_signer_rule_without_review_answers_at_once(demo, ticket, housing_staff, rule):
    rule.review, rule.require_signer = False, True
    demo.flush()
    submitted(demo, ticket, housing_staff, signed_by="王局长")
    assert ticket.status is Status.ANSWERED and ticket.events[-1].detail["signed_by"] == "王局长"


def test_rules_match_by_kind_and_agency_the_most_specific_first(demo, ticket, housing, rule):
    broad = ReviewRule(kind=None, agency_id=None, review=False, require_signer=True, active=True)
    other_kind = ReviewRule(kind=Kind.SUGGESTION, agency_id=housing.id, review=True, active=True)
    demo.add_all([broad, other_kind])
    demo.flush()
    assert answers.review_rule_for(demo, ticket) is rule
    rule.active = False
    demo.flush()
    assert answers.review_rule_for(demo, ticket) is broad


def test_overlong_citation_is_refused(demo, ticket, housing_staff):
    with pytest.raises(WorkflowError, match="答复依据"):
        submitted(demo, ticket, housing_staff, citation="条" * 501)
    assert ticket.status is Status.ACCEPTED


def test_two_reviewers_at_once_cannot_both_win(app, demo, ticket, housing_staff, dispatcher, rule):
    submitted(demo, ticket, housing_staff)
    demo.commit()
    other = app.extensions["tingjian"].db.Session()
    try:
        mine = demo.get(type(ticket), ticket.id)
        theirs = other.get(type(ticket), ticket.id)
        answers.approve_answer(demo, mine, dispatcher, NOW + timedelta(hours=2))
        demo.commit()
        with pytest.raises(StaleDataError):
            answers.send_back_answer(other, theirs, other.get(User, dispatcher.id), NOW, "再改改")
            other.commit()
        other.rollback()
    finally:
        other.close()
    demo.expire_all()
    assert demo.get(type(ticket), ticket.id).status is Status.ANSWERED


def test_the_public_status_shows_the_answer_only_once_approved(demo, ticket, housing_staff, dispatcher, rule):
    submitted(demo, ticket, housing_staff, citation="《物业管理条例》第三十五条", signed_by="王局长")
    waiting = lookup.public_status(ticket)
    assert waiting["status"] == "reviewing" and waiting["status_label"] == "待审核"
    assert waiting["answer"] is None and waiting["answers"] == []
    assert "submit_answer" not in [e["action"] for e in waiting["timeline"]]
    answers.approve_answer(demo, ticket, dispatcher, NOW + timedelta(days=1))
    demo.flush()
    shown = lookup.public_status(ticket)
    assert shown["answer"] == ANSWER_TEXT
    assert shown["answers"] == [{"at": (NOW + timedelta(days=1)).isoformat(), "answer": ANSWER_TEXT,
                                 "citation": "《物业管理条例》第三十五条"}]
    assert "王局长" not in str(shown)  # the signer is a staff name: not public
