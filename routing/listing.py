"""The ticket list (工单查询): tickets by status, topic, agency, district,
channel, date and words in the text, for the screen and for export.

A ``stats.Scope`` limits agency staff to their own agency's tickets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, selectinload

from . import workflow
from .models import Status, Ticket
from .stats import CHANNEL_LABELS, CITY, Scope

PAGE_SIZE = 50
# An export is for a spreadsheet, not a backup: beyond this, narrow the filter.
EXPORT_LIMIT = 20_000


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

    def where(self, scope: Scope) -> list[ColumnElement[bool]]:
        conditions = list(scope.where())
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


def _query(ticket_filter: TicketFilter, scope: Scope) -> Select[tuple[Ticket]]:
    return (
        select(Ticket)
        .where(*ticket_filter.where(scope))
        .options(selectinload(Ticket.agency), selectinload(Ticket.district), selectinload(Ticket.street))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
    )


def count_tickets(session: Session, ticket_filter: TicketFilter, scope: Scope = CITY) -> int:
    return session.scalar(select(func.count(Ticket.id)).where(*ticket_filter.where(scope))) or 0


def find_tickets(
    session: Session, ticket_filter: TicketFilter, scope: Scope = CITY, *, page: int = 1, size: int = PAGE_SIZE
) -> list[Ticket]:
    """One page of the list, newest first."""
    query = _query(ticket_filter, scope).limit(size).offset((max(page, 1) - 1) * size)
    return list(session.scalars(query))


def export_tickets(session: Session, ticket_filter: TicketFilter, scope: Scope = CITY) -> list[Ticket]:
    return list(session.scalars(_query(ticket_filter, scope).limit(EXPORT_LIMIT)))


# No contact data: an export leaves the system, the resident's name and phone stay in it.
EXPORT_COLUMNS = (
    "工单号", "受理时间", "状态", "渠道", "一级分类", "二级分类", "区县", "街道", "承办单位",
    "签收时限", "答复时限", "答复时间", "满意度", "反映内容", "答复内容",
)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def export_row(ticket: Ticket) -> list[str]:
    return [
        ticket.number or "",
        _when(ticket.created_at),
        ticket.status.label,
        CHANNEL_LABELS.get(ticket.channel, ticket.channel),
        ticket.topic or "",
        ticket.subtopic or "",
        ticket.district.name if ticket.district else "",
        ticket.street.name if ticket.street else "",
        ticket.agency.name if ticket.agency else "",
        _when(ticket.accept_by),
        _when(ticket.answer_by),
        _when(ticket.answered_at),
        workflow.RATINGS.get(ticket.rating or "", ""),
        ticket.text,
        ticket.answer or "",
    ]


def export_rows(tickets: Iterable[Ticket]) -> Iterator[list[Any]]:
    yield list(EXPORT_COLUMNS)
    for ticket in tickets:
        yield export_row(ticket)
