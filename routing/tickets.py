"""Opening tickets and reading them: the service layer views and intake call.

Routing gets labels, not a classifier: intake asks the classifier and hands
its reading over as ``Labels``.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, bindparam, cast, insert, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from . import workflow
from .agency_choice import LearnedAgency
from .jobs import MAX_ATTEMPTS, QUEUED, Job
from .batch import write_tickets
from .matters import index_matters
from .places import valid_coordinates
from .reference import read_once, remembered, whole_table
from .models import Agency, District, Kind, Message, Station, Status, Street, Ticket, TicketEvent, Urgency
from .rules import Case

# No 0/O, 1/I/L: a resident reads the code off a phone and types it again.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# 31 ** 12 ≈ 2 ** 59: ticket numbers are sequential, so the code alone stands
# between a guesser and someone's ticket (codes of 8, from before, stay valid).
CODE_LENGTH = 12


@dataclass(frozen=True)
class Labels:
    """What the classifier read in a text, as routing needs it."""

    topic: str | None = None
    subtopic: str | None = None
    confidence: float | None = None
    district: str | None = None
    street: str | None = None
    kind: Kind = Kind.COMPLAINT
    urgency: Urgency = Urgency.NORMAL
    # Below the confidence threshold, or no text yet: a dispatcher decides.
    needs_triage: bool = False
    triage_reason: str | None = None
    prediction: dict[str, Any] | None = None
    # The agency model's suggestion, weighed against the rules when routing.
    learned_agency: LearnedAgency | None = None
    # The text's fingerprint, (term, weight) pairs: stored in the index in
    # which later tickets find this one as a possible duplicate.
    matter: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True)
class Contact:
    name: str | None = None
    phone: str | None = None

    def __post_init__(self) -> None:
        if self.name is not None:
            object.__setattr__(self, "name", storable(self.name))


# C0 control characters but tab, line feed and carriage return, DEL, and lone
# UTF-16 surrogates: PostgreSQL cannot store a NUL, XLSX and XML cannot hold
# the others, and a surrogate cannot be encoded at all. A person never meant one.
_UNSTORABLE = {c: None for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0xD800, 0xE000)]}


def storable(text: str) -> str:
    """``text`` without the characters no store or export can keep."""
    return text.translate(_UNSTORABLE)


@dataclass(frozen=True)
class Location:
    text: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    def __post_init__(self) -> None:
        # Every channel hands its place over here: a NaN stored once made the
        # dashboard's JSON invalid for everyone.
        if not valid_coordinates(self.latitude, self.longitude):
            raise ValueError(f"invalid coordinates: {self.latitude!r}, {self.longitude!r}")
        if self.text is not None:
            object.__setattr__(self, "text", storable(self.text))


@dataclass(frozen=True)
class Inbound:
    """One inbound message as a channel hands it over; its text is made
    storable here, for every channel alike."""

    channel: str
    text: str
    payload: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None
    sender: str | None = None
    station: Station | None = None
    contact: Contact = Contact()
    location: Location = Location()

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", storable(self.text))


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def ticket_number(ticket: Ticket) -> str:
    """Date and serial: readable over the phone, unique by the row id."""
    return number_of(ticket.created_at, ticket.id)


def number_of(created_at: datetime, ticket_id: int) -> str:
    return f"{created_at:%Y%m%d}{ticket_id:06d}"


def _place(session: Session, labels: Labels, station: Station | None) -> tuple[District | None, Street | None]:
    district = street = None
    if labels.district:
        district = _district(session, labels.district)
    if district is not None and labels.street:
        street = _street(session, district.id, labels.street)
    if district is None and station is not None:
        # Said nowhere in the text: the station where it was raised is the best guess.
        district, street = station.district, station.street
    return district, street


def _district(session: Session, name: str) -> District | None:
    districts = whole_table(session, "districts", lambda: {d.name: d for d in session.scalars(select(District))})
    if districts is not None:
        return districts.get(name)
    return session.scalar(select(District).where(District.name == name))


def _street(session: Session, district_id: int, name: str) -> Street | None:
    # By name within its district, once per batch: a city has many streets, a batch few.
    return remembered(
        session, ("street", district_id, name),
        lambda: session.scalar(select(Street).where(Street.district_id == district_id, Street.name == name)),
    )


def case_for(session: Session, labels: Labels, text: str, station: Station | None = None) -> Case:
    """What the routing rules would be asked for a text with these labels."""
    district, street = _place(session, labels, station)
    return Case(
        labels.topic, labels.subtopic, district.id if district else None, street.id if street else None, text
    )


def open_ticket(session: Session, inbound: Inbound, labels: Labels | None, now: datetime) -> Ticket:
    """Store the message and its new ticket, then route it or leave it for triage.

    Without ``labels`` the ticket stays 已受理 (received): numbered at once,
    read by the classifier in a job, which then calls ``relabel``. The caller
    commits: message and ticket are stored together or not at all.
    """
    unread = labels is None
    labels = labels or Labels()
    district, street = _place(session, labels, inbound.station)
    ticket = Ticket(
        code=new_code(),
        status=Status.RECEIVED,
        kind=labels.kind,
        urgency=labels.urgency,
        channel=inbound.channel,
        text=inbound.text,
        station=inbound.station,
        contact_name=inbound.contact.name,
        contact_phone=inbound.contact.phone,
        location_text=inbound.location.text,
        latitude=inbound.location.latitude,
        longitude=inbound.location.longitude,
        district=district,
        street=street,
        topic=labels.topic,
        subtopic=labels.subtopic,
        confidence=labels.confidence,
        prediction=labels.prediction,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()  # the id makes the number
    ticket.number = ticket_number(ticket)
    # A new ticket has no messages or events yet: say so, rather than have
    # the first use of either collection ask the database.
    set_committed_value(ticket, "messages", [])
    set_committed_value(ticket, "events", [])
    session.add(
        Message(
            ticket=ticket,
            channel=inbound.channel,
            external_id=inbound.external_id,
            sender=inbound.sender,
            payload={"text": inbound.text, **inbound.payload},
            received_at=now,
        )
    )
    workflow.record(
        session,
        ticket,
        "create",
        None,
        now,
        detail={"channel": inbound.channel, "prediction": labels.prediction},
    )
    if labels.matter:
        index_matters(session, {ticket.id: (ticket.created_at, labels.matter)})
    if not unread:
        decide(session, ticket, labels, now)
    return ticket


def decide(session: Session, ticket: Ticket, labels: Labels, now: datetime) -> None:
    """The routing decision for a ticket the classifier has read, the same
    for every channel: a ticket opened with its reading (the form, the API,
    a deputy) and one read later by the classify job (WeChat, a transcribed
    voice note), alone or in a batch. Unsure, it waits for a dispatcher;
    otherwise the routing rules — topic, district, street, keywords, their
    assisting agencies — and the learned agency decide. The ticket's place
    must be set already (``_put``)."""
    if labels.needs_triage:
        if ticket.status is Status.RECEIVED:
            workflow.transition(session, ticket, "triage", None, now, reason=labels.triage_reason)
    elif ticket.status in workflow.UNROUTED:
        workflow.route(session, ticket, now, learned=labels.learned_agency)


def _put(ticket: Ticket, district: District | None, street: Street | None) -> None:
    """Set a ticket's place, the rows and their ids together: the routing
    rules and the agencies' jurisdictions are matched by the ids, and a
    ticket not yet flushed (the classify job's batch) would otherwise still
    show the ids it had when it was read."""
    ticket.district, ticket.district_id = district, district.id if district is not None else None
    ticket.street, ticket.street_id = street, street.id if street is not None else None


@dataclass(frozen=True)
class Received:
    """A ticket just opened by ``open_received``: what its acknowledgement names."""

    id: int
    number: str
    code: str


def open_received(
    connection: Connection, inbound: Inbound, now: datetime, job: str, reply: Callable[[Received], str]
) -> Received:
    """``open_ticket`` without labels, plus its ``job``, in a few plain
    INSERTs: the busy channel's common case (a new matter in text) without
    the ORM's unit of work. The message is stored with ``reply`` (built from
    the number and code), the ticket's timeline starts with its 'create'
    event, and the job that reads it is stored with them. The ticket's own
    INSERT gives its id and its number is set after; the caller commits the
    transaction ``connection`` is in. Where the id is drawn ahead
    (``TicketIds``), ``received_when`` writes all four in one statement."""
    values = _received_values(inbound, now, job)
    ticket_id = connection.execute(_RECEIVED.ticket, values).inserted_primary_key[0]
    received = Received(ticket_id, number_of(now, ticket_id), values["code"])
    values |= _numbered(received, inbound, reply)
    for statement in _RECEIVED.after_ticket:
        connection.execute(statement, values)
    return received


def received_values(
    inbound: Inbound, now: datetime, job: str, reply: Callable[[Received], str], ticket_id: int
) -> tuple[Received, dict[str, Any]]:
    """The new ticket ``ticket_id`` and the parameters of ``received_when``'s
    statement that writes it, its message (with ``reply``), event and job."""
    values = _received_values(inbound, now, job)
    received = Received(ticket_id, number_of(now, ticket_id), values["code"])
    return received, values | _numbered(received, inbound, reply)


def received_when(guard: Any, fresh: Any) -> Any:
    """``open_received``'s four INSERTs, each written only where ``fresh``
    holds on the one row of ``guard`` (a CTE): one statement that asks and
    writes, and returns ``guard``'s row. Its parameters are ``guard``'s and
    ``received_values``'."""
    return select(*guard.c).add_cte(*(
        statement.from_select(list(values), select(*values.values()).select_from(guard).where(fresh)).cte(name)
        for name, statement, values in _RECEIVED.rows
    ))


