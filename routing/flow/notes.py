"""Internal notes (内部备注): what staff tell each other about a ticket — who
was called, what the site visit found — kept on the timeline and never shown
to the resident, the deputy, the status page or the API.

A note changes nothing in the ticket itself, so it is written like the
system's own bookkeeping (``steps.note``): the ticket's version stays, and a
colleague changing the ticket meanwhile is not failed by it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from routing.flow.steps import PermissionDenied, WorkflowError, actor_label, can_see, required_text
from routing.store.people import User
from routing.store.tickets import Ticket, TicketEvent
from routing.texts import N_

INTERNAL_NOTE = "internal_note"
NOTE_LENGTH = 2000


def add_internal_note(session: Session, ticket: Ticket, actor: User, now: datetime, text: str) -> TicketEvent:
    """Add a note for staff to the ticket's timeline: anyone who may see the
    ticket (the centre, the lead and the assisting agencies) may write one."""
    if actor is None or not can_see(actor, ticket):
        raise PermissionDenied(N_("这张工单不属于您的单位。"))
    text = required_text(text, N_("备注内容"))
    if len(text) > NOTE_LENGTH:
        raise WorkflowError(N_("备注最多 %(n)s 字，请精简。"), n=NOTE_LENGTH)
    event = TicketEvent(
        ticket_id=ticket.id, at=now, agency_id=ticket.agency_id, actor_id=actor.id, actor=actor_label(actor),
        action=INTERNAL_NOTE, from_status=None, to_status=ticket.status.value, reason=text,
    )
    session.add(event)
    return event


def internal_notes(ticket: Ticket) -> list[TicketEvent]:
    """The ticket's internal notes, oldest first."""
    return [e for e in ticket.events if e.action == INTERNAL_NOTE]
