"""Callbacks (回访) for merged tickets (合并): every resident whose ticket
joined the answered one got its answer, so the rule that chooses the matter
calls each of them back — one callback per resident, each try on that
resident's own ticket, counted for the agency that answered."""

from __future__ import annotations

from datetime import datetime, timedelta

from routing.flow import answers, callbacks, workflow
from routing.flow.callback_rules import CallbackRule
from routing.flow.inbound import Contact, Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.reports.scorecard import scorecard
from routing.store.tickets import Kind, Status

NOW = datetime(2026, 3, 2, 9, 0)  # a Monday
MARCH = (datetime(2026, 3, 1), datetime(2026, 4, 1))
NOBODY_SAMPLED = CallbackRule(sample_percent=0)


def reported(session, housing, kind, phone):
    t = open_ticket(
        session,
        Inbound(channel="api", text="小区电梯经常停运，物业不管。", contact=Contact(phone=phone)),
        Labels(topic="城乡建设", subtopic=None, confidence=0.9),
        NOW,
    )
    t.agency, t.agency_id, t.kind = housing, housing.id, kind
    session.flush()
    return t


def merged_then_answered(session, housing, housing_staff, dispatcher, target_kind, duplicate_kind):
    target = reported(session, housing, target_kind, "13800000001")
    duplicate = reported(session, housing, duplicate_kind, "13800000002")
    workflow.merge(session, duplicate, target, dispatcher, NOW + timedelta(minutes=30), "同一部电梯")
    workflow.accept(session, target, housing_staff, NOW + timedelta(hours=1))
    answers.answer(
        session, target, housing_staff, NOW + timedelta(hours=2), "已督促物业修复电梯。", callbacks=NOBODY_SAMPLED
    )
    session.flush()
    return target, duplicate


def test_the_residents_of_merged_tickets_are_called_back_with_the_answered_one(
    demo, housing, housing_staff, dispatcher
):
    target, duplicate = merged_then_answered(
        demo, housing, housing_staff, dispatcher, Kind.COMPLAINT, Kind.CONSULTATION
    )
    queued = callbacks.queue(demo)
    assert {c.ticket.id for c in queued} == {target.id, duplicate.id}
    # Each resident is called on their own ticket's contact, and counts for the agency that answered.
    assert {c.ticket.contact_phone for c in queued} == {"13800000001", "13800000002"}
    assert all(c.agency_id == housing.id for c in queued)


def test_a_merged_complaint_is_called_back_even_when_the_answered_ticket_is_not_chosen(
    demo, housing, housing_staff, dispatcher
):
    _target, duplicate = merged_then_answered(
        demo, housing, housing_staff, dispatcher, Kind.CONSULTATION, Kind.COMPLAINT
    )
    assert [c.ticket for c in callbacks.queue(demo)] == [duplicate]


def test_nothing_is_queued_when_the_rule_chooses_none_of_them(demo, housing, housing_staff, dispatcher):
    merged_then_answered(demo, housing, housing_staff, dispatcher, Kind.CONSULTATION, Kind.CONSULTATION)
    assert callbacks.queue(demo) == []


def test_the_outcome_is_recorded_on_the_merged_tickets_own_timeline_and_counted(
    demo, housing, housing_staff, dispatcher
):
    target, duplicate = merged_then_answered(demo, housing, housing_staff, dispatcher, Kind.COMPLAINT, Kind.COMPLAINT)
    later = NOW + timedelta(days=1)
    target_events = len(target.events)
    callbacks.record_try(
        demo, duplicate, dispatcher, later, reached=True, solved=False, satisfied=False, said="楼下那部还是坏的"
    )
    demo.flush()
    event = duplicate.events[-1]
    assert event.action == "callback" and event.reason == "楼下那部还是坏的"
    assert event.detail == {"reached": True, "solved": False, "satisfied": False}
    assert len(target.events) == target_events and duplicate.status is Status.MERGED
    # The target's own callback still waits; the merged resident's outcome counts for housing.
    assert [c.ticket for c in callbacks.queue(demo)] == [target]
    [row] = scorecard(demo, *MARCH, datetime(2026, 4, 10), agency_id=housing.id).rows
    assert (row.callbacks_reached, row.callbacks_solved, row.callbacks_satisfied) == (1, 0, 0)