def _received_values(inbound: Inbound, now: datetime, job: str) -> dict[str, Any]:
    return {
        "code": new_code(), "status": Status.RECEIVED, "kind": Kind.COMPLAINT, "urgency": Urgency.NORMAL,
        "channel": inbound.channel, "text": inbound.text, "contact_name": inbound.contact.name,
        "contact_phone": inbound.contact.phone, "location_text": inbound.location.text,
        "latitude": inbound.location.latitude, "longitude": inbound.location.longitude,
        "at": now, "version": 1, "external_id": inbound.external_id, "sender": inbound.sender,
        "actor": workflow.actor_label(None), "action": "create", "to_status": Status.RECEIVED.value,
        "event_detail": {"channel": inbound.channel, "prediction": None},
        "job_kind": job, "job_status": QUEUED, "attempts": 0, "max_attempts": MAX_ATTEMPTS,
    }


def _numbered(received: Received, inbound: Inbound, reply: Callable[[Received], str]) -> dict[str, Any]:
    return {
        "ticket_id": received.id, "number": received.number,
        "payload": {"text": inbound.text, **inbound.payload, "reply": reply(received)},
        "job_payload": {"ticket_id": received.id},
    }


class TicketIds:
    """Ticket ids drawn ahead from the table's sequence (PostgreSQL), a few
    at a time, so that a new ticket's number — and the reply that names it —
    is known before the one statement that stores it. An id whose ticket was
    certainly not written (a retry, a join, an error the server answered)
    goes back for the next ticket, so numbers are not spent on them; an id
    whose fate is unknown (``unused_after``) is skipped, as are the ids a
    process holds when it stops, as a rolled-back INSERT skips one.
    Thread-safe; a process forked from this one (gunicorn's workers) draws
    its own."""

    def __init__(self, block: int = 32) -> None:
        self.block = block
        self._ids: deque[int] = deque()
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def take(self, connection: Connection) -> int:
        with self._lock:
            if self._pid != os.getpid():
                self._ids.clear()
                self._pid = os.getpid()
            if not self._ids:
                self._ids.extend(connection.scalars(_DRAW_IDS, {"block": self.block}))
            return self._ids.popleft()

    def give_back(self, ticket_id: int) -> None:
        """For an id certainly not used: the next ticket takes it first."""
        with self._lock:
            self._ids.appendleft(ticket_id)

    def failed(self, ticket_id: int, failure: BaseException) -> None:
        """The statement that was to write ``ticket_id`` raised ``failure``:
        the id goes back only where ``failure`` proves it unused. Given back
        after a commit whose answer was lost, it would be taken again and
        again, each time refused as a duplicate key."""
        if unused_after(failure):
            self.give_back(ticket_id)


