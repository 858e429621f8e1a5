"""The dispatcher's queue of disputes (派单争议待裁定): every disputed ticket,
the ruling deadline soonest first, with how long it has waited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from routing.flow.deadlines import load_calendar
from routing.store.tickets import Status, Ticket, TicketEvent


@dataclass(frozen=True)
class OpenDispute:
    ticket: Ticket
    event: TicketEvent  # the dispute: who, the reason class, the basis, the agency proposed
    waited: timedelta  # working time since the dispute, the ruling deadline's own measure
    overdue: bool  # the ruling deadline has passed

    @property
    def waited_hours(self) -> float:
        return self.waited.total_seconds() / 3600


def open_disputes(session: Session, now: datetime) -> list[OpenDispute]:
    """Disputes waiting for a ruling, the ruling deadline soonest first (the
    overdue ones before all others)."""
    latest = (
        select(TicketEvent.ticket_id, func.max(TicketEvent.id).label("event_id"))
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(Ticket.status == Status.DISPUTED, TicketEvent.action == "dispute")
        .group_by(TicketEvent.ticket_id)
        .subquery()
    )
    query = (
        select(Ticket, TicketEvent)
        .join(latest, latest.c.ticket_id == Ticket.id)
        .join(TicketEvent, TicketEvent.id == latest.c.event_id)
        .order_by(Ticket.ruling_by.asc(), Ticket.id.asc())
        .options(selectinload(Ticket.agency), selectinload(Ticket.district))
    )
    calendar = load_calendar(session)
    return [
        OpenDispute(
            ticket=ticket,
            event=event,
            waited=calendar.working_time_between(event.at, now),
            overdue=ticket.ruling_by is not None and now > ticket.ruling_by,
        )
        for ticket, event in session.execute(query)
    ]


def count_disputes(session: Session) -> int:
    """How many disputes wait for a ruling: for the desk's link to them."""
    return session.scalar(select(func.count()).where(Ticket.status == Status.DISPUTED)) or 0
