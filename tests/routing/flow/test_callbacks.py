"""Callbacks (回访): the tickets the rule chooses wait for the centre once the
answer reached the resident; each try is a step on the timeline, and after
the last unreached try the city's rule closes the ticket or keeps it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from routing.flow import answers, callbacks, workflow
from routing.flow.callback_rules import KEEP, CallbackRule, in_sample, needs_callback, parse_kinds
from routing.flow.inbound import Inbound, Labels
from routing.flow.steps import PermissionDenied, WorkflowError
from routing.flow.tickets import open_ticket
from routing.store.answering import ReviewRule
from routing.store.callbacks import Callback
from routing.store.tickets import Kind, Status

NOW = datetime(2026, 3, 2, 9, 0)  # a Monday
NOBODY_SAMPLED = CallbackRule(sample_percent=0)


@pytest.fixture
def ticket(demo, housing):
    t = open_ticket(
        demo,
        Inbound(channel="api", text="小区电梯经常停运，物业不管。"),
        Labels(topic="城乡建设", subtopic=None, confidence=0.9),
        NOW,
    )
    t.agency, t.agency_id = housing, housing.id
    t.kind = Kind.COMPLAINT
    demo.flush()
    return t


def answered(session, ticket, staff, rule=NOBODY_SAMPLED):
    workflow.accept(session, ticket, staff, NOW)
    answers.answer(session, ticket, staff, NOW + timedelta(hours=1), "已督促物业修复电梯。", callbacks=rule)
    session.flush()


def test_a_complaint_is_queued_when_the_answer_reaches_the_resident(demo, ticket, housing_staff):
    answered(demo, ticket, housing_staff)
    [waiting] = callbacks.queue(demo)
    assert waiting.ticket is ticket and waiting.queued_at == NOW + timedelta(hours=1) and waiting.attempts == 0


def test_a_consultation_outside_the_sample_is_not_queued(demo, ticket, housing_staff):
    ticket.kind = Kind.CONSULTATION
    answered(demo, ticket, housing_staff)
    assert callbacks.queue(demo) == []


def test_an_answer_held_for_review_is_queued_only_once_approved(demo, ticket, housing_staff, dispatcher):
    demo.add(ReviewRule(kind=None, agency_id=None, review=True, require_signer=False, active=True))
    answered(demo, ticket, housing_staff)
    assert callbacks.queue(demo) == []
    answers.approve_answer(demo, ticket, dispatcher, NOW + timedelta(hours=2), callbacks=NOBODY_SAMPLED)
    demo.flush()
    assert [c.ticket for c in callbacks.queue(demo)] == [ticket]


def test_every_deputy_suggestion_is_called_back_whatever_the_kinds_say():
    rule = CallbackRule(kinds=frozenset(), sample_percent=0)
    from routing.store.tickets import Ticket

    assert needs_callback(Ticket(kind=Kind.DEPUTY_SUGGESTION, number="D1"), rule)
    assert not needs_callback(Ticket(kind=Kind.COMPLAINT, number="D1"), rule)


def test_the_sample_is_stable_and_about_its_share():
    numbers = [f"2026030200{i:04d}" for i in range(2000)]
    chosen = [n for n in numbers if in_sample(n, 10)]
    assert chosen == [n for n in numbers if in_sample(n, 10)]
    assert 150 < len(chosen) < 250
    assert not any(in_sample(n, 0) for n in numbers) and all(in_sample(n, 100) for n in numbers)


def test_kinds_are_read_from_the_setting_and_an_unknown_one_is_refused():
    assert parse_kinds("complaint, help") == {Kind.COMPLAINT, Kind.HELP}
    assert parse_kinds("") == frozenset()
    with pytest.raises(ValueError, match="praise"):
        parse_kinds("complaint,praise")


def test_reaching_the_resident_records_the_outcome_on_the_timeline(demo, ticket, housing_staff, dispatcher):
    answered(demo, ticket, housing_staff)
    version = ticket.version
    done = callbacks.record_try(
        demo,
        ticket,
        dispatcher,
        NOW + timedelta(days=1),
        reached=True,
        solved=True,
        satisfied=False,
        said="修好了，但拖得太久",
    )
    demo.flush()
    assert (done.reached, done.solved, done.satisfied, done.said) == (True, True, False, "修好了，但拖得太久")
    assert done.done_at == NOW + timedelta(days=1) and callbacks.queue(demo) == []
    event = ticket.events[-1]
    assert event.action == "callback" and event.reason == "修好了，但拖得太久"
    assert event.detail == {"reached": True, "solved": True, "satisfied": False}
    assert ticket.status is Status.ANSWERED and ticket.version == version + 1


def test_reached_without_an_outcome_is_refused_and_changes_nothing(demo, ticket, housing_staff, dispatcher):
    answered(demo, ticket, housing_staff)
    events = len(ticket.events)
    with pytest.raises(WorkflowError, match="是否解决"):
        callbacks.record_try(demo, ticket, dispatcher, NOW + timedelta(days=1), reached=True, solved=True)
    assert len(ticket.events) == events and callbacks.pending(demo, ticket).attempts == 0


def test_only_the_dispatcher_centre_calls_back(demo, ticket, housing_staff):
    answered(demo, ticket, housing_staff)
    with pytest.raises(PermissionDenied):
        callbacks.record_try(demo, ticket, housing_staff, NOW + timedelta(days=1), reached=False)


def test_a_ticket_not_in_the_queue_cannot_be_called_back(demo, ticket, housing_staff, dispatcher):
    ticket.kind = Kind.CONSULTATION
    answered(demo, ticket, housing_staff)
    with pytest.raises(WorkflowError, match="待回访"):
        callbacks.record_try(demo, ticket, dispatcher, NOW + timedelta(days=1), reached=False)


def test_after_the_last_unreached_try_the_ticket_closes_saying_why(demo, ticket, housing_staff, dispatcher):
    answered(demo, ticket, housing_staff)
    rule = CallbackRule(attempts=2)
    callbacks.record_try(demo, ticket, dispatcher, NOW + timedelta(days=1), reached=False, rule=rule)
    assert ticket.status is Status.ANSWERED and callbacks.pending(demo, ticket).attempts == 1
    callbacks.record_try(
        demo, ticket, dispatcher, NOW + timedelta(days=2), reached=False, said="电话无人接听", rule=rule
    )
    demo.flush()
    assert ticket.status is Status.CLOSED and ticket.closed_at == NOW + timedelta(days=2)
    tried, closed = ticket.events[-2:]
    assert tried.action == "callback" and tried.detail == {"reached": False, "try": 2}
    assert closed.action == "close" and "2 次未联系上" in closed.reason
    callback = demo.scalar(select(Callback).where(Callback.ticket_id == ticket.id))
    assert callback.reached is False and callback.done_at is not None


def test_the_city_may_keep_an_unreached_ticket_open(demo, ticket, housing_staff, dispatcher):
    answered(demo, ticket, housing_staff)
    rule = CallbackRule(attempts=1, unreached=KEEP)
    callbacks.record_try(demo, ticket, dispatcher, NOW + timedelta(days=1), reached=False, rule=rule)
    assert ticket.status is Status.ANSWERED and callbacks.queue(demo) == []


def test_a_ticket_answered_again_is_called_back_again(demo, ticket, housing_staff, dispatcher):
    answered(demo, ticket, housing_staff)
    callbacks.record_try(demo, ticket, dispatcher, NOW + timedelta(days=1), reached=True, solved=False, satisfied=False)
    workflow.reopen(demo, ticket, dispatcher, NOW + timedelta(days=1), reason="群众反映未解决")
    answered(demo, ticket, housing_staff)
    [again] = callbacks.queue(demo)
    assert again.ticket is ticket and again.reached is None and again.attempts == 0
