"""Opening and routing a ticket (立案与分派): store the message and its ticket,
then route it with the one decision every channel gets (``decide``), or
leave it for triage; read again when words are added or the classifier
reads it later.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from routing.dispatch.matters import index_matters
from routing.dispatch.reference import read_once, remembered, whole_table
from routing.dispatch.rules import Case
from routing.flow import steps, workflow
from routing.flow.inbound import Inbound, Labels, new_code, ticket_number
from routing.store.areas import District, Station, Street
from routing.store.batch import write_tickets
from routing.store.people import Agency
from routing.store.privacy import confidential_by_rule
from routing.store.tickets import Kind, Message, Status, Ticket


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


def open_ticket(
    session: Session,
    inbound: Inbound,
    labels: Labels | None,
    now: datetime,
    *,
    assign_to: Agency | None = None,
    assign_reason: str | None = None,
) -> Ticket:
    """Store the message and its new ticket, then route it or leave it for triage.

    Without ``labels`` the ticket stays 已受理 (received): numbered at once,
    read by the classifier in a job, which then calls ``relabel``. With
    ``assign_to`` (a hotline that already chose the agency) it goes to that
    agency instead of the routing rules. The caller commits: message and
    ticket are stored together or not at all.
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
        sms_notice=inbound.contact.sms_notice,
        confidential=inbound.contact.confidential or confidential_by_rule(labels.kind, inbound.text),
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
    steps.record(
        session,
        ticket,
        "create",
        None,
        now,
        detail={"channel": inbound.channel, "prediction": labels.prediction},
    )
    if labels.matter:
        index_matters(session, {ticket.id: (ticket.created_at, labels.matter)})
    if assign_to is not None and not unread:
        workflow.assign(session, ticket, assign_to, None, now, reason=assign_reason)
    elif not unread:
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
            steps.transition(session, ticket, "triage", None, now, reason=labels.triage_reason)
    elif ticket.status in steps.UNROUTED:
        workflow.route(session, ticket, now, learned=labels.learned_agency)


def _put(ticket: Ticket, district: District | None, street: Street | None) -> None:
    """Set a ticket's place, the rows and their ids together: the routing
    rules and the agencies' jurisdictions are matched by the ids, and a
    ticket not yet flushed (the classify job's batch) would otherwise still
    show the ids it had when it was read."""
    ticket.district, ticket.district_id = district, district.id if district is not None else None
    ticket.street, ticket.street_id = street, street.id if street is not None else None


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
    # The words themselves on the timeline: the agency reads there what the resident added, and when.
    steps.record(
        session, ticket, "add_message", None, now, reason=inbound.text or None,
        detail={"channel": inbound.channel, **inbound.payload},
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
    steps.record(session, ticket, "classify", None, now, detail={"prediction": labels.prediction})
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
    steps.record(
        session, ticket, "locate", None, now,
        detail={"district": found_district.name, "street": found_street.name if found_street else None},
    )
    return True
