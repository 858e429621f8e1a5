"""Writing a batch of routed tickets at once (批量写入).

Routing a received ticket changes the ticket's own columns, adds events to
its timeline and may set its assisting agencies (协办). The ORM's flush
writes each ticket with an UPDATE of its own (the optimistic lock checks the
version row by row) and each batch of events with an INSERT that reads their
ids back. For a batch of tickets the same rows go in one executemany per
table (psycopg pipelines them), with the same version check.

This only writes what the workflow decided; it decides nothing. Pending work
of any other shape — a job in the outbox, a deleted row, a column not listed
here — is left to the ORM's flush, which then writes all of it as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, delete, insert, inspect, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from routing.store.tickets import Ticket, TicketEvent, ticket_assist

# What routing a received ticket may change on it: its labels, place, agency and deadlines.
TICKET_COLUMNS = (
    "status", "kind", "urgency", "topic", "subtopic", "confidence", "prediction", "district_id", "street_id",
    "agency_id", "assigned_at", "accept_by", "answer_by", "accepted_at", "paused_at", "extension_until",
    "extension_reason", "ruling_by", "dispute_rejected", "sms_notice", "confidential", "updated_at",
    "anonymised_at",
)
# Relationships set instead of their column: the flush would copy the related row's id.
_BY_RELATIONSHIP = {"district": "district_id", "street": "street_id", "agency": "agency_id"}
_COLLECTIONS = {"assisting", "events"}
_WRITABLE = frozenset(TICKET_COLUMNS) | _BY_RELATIONSHIP.keys() | _COLLECTIONS
EVENT_COLUMNS = (
    "ticket_id", "at", "agency_id", "actor_id", "actor", "action", "from_status", "to_status", "reason", "detail",
)


class _Statements:
    """Built once: a statement built per batch costs more than it saves."""

    def __init__(self) -> None:
        tickets, events = Ticket.__table__, TicketEvent.__table__
        self.ticket = (
            update(tickets)
            .where(tickets.c.id == bindparam("w_id"), tickets.c.version == bindparam("w_version"))
            .values(
                {name: bindparam(f"w_{name}", type_=tickets.c[name].type) for name in TICKET_COLUMNS}
                | {"version": bindparam("w_next_version")}
            )
        )
        self.event = insert(events).values({name: bindparam(name, type_=events.c[name].type) for name in EVENT_COLUMNS})
        self.assist = insert(ticket_assist).values(ticket_id=bindparam("ticket_id"), agency_id=bindparam("agency_id"))
        self.unassist = delete(ticket_assist).where(
            ticket_assist.c.ticket_id == bindparam("w_ticket_id"), ticket_assist.c.agency_id == bindparam("w_agency_id")
        )


_STATEMENTS = _Statements()


def write_tickets(session: Session, tickets: Sequence[Ticket]) -> bool:
    """Write the pending changes of ``tickets`` — nothing else may be
    pending in ``session`` — with one executemany per table, and take the
    tickets and their new events out of the session (they are written).
    Returns False, having written nothing, when the pending work is of
    another shape: the caller's flush writes it then. Raises
    ``StaleDataError`` when a ticket changed since it was read, as the
    flush would."""
    with session.no_autoflush:  # a flush now would write them a second time
        events = _pending_events(session, tickets)
        if events is None or not _only_these_changed(session, tickets):
            return False
        _write(session, tickets, events)
    for ticket in tickets:
        session.expunge(ticket)  # and its new events with it (the timeline's cascade)
    for event in events:
        if event in session:
            session.expunge(event)
    return True


def _write(session: Session, tickets: Sequence[Ticket], events: list[TicketEvent]) -> None:
    connection = session.connection()
    rows = [_ticket_row(ticket) for ticket in tickets]
    if rows and connection.execute(_STATEMENTS.ticket, rows).rowcount != len(rows):
        raise StaleDataError("a ticket of the batch was changed by someone else since it was read")
    removed, added = _assisting_changes(tickets)
    if removed:
        connection.execute(_STATEMENTS.unassist, removed)
    if added:
        connection.execute(_STATEMENTS.assist, added)
    if events:
        connection.execute(_STATEMENTS.event, [_event_row(event) for event in events])


def _pending_events(session: Session, tickets: Sequence[Ticket]) -> list[TicketEvent] | None:
    """The new events of the batch's tickets in the order they were added
    (their ids follow it, as with the flush); None if anything else is new
    or something is to be deleted."""
    if session.deleted:
        return None
    ours = {id(ticket) for ticket in tickets}
    events = []
    for pending in session.new:
        if not isinstance(pending, TicketEvent) or id(pending.ticket) not in ours:
            return None
        events.append(pending)
    return sorted(events, key=lambda event: inspect(event).insert_order)


def _only_these_changed(session: Session, tickets: Sequence[Ticket]) -> bool:
    ours = {id(ticket) for ticket in tickets}
    if any(id(changed) not in ours for changed in session.dirty):
        return False
    return all(inspect(ticket).committed_state.keys() <= _WRITABLE for ticket in tickets)


def _ticket_row(ticket: Ticket) -> dict[str, Any]:
    changed = inspect(ticket).committed_state
    row = {f"w_{name}": getattr(ticket, name) for name in TICKET_COLUMNS}
    for relationship, column in _BY_RELATIONSHIP.items():
        if relationship in changed:
            related = getattr(ticket, relationship)
            row[f"w_{column}"] = related.id if related is not None else None
    return row | {"w_id": ticket.id, "w_version": ticket.version, "w_next_version": ticket.version + 1}


def _assisting_changes(tickets: Sequence[Ticket]) -> tuple[list[dict[str, int]], list[dict[str, int]]]:
    removed, added = [], []
    for ticket in tickets:
        if "assisting" not in inspect(ticket).committed_state:
            continue
        history = inspect(ticket).attrs.assisting.history
        removed += [{"w_ticket_id": ticket.id, "w_agency_id": agency.id} for agency in history.deleted]
        added += [{"ticket_id": ticket.id, "agency_id": agency.id} for agency in history.added]
    return removed, added


def _event_row(event: TicketEvent) -> dict[str, Any]:
    values = event.__dict__
    return {name: values.get(name) for name in EVENT_COLUMNS} | {"ticket_id": event.ticket.id}
