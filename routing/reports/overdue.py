"""超期: which tickets in an agency's hands are past a deadline right now.

One definition for the sweep (escalation will act on these tickets) and the
scorecards (their "currently overdue" column):

- 待签收 (assigned): past the accept deadline, or already past the answer deadline;
- 办理中 (accepted): past the answer deadline;
- 待群众补充 (waiting): the answer clock stands still while the agency waits on
  the resident, so only a ticket that was already late when the clock stopped
  (answer deadline before ``paused_at``) counts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, DateTime, and_, func, literal, or_, select
from sqlalchemy.orm import Session, joinedload

from routing.store.tickets import Status, Ticket

# The agency holds the ticket: its deadlines run.
IN_AGENCY = (Status.ASSIGNED, Status.ACCEPTED, Status.WAITING)


def at(moment: datetime) -> ColumnElement[datetime]:
    """A moment as a typed SQL value, stored like the columns it is compared with."""
    return literal(moment, DateTime())


def answer_clock(now: datetime) -> ColumnElement[datetime]:
    """Where the answer clock stands: at the pause while the agency waits on
    the resident, else at ``now``."""
    return func.coalesce(Ticket.paused_at, at(now))


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """True for a ticket in an agency's hands that is past a deadline at ``now``."""
    return and_(
        Ticket.status.in_(IN_AGENCY),
        or_(
            and_(Ticket.status == Status.ASSIGNED, Ticket.accept_by < at(now)),
            Ticket.answer_by < answer_clock(now),
        ),
    )


def overdue_tickets(
    session: Session,
    now: datetime,
    *,
    agency_id: int | None = None,
    district_id: int | None = None,
    limit: int | None = None,
) -> list[Ticket]:
    """Overdue tickets with their agencies, the longest overdue first: what
    the escalation sweep warns about."""
    query = (
        select(Ticket)
        .where(overdue_condition(now))
        .options(joinedload(Ticket.agency))
        .order_by(Ticket.answer_by.asc(), Ticket.id.asc())
    )
    if agency_id is not None:
        query = query.where(Ticket.agency_id == agency_id)
    if district_id is not None:
        query = query.where(Ticket.district_id == district_id)
    return list(session.scalars(query.limit(limit)))
