"""The workflow, as plain functions on a session: no web request, no clock."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from routing.flow import steps, workflow
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.store.people import Agency, Role, User
from routing.store.tickets import Kind, Status

NOW = datetime(2026, 9, 30, 10, 0)


def user(session, role: Role, agency: Agency | None = None, name: str = "someone") -> User:
    u = User(username=name, display_name=name, role=role, agency_id=agency.id if agency else None, password_hash="x")
    session.add(u)
    session.flush()
    return u


@pytest.fixture
def housing(demo):
    return demo.scalar(select(Agency).where(Agency.name == "市住建局"))


@pytest.fixture
def env_agency(demo):
    return demo.scalar(select(Agency).where(Agency.name == "市生态环境局"))


def new_ticket(session, topic="城乡建设", needs_triage=False):
    t = open_ticket(
        session,
        Inbound(channel="api", text="小区电梯坏了三个星期没人修。"),
        Labels(topic=topic, subtopic=None, confidence=0.9, needs_triage=needs_triage, triage_reason="测试"),
        NOW,
    )
    session.commit()
    return t


def test_a_ticket_is_routed_by_rule_with_deadlines_across_national_day(demo, housing):
    t = new_ticket(demo)
    assert t.status is Status.ASSIGNED and t.agency_id == housing.id
    # Accept within 1 working day, answer within 15: 10-01..10-07 are holidays,
    # 10-10 (a Saturday) is a make-up working day.
    assert t.accept_by.date() == datetime(2026, 10, 8).date()
    assert t.answer_by.date() == datetime(2026, 10, 27).date()
    assert t.kind is Kind.COMPLAINT


def test_without_a_rule_the_ticket_waits_for_a_dispatcher(demo):
    t = new_ticket(demo, topic="其他")
    assert t.status is Status.TRIAGE and t.agency_id is None
    assert t.events[-1].action == "triage" and t.events[-1].reason == "没有适用的派单规则"


def test_unsure_classification_waits_for_a_dispatcher_with_the_reason(demo):
    t = new_ticket(demo, needs_triage=True)
    assert t.status is Status.TRIAGE and t.events[-1].reason == "测试"


def test_an_agency_accepts_and_answers_its_own_ticket(demo, housing):
    t = new_ticket(demo)
    staff = user(demo, Role.AGENCY, housing)
    workflow.accept(demo, t, staff, NOW)
    workflow.answer(demo, t, staff, NOW, "已修好。")
    demo.commit()
    assert t.status is Status.ANSWERED and t.answer == "已修好。"
    assert [(e.action, e.from_status, e.to_status) for e in t.events] == [
        ("create", None, "received"),
        ("assign", "received", "assigned"),
        ("accept", "assigned", "accepted"),
        ("answer", "accepted", "answered"),
    ]


@pytest.mark.parametrize(
    ("step", "kwargs"),
    [(workflow.answer, {"text": "先答复"}), (workflow.return_ticket, {"reason": ""})],
)
def test_illegal_steps_are_refused_with_a_clear_error(demo, housing, step, kwargs):
    t = new_ticket(demo)
    staff = user(demo, Role.AGENCY, housing)
    with pytest.raises(steps.WorkflowError) as error:
        step(demo, t, staff, NOW, **kwargs)
    assert "不能" in str(error.value) or "请填写" in str(error.value)
    assert t.status is Status.ASSIGNED


def test_accepting_twice_is_refused(demo, housing):
    t = new_ticket(demo)
    staff = user(demo, Role.AGENCY, housing)
    workflow.accept(demo, t, staff, NOW)
    with pytest.raises(steps.WorkflowError, match="不能签收"):
        workflow.accept(demo, t, staff, NOW)


def test_only_the_assigned_agency_may_act(demo, housing, env_agency):
    t = new_ticket(demo)
    with pytest.raises(steps.PermissionDenied):
        workflow.accept(demo, t, user(demo, Role.AGENCY, env_agency, "other"), NOW)
    with pytest.raises(steps.PermissionDenied):
        workflow.accept(demo, t, user(demo, Role.DISPATCHER, name="disp"), NOW)
    with pytest.raises(steps.PermissionDenied):
        workflow.correct(demo, t, user(demo, Role.AGENCY, housing, "own"), NOW, topic="环境保护")
    assert t.status is Status.ASSIGNED


def test_a_correction_reroutes_by_the_new_topic(demo, env_agency):
    t = new_ticket(demo)
    dispatcher = user(demo, Role.DISPATCHER, name="disp")
    workflow.correct(demo, t, dispatcher, NOW, topic="环境保护", subtopic=None, reason="是噪音问题")
    demo.commit()
    assert t.agency_id == env_agency.id and t.status is Status.ASSIGNED
    assert [e.action for e in t.events][-2:] == ["correct", "reassign"]
    assert t.events[-2].detail == {"topic": {"from": "城乡建设", "to": "环境保护"}}


def test_two_people_acting_at_once_cannot_both_win(app, demo, housing):
    t = new_ticket(demo)
    staff = user(demo, Role.AGENCY, housing)
    demo.commit()
    other = app.extensions["tingjian"].db.Session()
    try:
        # Both open the ticket; one accepts and saves first.
        mine = demo.get(type(t), t.id)
        theirs = other.get(type(t), t.id)
        workflow.accept(demo, mine, staff, NOW)
        demo.commit()
        # The other still sees it unaccepted, but cannot save over the first.
        with pytest.raises(StaleDataError):
            workflow.return_ticket(other, theirs, other.get(User, staff.id), NOW, reason="不归我们管")
            other.commit()
        other.rollback()
    finally:
        other.close()
    demo.expire_all()
    t = demo.get(type(t), t.id)
    assert t.status is Status.ACCEPTED
    assert [e.action for e in t.events] == ["create", "assign", "accept"]


# -- the rest of the workflow: waiting, extensions, closing, reopening, merging, invalid


def accepted_ticket(demo, housing):
    t = new_ticket(demo)
    staff = user(demo, Role.AGENCY, housing, "staff")
    workflow.accept(demo, t, staff, NOW)
    return t, staff


def test_waiting_on_the_resident_stops_the_clock_and_moves_the_deadline_when_it_runs_again(demo, housing):
    t, staff = accepted_ticket(demo, housing)
    assert t.answer_by == datetime(2026, 10, 27, 17, 30)
    workflow.ask_resident(demo, t, staff, NOW, "请提供电梯所在的楼号和单元。")
    assert t.status is Status.WAITING and t.paused_at == NOW
    # The resident answers on Friday 16 October: 8, 9, 12–16 October are 7 working
    # days after the pause (1–7 October are the holiday, 10 October a make-up day: 8).
    later = datetime(2026, 10, 16, 11, 0)
    workflow.resume(demo, t, None, later, reason="群众已补充")
    assert t.status is Status.ACCEPTED and t.paused_at is None
    assert t.events[-1].detail["paused_working_days"] == 8
    assert t.answer_by == datetime(2026, 11, 6, 17, 30)
    with pytest.raises(steps.WorkflowError, match="请填写"):
        workflow.ask_resident(demo, t, staff, later, "  ")


def test_an_extension_is_requested_by_the_agency_and_decided_by_the_dispatcher(demo, housing):
    t, staff = accepted_ticket(demo, housing)
    dispatcher = user(demo, Role.DISPATCHER, name="disp")
    with pytest.raises(steps.WorkflowError, match="晚于"):
        workflow.request_extension(demo, t, staff, NOW, datetime(2026, 10, 20, 17, 30), "需要招标")
    with pytest.raises(steps.PermissionDenied):
        workflow.request_extension(demo, t, dispatcher, NOW, datetime(2026, 11, 30, 17, 30), "需要招标")
    workflow.request_extension(demo, t, staff, NOW, datetime(2026, 11, 30, 17, 30), "需要招标采购配件")
    with pytest.raises(steps.WorkflowError, match="等待审批"):
        workflow.request_extension(demo, t, staff, NOW, datetime(2026, 12, 30, 17, 30), "再延")
    with pytest.raises(steps.PermissionDenied):
        workflow.decide_extension(demo, t, staff, NOW, approve=True)
    workflow.decide_extension(demo, t, dispatcher, NOW, approve=True)
    assert t.answer_by == datetime(2026, 11, 30, 17, 30) and t.extension_until is None
    assert [e.action for e in t.events][-2:] == ["request_extension", "approve_extension"]

    workflow.request_extension(demo, t, staff, NOW, datetime(2026, 12, 30, 17, 30), "还要再等")
    with pytest.raises(steps.WorkflowError, match="理由"):
        workflow.decide_extension(demo, t, dispatcher, NOW, approve=False)
    workflow.decide_extension(demo, t, dispatcher, NOW, approve=False, reason="时间已经够了")
    assert t.answer_by == datetime(2026, 11, 30, 17, 30)
    with pytest.raises(steps.WorkflowError, match="没有待审批"):
        workflow.decide_extension(demo, t, dispatcher, NOW, approve=True)


def test_an_answer_is_closed_or_reopened_to_the_same_agency_with_new_deadlines(demo, housing):
    t, staff = accepted_ticket(demo, housing)
    workflow.answer(demo, t, staff, NOW, "已安排维修。")
    later = datetime(2026, 11, 2, 9, 0)
    workflow.reopen(demo, t, None, later, reason="群众不满意：电梯仍未修好")
    assert t.status is Status.ASSIGNED and t.agency_id == housing.id
    assert t.answer is None and t.events[-1].detail["previous_answer"] == "已安排维修。"
    assert t.answer_by.date() == datetime(2026, 11, 23).date()
    workflow.accept(demo, t, staff, later)
    workflow.answer(demo, t, staff, later, "已更换电梯主板。")
    workflow.close(demo, t, None, later, reason="群众满意")
    assert t.status is Status.CLOSED and t.closed_at == later
    with pytest.raises(steps.WorkflowError, match="不能办结"):
        workflow.close(demo, t, None, later)


def test_a_merged_ticket_gets_the_answer_of_the_ticket_it_joined(demo, housing):
    first, staff = accepted_ticket(demo, housing)
    duplicate = new_ticket(demo)
    dispatcher = user(demo, Role.DISPATCHER, name="disp")
    with pytest.raises(steps.WorkflowError, match="自己"):
        workflow.merge(demo, first, first, dispatcher, NOW)
    workflow.merge(demo, duplicate, first, dispatcher, NOW, reason="同一部电梯")
    assert duplicate.status is Status.MERGED and duplicate.merged_into_id == first.id
    assert first.events[-1].action == "absorb"
    workflow.answer(demo, first, staff, NOW, "已修好。")
    assert duplicate.answer == "已修好。" and duplicate.events[-1].action == "answer_merged"
    third = new_ticket(demo)
    with pytest.raises(steps.WorkflowError, match="不能合并"):
        workflow.merge(demo, third, duplicate, dispatcher, NOW)


def test_merging_a_ticket_others_were_merged_into_re_points_them_to_the_ticket_that_answers(demo, housing):
    first, staff = accepted_ticket(demo, housing)
    middle, earlier = new_ticket(demo), new_ticket(demo)
    dispatcher = user(demo, Role.DISPATCHER, name="disp")
    workflow.merge(demo, earlier, middle, dispatcher, NOW)
    workflow.merge(demo, middle, first, dispatcher, NOW)
    assert earlier.merged_into_id == first.id and steps.handled_with(earlier) is first
    assert earlier.events[-1].action == "remerge" and earlier.events[-1].detail == {"from": middle.number, "into": first.number}
    workflow.answer(demo, first, staff, NOW, "已修好。")
    assert earlier.answer == "已修好。" and steps.awaiting_rating(earlier)
    assert steps.answering_agency(earlier) is housing


def test_spam_is_marked_invalid_with_a_reason_and_kept(demo):
    t = new_ticket(demo, needs_triage=True)
    dispatcher = user(demo, Role.DISPATCHER, name="disp")
    with pytest.raises(steps.WorkflowError, match="请填写"):
        workflow.invalidate(demo, t, dispatcher, NOW, "")
    workflow.invalidate(demo, t, dispatcher, NOW, "广告")
    assert t.status is Status.INVALID and t.events[-1].reason == "广告"
    with pytest.raises(steps.WorkflowError, match="不能"):
        workflow.correct(demo, t, dispatcher, NOW, topic="环境保护")
