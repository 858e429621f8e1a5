"""Bulk actions (批量处理): one step for many tickets, each in its own savepoint."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from routing.flow import bulk, steps, workflow
from routing.store.people import Agency, Role
from routing.store.tickets import Status, Ticket, TicketEvent

from .test_workflow import new_ticket, user

NOW = datetime(2026, 10, 12, 10, 0)


@pytest.fixture
def dispatcher(demo):
    return user(demo, Role.DISPATCHER, name="dispatcher-bulk")


@pytest.fixture
def env_agency(demo):
    return demo.scalar(select(Agency).where(Agency.name == "市生态环境局"))


def fresh(session, number):
    session.expire_all()
    return session.scalar(select(Ticket).where(Ticket.number == number))


def events(session, ticket, action):
    return session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == action)).all()


def test_assigning_many_reports_the_ticket_in_the_wrong_state_and_assigns_the_others(demo, dispatcher, env_agency):
    waiting = new_ticket(demo, needs_triage=True)
    routed = new_ticket(demo)
    closed = new_ticket(demo, needs_triage=True)
    workflow.invalidate(demo, closed, dispatcher, NOW, "广告")
    demo.commit()

    outcome = bulk.assign_all(demo, [waiting.number, closed.number, routed.number, "99999999", waiting.number],
                              env_agency, dispatcher, NOW, "批量转办")
    demo.commit()

    assert outcome.done == [waiting.number, routed.number]
    assert outcome.reasons() == [
        (closed.number, "工单当前状态为“无效”，不能转办。"),
        ("99999999", bulk.NOT_FOUND),
    ]
    assert fresh(demo, waiting.number).status is Status.ASSIGNED
    assert fresh(demo, waiting.number).agency_id == env_agency.id
    assert [e.reason for e in events(demo, fresh(demo, routed.number), "reassign")] == ["批量转办"]
    assert fresh(demo, closed.number).status is Status.INVALID
    assert fresh(demo, closed.number).agency_id is None


def test_merging_many_refuses_the_target_itself_and_keeps_the_others(demo, dispatcher):
    target, first, second = new_ticket(demo), new_ticket(demo), new_ticket(demo)

    outcome = bulk.merge_all(demo, [first.number, target.number, second.number], target, dispatcher, NOW)
    demo.commit()

    assert outcome.done == [first.number, second.number]
    assert outcome.reasons() == [(target.number, "不能把工单合并到它自己。")]
    assert fresh(demo, first.number).status is Status.MERGED
    assert fresh(demo, first.number).merged_into_id == target.id
    assert fresh(demo, target.number).status is Status.ASSIGNED
    assert len(events(demo, fresh(demo, target.number), "absorb")) == 2


def test_a_failed_ticket_leaves_no_event_behind(demo, dispatcher):
    accepted = new_ticket(demo)
    agency_user = user(demo, Role.AGENCY, fresh(demo, accepted.number).agency, name="agency-bulk")
    workflow.accept(demo, accepted, agency_user, NOW)
    spam = new_ticket(demo, needs_triage=True)
    demo.commit()

    outcome = bulk.invalidate_all(demo, [accepted.number, spam.number], dispatcher, NOW, "重复刷单")
    demo.commit()

    assert outcome.done == [spam.number]
    assert outcome.reasons() == [(accepted.number, "工单当前状态为“办理中”，不能标记无效。")]
    assert events(demo, fresh(demo, accepted.number), "invalidate") == []
    assert fresh(demo, accepted.number).status is Status.ACCEPTED
    assert [e.reason for e in events(demo, fresh(demo, spam.number), "invalidate")] == ["重复刷单"]


def test_a_ticket_someone_else_changed_meanwhile_is_rolled_back_alone(app, demo, dispatcher, env_agency):
    """The savepoint at work: the stale ticket's changes and event are undone, the next one goes through."""
    stale, other_one = new_ticket(demo, needs_triage=True), new_ticket(demo, needs_triage=True)
    demo.commit()
    assert fresh(demo, stale.number).status is Status.TRIAGE  # loaded here, as the list page had it
    elsewhere = app.extensions["tingjian"].db.Session()
    try:
        workflow.invalidate(elsewhere, elsewhere.get(Ticket, stale.id), elsewhere.get(type(dispatcher), dispatcher.id),
                            NOW, "同事先处理了")
        elsewhere.commit()
    finally:
        elsewhere.close()

    outcome = bulk.assign_all(demo, [stale.number, other_one.number], env_agency, dispatcher, NOW)
    demo.commit()

    assert outcome.done == [other_one.number]
    assert outcome.reasons() == [(stale.number, bulk.STALE)]
    assert fresh(demo, stale.number).status is Status.INVALID
    assert events(demo, fresh(demo, stale.number), "assign") == []
    assert fresh(demo, other_one.number).status is Status.ASSIGNED


def test_agency_staff_cannot_take_dispatch_steps_in_bulk(demo, env_agency):
    t = new_ticket(demo, needs_triage=True)
    staff = user(demo, Role.AGENCY, env_agency, name="agency-bulk")
    outcome = bulk.invalidate_all(demo, [t.number], staff, NOW, "无")
    assert outcome.done == [] and outcome.failed[0][0] == t.number


def test_too_many_at_once_is_refused(demo, dispatcher):
    with pytest.raises(steps.WorkflowError):
        bulk.invalidate_all(demo, [str(n) for n in range(bulk.BULK_LIMIT + 1)], dispatcher, NOW, "太多")
