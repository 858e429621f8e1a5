"""Telling agency staff and supervisors (通知承办单位): which occasions ask
for a message, as jobs of the outbox stored with the change that makes them.

- A ticket assigned (新派单): an urgent one (紧急) at once, day and night; the
  others in one bundle per agency, at most one message every few minutes —
  the bundle job reads which tickets were assigned in its window.
- A ticket sent back (退回重办): a reopening, a redo (重办) and a dispute
  ruled against the agency (争议不成立) hand the ticket to it again with a
  fresh assignment, and are told as one; an answer the centre's review sent
  back (审核退回) keeps its assignment, so it is told at once, with the reason.
- A reminder (催办) to the agency, a notice (通报) to its supervisor, the
  daily digest (每日简报) to each agency.

The collector's jobs send them on the channel the agency chose. Texts name
tickets by number and topic only: never the resident's name or number.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.store.jobs import Job, enqueue, next_slot
from routing.store.oversight import AgencyDigest, Escalation, EscalationKind
from routing.store.tickets import Ticket, Urgency

STAFF_ASSIGNED = "staff.assigned"  # one urgent ticket, at once
STAFF_BUNDLE = "staff.bundle"  # one agency's tickets assigned in a window
STAFF_SENT_BACK = "staff.sent_back"  # an answer sent back by the review, at once
STAFF_ESCALATION = "staff.escalation"  # a reminder or a notice
STAFF_DIGEST = "staff.digest"
STAFF_KINDS = (STAFF_ASSIGNED, STAFF_BUNDLE, STAFF_SENT_BACK, STAFF_ESCALATION, STAFF_DIGEST)


def is_emergency(ticket: Ticket) -> bool:
    return ticket.urgency is Urgency.URGENT


def ticket_assigned(session: Session, ticket: Ticket, now: datetime) -> None:
    """Called where a ticket gets its agency. Only an urgent ticket makes a
    job here (rare, and keeps the classifier's batched writes batched); the
    others are found by the bundle's window (``bundle_window``)."""
    if not is_emergency(ticket) or ticket.agency_id is None:
        return
    if ticket.id is None:
        session.flush()
    enqueue(
        session,
        STAFF_ASSIGNED,
        {"ticket_id": ticket.id, "agency_id": ticket.agency_id, "assigned_at": now.isoformat()},
        now,
    )


def answer_sent_back(session: Session, ticket: Ticket, event_id: int, now: datetime) -> None:
    """Called where the centre's review sends an answer back (审核退回): the
    agency must answer again while its deadline runs, so it hears at once,
    whatever the urgency. ``event_id``: the send-back's event, whose reason the
    message carries; one message per send-back."""
    if ticket.agency_id is None:
        return
    enqueue(
        session,
        STAFF_SENT_BACK,
        {"ticket_id": ticket.id, "agency_id": ticket.agency_id, "event_id": event_id},
        now,
        key=f"staff.sent_back:{event_id}",
    )


def bundle_window(now: datetime, every: timedelta) -> tuple[datetime, datetime]:
    """The window of length ``every`` that holds ``now``."""
    end = next_slot(now, every)
    return end - every, end


def schedule_bundles(session: Session, now: datetime, every: timedelta) -> None:
    """Queue the bundle job of the window that holds ``now``, to run at its
    end; the key makes it one per window, however many processes ask."""
    start, end = bundle_window(now, every)
    # After an outage the first window reaches back to where the last one ended: nothing assigned meanwhile is missed.
    last = session.scalar(select(Job.payload).where(Job.kind == STAFF_BUNDLE).order_by(Job.id.desc()).limit(1))
    if last is not None:
        start = max(min(start, datetime.fromisoformat(last["end"])), start - timedelta(days=1))
    enqueue(
        session,
        STAFF_BUNDLE,
        {"start": start.isoformat(), "end": end.isoformat()},
        now,
        key=f"staff.bundle:{end:%Y%m%d%H%M%S}",
        delay=end - now,
    )


def assigned_in(session: Session, start: datetime, end: datetime) -> dict[int, list[Ticket]]:
    """The tickets assigned in [start, end), not urgent (those were told at
    once) and still at the agency, by agency."""
    tickets = session.scalars(
        select(Ticket)
        .where(
            Ticket.assigned_at >= start,
            Ticket.assigned_at < end,
            Ticket.agency_id.is_not(None),
            Ticket.urgency != Urgency.URGENT,
        )
        .order_by(Ticket.agency_id, Ticket.id)
    )
    grouped: dict[int, list[Ticket]] = {}
    for ticket in tickets:
        grouped.setdefault(ticket.agency_id, []).append(ticket)
    return grouped


def escalation_raised(session: Session, record: Escalation, now: datetime) -> None:
    """A reminder goes to the agency; a notice to the supervisor, if any
    (the dispatcher centre reads its notices in Tingjian)."""
    to = record.agency_id if record.kind is EscalationKind.REMINDER else record.recipient_id
    if to is None:
        return
    session.flush()
    enqueue(
        session,
        STAFF_ESCALATION,
        {"escalation_id": record.id, "agency_id": to},
        now,
        key=f"staff.escalation:{record.id}",
    )


def digest_made(session: Session, digest: AgencyDigest, now: datetime) -> None:
    session.flush()
    enqueue(
        session,
        STAFF_DIGEST,
        {"digest_id": digest.id, "agency_id": digest.agency_id},
        now,
        key=f"staff.digest:{digest.agency_id}:{digest.day.isoformat()}",
    )
