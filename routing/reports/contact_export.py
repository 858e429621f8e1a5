"""The ticket list with residents' contact data (导出个人信息).

A permission of its own (``routing.store.privacy.may_export_contact``),
capped in rows (``EXPORT_MAX_ROWS``: over it the export is refused, never
cut short, so nobody mistakes a part for the whole), written to the access
log with its filter and row count, and stamped with who exported it and when
(``ExportStamp``), which the file carries. A confidential ticket (保密/检举)
keeps its contact masked even here: a file travels further than a page.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from routing.flow.steps import PermissionDenied
from routing.reports.listing import EXPORT_COLUMNS, TicketFilter, TicketOrder, count_tickets, export_row, export_tickets
from routing.reports.stats import CITY, Scope
from routing.store.access_log import EXPORT, record_access
from routing.store.people import User
from routing.store.privacy import contact_view, mask_address, may_export_contact
from routing.store.tickets import Ticket
from routing.texts import N_, DomainError

CONTACT_COLUMNS = ("联系人", "联系电话", "地址")
REPORT = "tickets_contact"  # the access log's name for this export
NOT_GRANTED = N_("导出个人信息须由管理员在账号管理中授予权限。")
TOO_MANY = N_("符合条件的工单有 %(count)s 件，超过导出个人信息的上限 %(limit)s 件，请缩小筛选范围后再导出。")


class ExportRefused(DomainError):
    """An export of contact data that was not made, and why."""


@dataclass(frozen=True)
class ExportStamp:
    """Who exported the file and when (导出人、导出时间), and how many rows it holds."""

    name: str
    username: str
    at: datetime
    rows: int

    @property
    def exporter(self) -> str:
        return f"{self.name}（{self.username}）"

    def line(self) -> str:
        return f"导出人：{self.exporter} 导出时间：{self.at:%Y-%m-%d %H:%M} 共 {self.rows} 条"


@dataclass(frozen=True)
class ContactExport:
    rows: list[list[Any]]  # the header first
    stamp: ExportStamp


def contact_row(ticket: Ticket) -> list[Any]:
    """The export row and the contact: name, phone and the address the resident gave."""
    visible = not ticket.confidential
    contact = contact_view(ticket, visible)
    address = (ticket.location_text or "") if visible else mask_address(ticket.location_text)
    return export_row(ticket) + [contact["name"], contact["phone"], address]


def filter_record(ticket_filter: TicketFilter, order: TicketOrder) -> dict[str, Any]:
    """The filter as the access log keeps it (JSON): only what was set."""

    def plain(value: Any) -> Any:
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, (set, frozenset)):
            return sorted(value)
        return value

    record = {key: plain(value) for key, value in asdict(ticket_filter).items() if value}
    return record | ({} if order.is_default else {"sort": order.key, "dir": order.direction})


def export_contacts(
    session: Session,
    user: User,
    ticket_filter: TicketFilter,
    now: datetime,
    *,
    max_rows: int,
    order: TicketOrder = TicketOrder(),
    scope: Scope = CITY,
    dispatcher_sees: bool = True,
    address: str | None = None,
    file_format: str = "csv",
) -> ContactExport:
    """The rows and the stamp of one export of contact data, logged; the
    caller commits. Refused without the grant and over ``max_rows`` (the
    person narrows the filter)."""
    if not may_export_contact(user, dispatcher_sees=dispatcher_sees):
        raise PermissionDenied(NOT_GRANTED)
    count = count_tickets(session, ticket_filter, scope)
    if count > max_rows:
        raise ExportRefused(TOO_MANY, count=count, limit=max_rows)
    tickets = export_tickets(session, ticket_filter, scope, order, limit=max_rows)
    rows = [[*EXPORT_COLUMNS, *CONTACT_COLUMNS]] + [contact_row(ticket) for ticket in tickets]
    record_access(
        session,
        user,
        EXPORT,
        at=now,
        address=address,
        rows=len(tickets),
        report=REPORT,
        format=file_format,
        filter=filter_record(ticket_filter, order),
    )
    return ContactExport(rows, ExportStamp(user.display_name, user.username, now, len(tickets)))