def unused_after(failure: BaseException) -> bool:
    """Whether a statement that raised ``failure`` certainly wrote no ticket
    with its id: the server answered with an error, so the statement rolled
    back (in autocommit by itself, in a transaction with it) — unless the
    error says that id is taken already. A lost connection, an
    OperationalError or anything raised while waiting for the answer leaves
    unknown whether the statement committed."""
    if not isinstance(failure, DBAPIError) or isinstance(failure, OperationalError):
        return False
    if failure.connection_invalidated:
        return False
    diag = getattr(failure.orig, "diag", None)
    return getattr(diag, "constraint_name", None) != Ticket.__table__.primary_key.name


_DRAW_IDS = sql_text("SELECT nextval(pg_get_serial_sequence('ticket', 'id')) FROM generate_series(1, :block)")


class _ReceivedStatements:
    """``open_received``'s statements, built once: a statement built per
    call costs more to build and to look up than to run."""

    def __init__(self) -> None:
        tickets = Ticket.__table__

        def bind(table: Any, names: dict[str, str]) -> dict[str, Any]:
            return {column: bindparam(name, type_=table.c[column].type) for column, name in names.items()}

        ticket_columns = {
            name: name
            for name in (
                "code", "status", "kind", "urgency", "channel", "text", "contact_name", "contact_phone",
                "location_text", "latitude", "longitude", "version",
            )
        } | {"created_at": "at", "updated_at": "at"}
        numbered_columns = bind(tickets, ticket_columns | {"id": "ticket_id", "number": "number"})
        message_columns = bind(Message.__table__, {
            "ticket_id": "ticket_id", "channel": "channel", "external_id": "external_id", "sender": "sender",
            "payload": "payload", "received_at": "at",
        })
        event_columns = bind(TicketEvent.__table__, {
            "ticket_id": "ticket_id", "at": "at", "actor": "actor", "action": "action", "to_status": "to_status",
            "detail": "event_detail",
        })
        job_columns = bind(Job.__table__, {
            "kind": "job_kind", "payload": "job_payload", "status": "job_status", "attempts": "attempts",
            "max_attempts": "max_attempts", "run_after": "at", "created_at": "at",
        })
        self.ticket = insert(tickets).values(bind(tickets, ticket_columns))
        number = update(tickets).where(tickets.c.id == bindparam("ticket_id")).values(number=bindparam("number"))
        message = insert(Message.__table__).values(message_columns)
        event = insert(TicketEvent.__table__).values(event_columns)
        job = insert(Job.__table__).values(job_columns)
        self.after_ticket = [number, message, event, job]
        # For ``received_when``: sibling data-modifying CTEs, one round trip
        # (the foreign keys are checked at the end of the statement, when the
        # ticket is there). For INSERT … SELECT, numbers and the like cast to their column's
        # type: in a select list PostgreSQL reads an untyped parameter as
        # text. Not strings: a cast to VARCHAR(n) would cut an over-long
        # value where the INSERT must refuse it.
        def typed(value: Any) -> Any:
            return value if isinstance(value.type, String) else cast(value, value.type)

        self.rows = [
            (name, insert(table), {column: typed(value) for column, value in columns.items()})
            for name, table, columns in (
                ("t", tickets, numbered_columns),
                ("m", Message.__table__, message_columns),
                ("e", TicketEvent.__table__, event_columns),
                ("j", Job.__table__, job_columns),
            )
        ]


