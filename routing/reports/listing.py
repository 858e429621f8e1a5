"""The ticket list (工单查询): tickets by status, topic, agency, district,
channel, date and words in the text, for the screen and for export, in the
order the person chose (``TicketOrder``).

A ``stats.Scope`` limits agency staff to their own agency's tickets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session, selectinload

from routing.flow import ratings
from routing.reports.stats import CHANNEL_LABELS, CITY, Scope
from routing.store.areas import District
from routing.store.people import Agency
from routing.store.tickets import Status, Ticket

PAGE_SIZE = 50
# An export is for a spreadsheet, not a backup: beyond this, narrow the filter.
EXPORT_LIMIT = 20_000


UNSET_COLUMNS = {"topic": Ticket.topic, "agency": Ticket.agency_id, "district": Ticket.district_id}


@dataclass(frozen=True)
class TicketFilter:
    """What the list is narrowed to; None means any."""

    status: Status | None = None
    topic: str | None = None
    agency_id: int | None = None
    district_id: int | None = None
    channel: str | None = None
    since: date | None = None  # 受理日期 from, inclusive
    until: date | None = None  # 受理日期 to, inclusive
    words: str | None = None  # 反映内容 contains
    # 未确定: of "topic", "agency", "district", those that must be empty (a chart's 未确定 bar).
    unset: frozenset[str] = frozenset()
    counted: bool = False  # without 无效, as the dashboard counts

    def where(self, scope: Scope) -> list[ColumnElement[bool]]:
        conditions = list(scope.where())
        conditions += [UNSET_COLUMNS[name].is_(None) for name in sorted(self.unset)]
        if self.counted:
            conditions.append(Ticket.status != Status.INVALID)
        if self.status is not None:
            conditions.append(Ticket.status == self.status)
        if self.topic:
            conditions.append(Ticket.topic == self.topic)
        if self.agency_id is not None:
            conditions.append(Ticket.agency_id == self.agency_id)
        if self.district_id is not None:
            conditions.append(Ticket.district_id == self.district_id)
        if self.channel:
            conditions.append(Ticket.channel == self.channel)
        if self.since is not None:
            conditions.append(Ticket.created_at >= datetime.combine(self.since, time()))
        if self.until is not None:
            conditions.append(Ticket.created_at < datetime.combine(self.until + timedelta(days=1), time()))
        if self.words:
            # autoescape: a resident's % or _ is a character, not a wildcard.
            conditions.append(Ticket.text.contains(self.words.strip(), autoescape=True))
        return conditions


# The columns one may sort by (排序), each with the direction a first click
# gives: the newest first, the soonest deadline first, everything else A to Z.
SORT_KEYS = {
    "created": "desc",  # 工单号 / 受理时间: numbers follow the time of receipt
    "answer_by": "asc",  # 答复时限: what is due soonest, the dispatcher's first question
    "status": "asc",  # 状态, in the workflow's order
    "agency": "asc",  # 承办单位
    "district": "asc",  # 区县
    "topic": "asc",  # 分类
    "updated": "desc",  # 最近变动
}
DIRECTIONS = ("asc", "desc")
# Status in the order a ticket passes through them, not the alphabet of their codes.
STATUS_ORDER = {status: position for position, status in enumerate(Status)}


@dataclass(frozen=True)
class TicketOrder:
    """How the list is sorted; ``parse`` turns untrusted query parameters into one."""

    key: str = "created"
    direction: str = "desc"

    @classmethod
    def parse(cls, key: str | None, direction: str | None = None) -> TicketOrder:
        """Anything not on the whitelist gives the default order, never SQL."""
        if key not in SORT_KEYS:
            return cls()
        return cls(key, direction if direction in DIRECTIONS else SORT_KEYS[key])

    @property
    def is_default(self) -> bool:
        return self == TicketOrder()

    def toggled(self, key: str) -> TicketOrder:
        """Where a column header leads: the other direction if it is the
        column sorted by now, else that column's first direction."""
        if key == self.key:
            return TicketOrder(key, "asc" if self.direction == "desc" else "desc")
        return TicketOrder.parse(key)

    def args(self) -> dict[str, str]:
        """Query parameters for links; none for the default, so plain URLs stay plain."""
        return {} if self.is_default else {"sort": self.key, "dir": self.direction}

    def clauses(self) -> list[ColumnElement[Any]]:
        """ORDER BY terms: the column, empty values last in either direction,
        then the id in the same direction, so that pages never overlap."""
        descending = self.direction == "desc"
        terms: list[ColumnElement[Any]] = []
        for column in _sort_columns(self.key):
            terms.append((column.desc() if descending else column.asc()).nulls_last())
        terms.append(Ticket.id.desc() if descending else Ticket.id.asc())
        return terms


