"""The work queues (待办): an agency's tickets, those it assists with, the
dispatcher's triage, urgent tickets nobody has accepted, the newest.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from routing.dispatch import rules
from routing.store.people import Agency
from routing.store.tickets import Status, Ticket, TicketEvent, Urgency

# 待办: what an agency still has to do; 争议待裁定 too, as the agency follows
# its dispute until the ruling. The tabs of its queue, in this order.
AGENCY_OPEN = (Status.ASSIGNED, Status.ACCEPTED, Status.WAITING, Status.DISPUTED)
# How the queue can be ordered: the deadline the agency works against first.
QUEUE_ORDERS = {
    "answer_by": (Ticket.answer_by.asc(), Ticket.id.asc()),
    "accept_by": (Ticket.accept_by.asc(), Ticket.id.asc()),
    "created": (Ticket.created_at.desc(), Ticket.id.desc()),
}


def agency_queue(
    session: Session, agency_id: int, *, open_only: bool = True, status: Status | None = None,
    order: str = "answer_by",
) -> list[Ticket]:
    """An agency's own tickets, in one state or all open ones, the most urgent deadline first."""
    query = select(Ticket).where(Ticket.agency_id == agency_id)
    if status is not None:
        query = query.where(Ticket.status == status)
    elif open_only:
        query = query.where(Ticket.status.in_(AGENCY_OPEN))
    query = query.order_by(*QUEUE_ORDERS[order]).options(selectinload(Ticket.district))
    return list(session.scalars(query))


def agency_counts(session: Session, agency_id: int) -> dict[Status, int]:
    """How many of the agency's open tickets are in each state: the queue's tabs."""
    rows = session.execute(
        select(Ticket.status, func.count())
        .where(Ticket.agency_id == agency_id, Ticket.status.in_(AGENCY_OPEN))
        .group_by(Ticket.status)
    ).all()
    found = dict(rows)
    return {state: found.get(state, 0) for state in AGENCY_OPEN}


def reopened(session: Session, tickets: list[Ticket]) -> set[int]:
    """Those of ``tickets`` that came back after an answer (重新办理): the
    agency must see that a first answer did not settle them."""
    ids = [t.id for t in tickets]
    if not ids:
        return set()
    found = session.scalars(
        select(TicketEvent.ticket_id).where(TicketEvent.ticket_id.in_(ids), TicketEvent.action == "reopen").distinct()
    )
    return set(found) | {t.id for t in tickets if t.redo_count}


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