_RECEIVED = _ReceivedStatements()


def add_message(
    session: Session,
    ticket: Ticket,
    inbound: Inbound,
    now: datetime,
) -> Message:
    """A further message on the same matter (more text, a photo, a location):
    kept with the ticket, and its text added to the ticket's."""
    message = Message(
        ticket=ticket,
        channel=inbound.channel,
        external_id=inbound.external_id,
        sender=inbound.sender,
        payload={"text": inbound.text, **inbound.payload},
        received_at=now,
    )
    session.add(message)
    if inbound.text:
        ticket.text = f"{ticket.text}\n{inbound.text}" if ticket.text else inbound.text
    if inbound.location.latitude is not None:
        ticket.latitude, ticket.longitude = inbound.location.latitude, inbound.location.longitude
    if inbound.location.text:
        ticket.location_text = inbound.location.text
    workflow.record(
        session, ticket, "add_message", None, now, detail={"channel": inbound.channel, **inbound.payload}
    )
    return message


def relabel(session: Session, ticket: Ticket, labels: Labels, now: datetime) -> None:
    """The classifier's reading of a ticket received unread, or whose text
    came later (a photo first, a voice note transcribed): set it, and route
    unless still unsure."""
    _relabel(session, ticket, labels, now)
    if labels.matter:
        index_matters(session, {ticket.id: (ticket.created_at, labels.matter)})


