"""The work queues (待办): an agency's tickets, those it assists with, the
dispatcher's triage, urgent tickets nobody has accepted, the newest.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from routing.dispatch import rules
from routing.store.people import Agency
from routing.store.tickets import Status, Ticket, Urgency


def agency_queue(session: Session, agency_id: int, *, open_only: bool = True) -> list[Ticket]:
    """An agency's own tickets, the most urgent deadline first."""
    query = select(Ticket).where(Ticket.agency_id == agency_id)
    if open_only:
        # 争议待裁定 too: the agency follows its dispute until the ruling.
        query = query.where(Ticket.status.in_((Status.ASSIGNED, Status.DISPUTED, Status.ACCEPTED, Status.WAITING)))
    query = query.order_by(Ticket.answer_by.asc(), Ticket.id.asc()).options(selectinload(Ticket.district))
    return list(session.scalars(query))


def assisting_queue(session: Session, agency_id: int) -> list[Ticket]:
    """Open tickets an agency assists on (协办), the most urgent deadline first."""
    query = (
        select(Ticket)
        .where(Ticket.assisting.any(Agency.id == agency_id), Ticket.status.in_(rules.OPEN))
        .order_by(Ticket.answer_by.asc(), Ticket.id.asc())
    )
    return list(session.scalars(query))


# A received ticket is read within a second; one still unread after this
# (its job keeps failing) goes before a dispatcher rather than waiting unseen.
CLASSIFY_GRACE = timedelta(minutes=2)


def _triage(now: datetime | None):
    """The triage queue's query: urgent first, then oldest first."""
    stalled = Ticket.status == Status.RECEIVED
    if now is not None:
        stalled = stalled & (Ticket.created_at <= now - CLASSIFY_GRACE)
    return (
        select(Ticket)
        .where((Ticket.status == Status.TRIAGE) | stalled)
        .order_by((Ticket.urgency == Urgency.URGENT).desc(), Ticket.created_at.asc(), Ticket.id.asc())
    )


def triage_queue(session: Session, now: datetime | None = None) -> list[Ticket]:
    """Tickets waiting for a dispatcher: urgent first, then oldest first."""
    return list(session.scalars(_triage(now)))


def next_in_triage(session: Session, now: datetime | None = None, after: Ticket | None = None) -> Ticket | None:
    """下一件: the ticket at the head of the triage queue, leaving out the one
    the dispatcher has just dealt with (it may still be there until a worker
    moves it)."""
    query = _triage(now)
    if after is not None:
        query = query.where(Ticket.id != after.id)
    return session.scalars(query.limit(1)).first()


def merged_into(session: Session, ticket: Ticket) -> list[Ticket]:
    """The duplicates merged into ``ticket``: answered with it, listed on it."""
    query = select(Ticket).where(Ticket.merged_into_id == ticket.id).order_by(Ticket.created_at, Ticket.id)
    return list(session.scalars(query))


def urgent_unaccepted(session: Session) -> list[Ticket]:
    """Emergencies nobody has taken on yet: the dispatcher must see them at once."""
    query = (
        select(Ticket)
        .where(Ticket.urgency == Urgency.URGENT, Ticket.status.in_((Status.TRIAGE, Status.ASSIGNED)))
        .order_by(Ticket.created_at.asc(), Ticket.id.asc())
    )
    return list(session.scalars(query))


def recent_tickets(session: Session, limit: int = 50) -> list[Ticket]:
    query = select(Ticket).order_by(Ticket.id.desc()).limit(limit)
    return list(session.scalars(query))
