"""Showing a resident's contact data to staff (联系方式): on the page of
those who see it (logged each time), and revealed with a stated reason by the
agency's staff (查看联系方式: on the timeline and in the access log). A
confidential ticket (保密/检举) is never revealed to an agency."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from routing.flow.steps import PermissionDenied, WorkflowError, actor_label
from routing.store.access_log import REVEAL, VIEW_CONTACT, record_access
from routing.store.people import User
from routing.store.privacy import can_see_contact, contact_view, may_reveal
from routing.store.tickets import Ticket, TicketEvent
from routing.texts import N_

REVEAL_CONTACT = "reveal_contact"  # the timeline's action
CONFIDENTIAL = N_("该件群众要求保密，请联系分拣中心转达。")
NOT_YOURS = N_("只有承办本件的单位可以查看联系方式。")
NO_REASON = N_("请说明查看联系方式的原因，例如回电核实。")


def shown_contact(
    session: Session,
    user: User,
    ticket: Ticket,
    now: datetime,
    *,
    address: str | None,
    dispatcher_sees: bool = True,
    revealed: bool = False,
) -> dict[str, Any]:
    """The ticket's contact data for ``user``'s page: unmasked when the rule
    lets them see it (or they revealed it just now), masked otherwise; every
    unmasked showing is an access-log entry. The caller commits."""
    if not (ticket.contact_name or ticket.contact_phone):
        return {"name": "", "phone": "", "masked": False, "empty": True}
    visible = can_see_contact(user, ticket, dispatcher_sees=dispatcher_sees, session=session)
    visible = visible or (revealed and may_reveal(user, ticket))
    if visible:
        record_access(session, user, VIEW_CONTACT, at=now, address=address, ticket=ticket)
    return contact_view(ticket, visible) | {"empty": False, "may_reveal": not visible and may_reveal(user, ticket)}


def reveal_contact(
    session: Session, user: User, ticket: Ticket, reason: str, now: datetime, *, address: str | None
) -> dict[str, Any]:
    """Agency staff reveal the ticket's contact data, saying why: an event on
    the timeline and an entry in the access log; refused on a confidential
    ticket and for anyone but the ticket's agencies. The caller commits."""
    reason = (reason or "").strip()
    if ticket.confidential:
        raise PermissionDenied(CONFIDENTIAL)
    if not may_reveal(user, ticket):
        raise PermissionDenied(NOT_YOURS)
    if not reason:
        raise WorkflowError(NO_REASON)
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            at=now,
            agency_id=user.agency_id,
            actor_id=user.id,
            actor=actor_label(user),
            action=REVEAL_CONTACT,
            from_status=None,
            to_status=ticket.status.value,
            reason=reason[:500],
        )
    )
    record_access(session, user, REVEAL, at=now, address=address, ticket=ticket, reason=reason[:500])
    return contact_view(ticket, True)