def _relabel(session: Session, ticket: Ticket, labels: Labels, now: datetime) -> None:
    district, street = _place(session, labels, ticket.station)
    ticket.topic, ticket.subtopic, ticket.confidence = labels.topic, labels.subtopic, labels.confidence
    # A deputy's suggestion (代表建议) is the deputy's choice, not the wording's.
    if ticket.kind is not Kind.DEPUTY_SUGGESTION:
        ticket.kind = labels.kind
    ticket.urgency, ticket.prediction = labels.urgency, labels.prediction
    if district is not None and ticket.district_id is None:
        _put(ticket, district, street)
    workflow.record(session, ticket, "classify", None, now, detail={"prediction": labels.prediction})
    decide(session, ticket, labels, now)


def relabel_many(session: Session, readings: Sequence[tuple[Ticket, Labels]], now: datetime) -> None:
    """``relabel`` for many tickets in one transaction, as the classifier's
    job does when WeChat is busy: the reference data is read once for all,
    and what routing decided is written with one statement per table
    (``batch.write_tickets``) rather than the ORM's per ticket. The
    tickets' timelines, states and deadlines are those ``relabel`` gives
    one by one. Written so, the tickets leave the session; should anything
    else be pending, the caller's flush writes it all as usual. The caller
    commits."""
    with session.no_autoflush, read_once(session):
        for ticket, labels in readings:
            _relabel(session, ticket, labels, now)
    write_tickets(session, [ticket for ticket, _ in readings])
    index_matters(
        session, {ticket.id: (ticket.created_at, labels.matter) for ticket, labels in readings if labels.matter}
    )


def locate(session: Session, ticket: Ticket, district: str | None, street: str | None, now: datetime) -> bool:
    """Give a ticket whose text named no place the place of a location the
    resident sent (a WeChat location's label). Returns whether it changed."""
    if ticket.district_id is not None or district is None:
        return False
    found_district, found_street = _place(session, Labels(district=district, street=street), None)
    if found_district is None:
        return False
    _put(ticket, found_district, found_street)
    workflow.record(
        session, ticket, "locate", None, now,
        detail={"district": found_district.name, "street": found_street.name if found_street else None},
    )
    return True


def tickets_of_sender(session: Session, channel: str, sender: str, limit: int = 5) -> list[Ticket]:
    """A resident's own tickets on a channel, newest first."""
    theirs = select(Message.ticket_id).where(Message.channel == channel, Message.sender == sender)
    query = select(Ticket).where(Ticket.id.in_(theirs)).order_by(Ticket.id.desc()).limit(limit)
    return list(session.scalars(query))


# -- reading -----------------------------------------------------------------


def find_by_number(session: Session, number: str) -> Ticket | None:
    # A number is digits: anything else (a NUL, which PostgreSQL refuses in a
    # query, or a page of text) names no ticket, without asking the database.
    if not (number.isascii() and number.isdigit() and len(number) <= 20):
        return None
    return session.scalar(select(Ticket).where(Ticket.number == number))


