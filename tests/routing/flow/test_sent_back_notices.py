"""The agency is told when a ticket is sent back to it (退回重办), the way a
new assignment tells it: a reopening (重新办理), a redo after 不满意 (重办)
and a dispute ruled against it (争议不成立) hand the ticket over again — at
once when urgent, else in the next bundle (``assigned_in``) — and an answer
the centre's review sends back (审核退回) is told at once, with the reason."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from routing.flow import answers, disputes, ratings, staff_notices, workflow
from routing.flow.callback_rules import CallbackRule
from routing.flow.inbound import Inbound, Labels
from routing.flow.steps import WorkflowError
from routing.flow.tickets import open_ticket
from routing.store.answering import ReviewRule
from routing.store.jobs import Job
from routing.store.tickets import Status, Urgency

NOW = datetime(2026, 3, 2, 9, 0)  # a Monday
LATER = NOW + timedelta(days=1)
NOBODY_SAMPLED = CallbackRule(sample_percent=0)


@pytest.fixture
def assigned(demo, housing):
    t = open_ticket(
        demo,
        Inbound(channel="api", text="小区电梯经常停运，物业不管。"),
        Labels(topic="城乡建设", subtopic=None, confidence=0.9),
        NOW,
    )
    demo.flush()
    assert t.status is Status.ASSIGNED and t.agency_id == housing.id
    return t


def answered(session, ticket, staff):
    workflow.accept(session, ticket, staff, NOW + timedelta(hours=1))
    answers.answer(session, ticket, staff, NOW + timedelta(hours=2), "已督促物业修复电梯。", callbacks=NOBODY_SAMPLED)
    session.flush()


def in_next_bundle(session, ticket, at) -> bool:
    start, end = staff_notices.bundle_window(at, timedelta(minutes=5))
    return ticket in staff_notices.assigned_in(session, start, end).get(ticket.agency_id, [])


def jobs(session, kind) -> list[Job]:
    return list(session.scalars(select(Job).where(Job.kind == kind).order_by(Job.id)))


def test_a_redo_after_an_unsatisfied_rating_tells_the_agency_in_the_next_bundle(demo, assigned, housing_staff):
    answered(demo, assigned, housing_staff)
    ratings.rate(demo, assigned, LATER, "unsatisfied", "电梯还是停")
    demo.flush()
    assert assigned.status is Status.ASSIGNED and assigned.redo_count == 1
    assert in_next_bundle(demo, assigned, LATER)


def test_an_urgent_redo_tells_the_agency_at_once(demo, assigned, housing_staff):
    answered(demo, assigned, housing_staff)
    assigned.urgency = Urgency.URGENT
    ratings.rate(demo, assigned, LATER, "unsatisfied", "电梯还是停")
    demo.flush()
    [job] = jobs(demo, staff_notices.STAFF_ASSIGNED)[-1:]
    assert job.payload == {"ticket_id": assigned.id, "agency_id": assigned.agency_id, "assigned_at": LATER.isoformat()}


def test_a_dispatchers_reopening_tells_the_agency(demo, assigned, housing_staff, dispatcher):
    answered(demo, assigned, housing_staff)
    workflow.reopen(demo, assigned, dispatcher, LATER, "答复未回应群众的诉求")
    demo.flush()
    assert in_next_bundle(demo, assigned, LATER)


def test_a_dispute_ruled_against_the_agency_tells_it(demo, assigned, housing_staff, dispatcher):
    disputes.dispute(
        demo,
        assigned,
        housing_staff,
        NOW + timedelta(minutes=10),
        reason_class="not_our_duty",
        basis="《物业管理条例》",
    )
    demo.flush()
    assert not in_next_bundle(demo, assigned, LATER)  # the dispute itself tells the agency nothing
    disputes.reject(demo, assigned, dispatcher, LATER, reason="电梯维护属住建部门监管职责")
    demo.flush()
    assert assigned.status is Status.ASSIGNED and in_next_bundle(demo, assigned, LATER)


def test_an_answer_sent_back_by_the_review_tells_the_agency_at_once(demo, assigned, housing_staff, dispatcher):
    demo.add(ReviewRule(kind=None, agency_id=None, review=True, require_signer=False, active=True))
    answered(demo, assigned, housing_staff)
    assert assigned.status is Status.REVIEWING and jobs(demo, staff_notices.STAFF_SENT_BACK) == []
    answers.send_back_answer(demo, assigned, dispatcher, LATER, "未说明维修时间")
    demo.flush()
    event = assigned.events[-1]
    [job] = jobs(demo, staff_notices.STAFF_SENT_BACK)
    assert job.payload == {"ticket_id": assigned.id, "agency_id": assigned.agency_id, "event_id": event.id}
    assert job.key == f"staff.sent_back:{event.id}" and job.run_after == LATER
    # Its assignment is kept: it is not in a bundle of new assignments as well.
    assert not in_next_bundle(demo, assigned, LATER)


def test_a_send_back_refused_tells_nobody(demo, assigned, housing_staff, dispatcher):
    answered(demo, assigned, housing_staff)  # no review rule: the answer went out
    with pytest.raises(WorkflowError):
        answers.send_back_answer(demo, assigned, dispatcher, LATER, "未说明维修时间")
    assert jobs(demo, staff_notices.STAFF_SENT_BACK) == []
