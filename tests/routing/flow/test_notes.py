"""Internal notes (内部备注): written by those who may see the ticket, kept
on its timeline, never touching the ticket itself."""

from __future__ import annotations

from datetime import datetime

import pytest

from routing.flow.inbound import Inbound, Labels
from routing.flow.notes import NOTE_LENGTH, add_internal_note, internal_notes
from routing.flow.steps import PermissionDenied, WorkflowError
from routing.flow.tickets import open_ticket
from routing.store.configuration import RoutingRule
from routing.store.people import Agency, Role, User

NOW = datetime(2026, 3, 2, 10, 0)


@pytest.fixture
def routed(session):
    housing, transport = Agency(name="市住建局"), Agency(name="市交通局")
    session.add_all([RoutingRule(topic="城乡建设", agency=housing), transport])
    session.flush()
    ticket = open_ticket(session, Inbound(channel="web", text="电梯坏了"), Labels(topic="城乡建设", confidence=0.9), NOW)
    staff = User(username="z", display_name="住建", role=Role.AGENCY, agency=housing, password_hash="x")
    other = User(username="t", display_name="交通", role=Role.AGENCY, agency=transport, password_hash="x")
    session.add_all([staff, other])
    session.commit()
    return ticket, staff, other


def test_a_note_is_on_the_timeline_and_leaves_the_ticket_as_it_was(session, routed):
    ticket, staff, _ = routed
    version, status = ticket.version, ticket.status
    add_internal_note(session, ticket, staff, NOW, "  已电话联系物业，周三上门  ")
    session.commit()
    session.refresh(ticket)
    assert [n.reason for n in internal_notes(ticket)] == ["已电话联系物业，周三上门"]
    assert internal_notes(ticket)[0].actor_id == staff.id
    assert (ticket.version, ticket.status) == (version, status)


def test_another_agency_cannot_write_a_note(session, routed):
    ticket, _, other = routed
    with pytest.raises(PermissionDenied):
        add_internal_note(session, ticket, other, NOW, "看看")


@pytest.mark.parametrize("text", ["", "   ", "字" * (NOTE_LENGTH + 1)])
def test_an_empty_or_overlong_note_is_refused(session, routed, text):
    ticket, staff, _ = routed
    with pytest.raises(WorkflowError):
        add_internal_note(session, ticket, staff, NOW, text)
    assert internal_notes(ticket) == []
