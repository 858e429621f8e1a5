"""Open311's GET requests: tickets as GeoReport v2 service requests.

Every channel's tickets are listed, as a city's Open311 register lists all its
requests, but only with what may be public: the state, the service, the
agency, the dates and the answer's deadline, the district and street routing
placed it in. What a resident wrote, where exactly, and their answer are
shown only for the requests raised through Open311 itself, whose clients
publish them; never a name, a phone number or an e-mail address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from routing.clock import CITY_TZ, FIRST_YEAR, LAST_YEAR
from routing.flow.lookup import public_status
from routing.store.tickets import Message, Status, Ticket

from .open311_intake import CHANNEL, Open311Error, refused
from .open311_services import Catalogue, Service

# The specification's longest span between start_date and end_date, and its most results.
MAX_SPAN = timedelta(days=90)
MAX_PAGE_SIZE = 1000
MAX_IDS = 1000
MAX_DESCRIPTION = 4000
# Nothing more is done on these: the agency has answered, or the ticket was
# closed, merged into another or found invalid (a dissatisfied rating may open it again).
CLOSED = frozenset({Status.ANSWERED, Status.CLOSED, Status.MERGED, Status.INVALID})
STATES = {"open": frozenset(Status) - CLOSED, "closed": CLOSED}


@dataclass(frozen=True)
class Query:
    """What GET requests asks for; ``numbers`` overrides everything else."""

    numbers: tuple[str, ...] = ()
    service: Service | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: frozenset[Status] = frozenset(Status)
    page: int = 1
    page_size: int = MAX_PAGE_SIZE


def parse_query(args: Mapping[str, str], catalogue: Catalogue, now: datetime) -> Query:
    """The query's parameters, or ``Open311Error``: 404 for an unknown
    service, 400 for anything else. Without dates, the last 90 days."""
    page, page_size = _positive(args, "page", 1), _positive(args, "page_size", MAX_PAGE_SIZE)
    if page_size > MAX_PAGE_SIZE:
        raise refused(f"page_size 最大为 {MAX_PAGE_SIZE}。")
    ids = args.get("service_request_id")
    if ids:
        numbers = tuple(n.strip() for n in ids.split(",") if n.strip())
        if len(numbers) > MAX_IDS:
            raise refused(f"service_request_id 一次最多 {MAX_IDS} 个。")
        return Query(numbers=numbers, page=page, page_size=page_size)
    service = None
    if args.get("service_code"):
        service = catalogue.wanted(args["service_code"])
        if service is None:
            raise Open311Error(404, "没有这个 service_code 的服务类型。")
    start, end = _moment(args, "start_date"), _moment(args, "end_date")
    if start is None and end is None:
        end = now
    start, end = start or end - MAX_SPAN, end or start + MAX_SPAN
    if end < start or end - start > MAX_SPAN:
        raise refused("start_date 应早于 end_date，且相隔不超过 90 天。")
    return Query(
        service=service, start=start, end=end, statuses=_statuses(args.get("status")), page=page, page_size=page_size
    )


def _positive(args: Mapping[str, str], key: str, default: int) -> int:
    value = args.get(key)
    if not value:
        return default
    if not (value.isascii() and value.isdigit() and len(value) <= 9 and int(value) > 0):
        raise refused(f"{key} 应为正整数。")
    return int(value)


def _moment(args: Mapping[str, str], key: str) -> datetime | None:
    """An ISO 8601 date-time as the city's naive local time (a time without
    an offset is taken as the city's)."""
    value = (args.get(key) or "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise refused(f"{key} 应为 ISO 8601 时间，例如 2026-01-31T08:00:00+08:00。") from None
    # Far enough either way: 90 days on either side never leaves the calendar.
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise refused(f"{key} 应在 {FIRST_YEAR} 至 {LAST_YEAR} 年之间。")
    return moment.astimezone(CITY_TZ).replace(tzinfo=None) if moment.tzinfo else moment


def _statuses(value: str | None) -> frozenset[Status]:
    if not value:
        return frozenset(Status)
    wanted = {part.strip() for part in value.split(",")}
    if not wanted <= set(STATES):
        raise refused("status 只能是 open、closed，或二者以逗号分隔。")
    return frozenset().union(*(STATES[state] for state in wanted))


def find_requests(session: Session, query: Query) -> list[Ticket]:
    """The tickets a query names, newest first, one page of them."""
    statement = _loaded(select(Ticket))
    if query.numbers:
        # Numbers are digits: anything else names no ticket, without asking the database.
        numbers = [n for n in query.numbers if n.isascii() and n.isdigit() and len(n) <= 20]
        statement = statement.where(Ticket.number.in_(numbers))
    else:
        statement = statement.where(
            Ticket.created_at >= query.start, Ticket.created_at <= query.end, Ticket.status.in_(query.statuses)
        )
        if query.service is not None:
            service = query.service
            statement = statement.where(Ticket.topic == service.topic if service.topic else Ticket.topic.is_(None))
            if service.topic:
                statement = statement.where(
                    Ticket.subtopic == service.subtopic if service.subtopic else Ticket.subtopic.is_(None)
                )
    statement = statement.order_by(Ticket.id.desc()).offset((query.page - 1) * query.page_size).limit(query.page_size)
    return list(session.scalars(statement))


def find_request(session: Session, number: str) -> Ticket:
    """One ticket by its number; ``Open311Error`` 404 when there is none."""
    found = find_requests(session, Query(numbers=(number,), page_size=1))
    if not found:
        raise Open311Error(404, "没有这个 service_request_id 的工单。")
    return found[0]


def _loaded(statement: Select) -> Select:
    # What a request shows, for a page of them in a few queries.
    return statement.options(
        selectinload(Ticket.agency), selectinload(Ticket.district), selectinload(Ticket.street),
        selectinload(Ticket.merged_into).selectinload(Ticket.agency), selectinload(Ticket.events),
        selectinload(Ticket.messages),
    )


def as_request(ticket: Ticket) -> dict[str, Any]:
    """A ticket as the specification's service request."""
    public = public_status(ticket)
    own = ticket.channel == CHANNEL
    service = Service.of(ticket.topic, ticket.subtopic)
    return {
        "service_request_id": ticket.number,
        "status": "closed" if ticket.status in CLOSED else "open",
        "status_notes": status_notes(public, own),
        "service_name": service.name,
        "service_code": service.code,
        "description": ticket.text[:MAX_DESCRIPTION] if own else None,
        "agency_responsible": public["agency"],
        "service_notice": None,
        "requested_datetime": iso(ticket.created_at),
        "updated_datetime": iso(ticket.updated_at),
        "expected_datetime": iso(ticket.answer_by),
        "address": (ticket.location_text if own else None) or _place(ticket),
        "address_id": None,
        "zipcode": None,
        "lat": ticket.latitude if own else None,
        "long": ticket.longitude if own else None,
        "media_url": _media_url(ticket) if own else None,
    }


def status_notes(public: dict[str, Any], own: bool) -> str:
    """The state in words, what the latest public step said (a new deadline,
    the ticket it was merged into), and for Open311's own requests the answer."""
    notes = [public["status_label"]]
    said = [event["note"] for event in public["timeline"] if event["note"]]
    if said:
        notes.append(said[-1])
    if own and public["answer"]:
        notes.append(f"答复：{public['answer']}")
    return "；".join(notes)


def _place(ticket: Ticket) -> str | None:
    return "".join(p.name for p in (ticket.district, ticket.street) if p is not None) or None


def _media_url(ticket: Ticket) -> str | None:
    first: Message | None = ticket.messages[0] if ticket.messages else None
    return (first.payload or {}).get("media_url") if first is not None else None


def iso(value: datetime | None) -> str | None:
    """A stored time (the city's, naive) in ISO 8601 with the city's offset (+08:00)."""
    return value.replace(tzinfo=CITY_TZ).isoformat() if value else None