def _sort_columns(key: str) -> list[ColumnElement[Any]]:
    if key == "answer_by":
        return [Ticket.answer_by]
    if key == "status":
        return [case(STATUS_ORDER, value=Ticket.status)]
    if key == "agency":
        return [Agency.name]
    if key == "district":
        return [District.name]
    if key == "topic":
        return [Ticket.topic, Ticket.subtopic]
    if key == "updated":
        return [Ticket.updated_at]
    return [Ticket.created_at]


def _query(ticket_filter: TicketFilter, scope: Scope, order: TicketOrder) -> Select[tuple[Ticket]]:
    query = (
        select(Ticket)
        .where(*ticket_filter.where(scope))
        .options(selectinload(Ticket.agency), selectinload(Ticket.district), selectinload(Ticket.street))
    )
    # Joined only to sort by the name; the relationships load apart, as before.
    if order.key == "agency":
        query = query.outerjoin(Agency, Ticket.agency_id == Agency.id)
    elif order.key == "district":
        query = query.outerjoin(District, Ticket.district_id == District.id)
    return query.order_by(*order.clauses())


def count_tickets(session: Session, ticket_filter: TicketFilter, scope: Scope = CITY) -> int:
    return session.scalar(select(func.count(Ticket.id)).where(*ticket_filter.where(scope))) or 0


def find_tickets(
    session: Session,
    ticket_filter: TicketFilter,
    scope: Scope = CITY,
    *,
    page: int = 1,
    size: int = PAGE_SIZE,
    order: TicketOrder = TicketOrder(),
) -> list[Ticket]:
    """One page of the list, newest first unless another order is asked for."""
    query = _query(ticket_filter, scope, order).limit(size).offset((max(page, 1) - 1) * size)
    return list(session.scalars(query))


def export_tickets(
    session: Session,
    ticket_filter: TicketFilter,
    scope: Scope = CITY,
    order: TicketOrder = TicketOrder(),
    limit: int = EXPORT_LIMIT,
) -> list[Ticket]:
    """The filtered list for a spreadsheet, in the order it has on the screen."""
    query = _query(ticket_filter, scope, order).options(selectinload(Ticket.station))
    return list(session.scalars(query.limit(limit)))


# No contact data: an export leaves the system, the resident's name and phone
# stay in it (``contact_export`` adds them for those granted it). New columns
# go at the end, so a spreadsheet built on the old ones keeps working.
EXPORT_COLUMNS = (
    "工单号", "受理时间", "状态", "渠道", "一级分类", "二级分类", "区县", "街道", "承办单位",
    "签收时限", "答复时限", "答复时间", "满意度", "反映内容", "答复内容", "紧急程度", "联络站",
)


def export_row(ticket: Ticket) -> list[Any]:
    """One ticket's cells; times stay datetimes (city time), each file writes them its way."""
    return [
        ticket.number or "",
        ticket.created_at,
        ticket.status.label,
        CHANNEL_LABELS.get(ticket.channel, ticket.channel),
        ticket.topic or "",
        ticket.subtopic or "",
        ticket.district.name if ticket.district else "",
        ticket.street.name if ticket.street else "",
        ticket.agency.name if ticket.agency else "",
        ticket.accept_by,
        ticket.answer_by,
        ticket.answered_at,
        ratings.RATINGS.get(ticket.rating or "", ""),
        ticket.text,
        ticket.answer or "",
        ticket.urgency.label if ticket.urgency else "",
        ticket.station.name if ticket.station else "",
    ]


def export_rows(tickets: Iterable[Ticket]) -> Iterator[list[Any]]:
    yield list(EXPORT_COLUMNS)
    for ticket in tickets:
        yield export_row(ticket)