def find_for_resident(session: Session, number: str, code: str | None) -> Ticket | None:
    """The ticket if the lookup code matches; None otherwise, saying nothing of
    whether the number exists."""
    ticket = find_by_number(session, (number or "").strip())
    given = (code or "").strip().upper()
    # Bytes, not str: compare_digest refuses a str with non-ASCII characters, and a
    # code typed (or forged) with one must be a wrong code, not a crash.
    if ticket is None or not given or not hmac.compare_digest(ticket.code.encode(), given.encode()):
        return None
    return ticket


def public_status(ticket: Ticket) -> dict[str, Any]:
    """What a resident may see of a ticket: no personal data, no staff names."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "ticket": ticket.number,
        "status": ticket.status.value,
        "status_label": ticket.status.label,
        "kind": ticket.kind.value,
        "topic": ticket.topic,
        "subtopic": ticket.subtopic,
        # A merged ticket's resident is answered by the agency of the ticket it joined.
        "agency": agency.name if (agency := workflow.answering_agency(ticket)) else None,
        "district": ticket.district.name if ticket.district else None,
        "created_at": iso(ticket.created_at),
        "accept_by": iso(ticket.accept_by),
        "answer_by": iso(ticket.answer_by),
        "accepted_at": iso(ticket.accepted_at),
        "answered_at": iso(ticket.answered_at),
        "answer": ticket.answer,
        "rating": ticket.rating,
        "timeline": [
            {"at": iso(e.at), "action": e.action, "status": e.to_status, "note": _public_note(e)}
            for e in ticket.events
            if e.action in PUBLIC_ACTIONS
        ],
    }


PUBLIC_ACTIONS = {
    "create", "assign", "reassign", "accept", "answer", "return", "triage", "ask_resident", "resume",
    "approve_extension", "answer_merged", "merge", "rate", "close", "reopen", "invalidate",
}


def _public_note(event: TicketEvent) -> str | None:
    """What an event says to the resident: the agency's question, the new
    deadline, the ticket it was merged into — never a staff member's name."""
    detail = event.detail or {}
    if event.action == "ask_resident":
        return event.reason
    if event.action == "approve_extension":
        return f"答复时限延至 {detail.get('until', '')[:10]}"
    if event.action == "merge":
        return f"与工单 {detail.get('into')} 合并办理"
    if event.action == "rate":
        return detail.get("label")
    return None


def agency_queue(session: Session, agency_id: int, *, open_only: bool = True) -> list[Ticket]:
    """An agency's own tickets, the most urgent deadline first."""
    query = select(Ticket).where(Ticket.agency_id == agency_id)
    if open_only:
        query = query.where(Ticket.status.in_((Status.ASSIGNED, Status.ACCEPTED, Status.WAITING)))
    query = query.order_by(Ticket.answer_by.asc(), Ticket.id.asc()).options(selectinload(Ticket.district))
    return list(session.scalars(query))


def assisting_queue(session: Session, agency_id: int) -> list[Ticket]:
    """Open tickets an agency assists on (协办), the most urgent deadline first."""
    query = (
        select(Ticket)
        .where(Ticket.assisting.any(Agency.id == agency_id), Ticket.status.in_(workflow.OPEN))
        .order_by(Ticket.answer_by.asc(), Ticket.id.asc())
    )
    return list(session.scalars(query))


# A received ticket is read within a second; one still unread after this
# (its job keeps failing) goes before a dispatcher rather than waiting unseen.
CLASSIFY_GRACE = timedelta(minutes=2)


def triage_queue(session: Session, now: datetime | None = None) -> list[Ticket]:
    """Tickets waiting for a dispatcher: urgent first, then oldest first."""
    stalled = Ticket.status == Status.RECEIVED
    if now is not None:
        stalled = stalled & (Ticket.created_at <= now - CLASSIFY_GRACE)
    query = (
        select(Ticket)
        .where((Ticket.status == Status.TRIAGE) | stalled)
        .order_by((Ticket.urgency == Urgency.URGENT).desc(), Ticket.created_at.asc(), Ticket.id.asc())
    )
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
