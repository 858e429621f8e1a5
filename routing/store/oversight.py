"""Oversight (督办): the reminders and notices raised when a deadline passes,
and the agencies' daily digests.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from routing.store.db import Base, enum_column

if TYPE_CHECKING:  # relationships name these; the mapper finds them by name
    from routing.store.people import Agency
    from routing.store.tickets import Ticket


class EscalationKind(str, enum.Enum):
    """督办的层级: a reminder to the agency, then a notice to its supervisor."""

    REMINDER = "reminder"  # 催办: the deadline is reached
    NOTICE = "notice"  # 通报: still overdue after the configured working days

    @property
    def label(self) -> str:
        return {"reminder": "催办", "notice": "通报"}[self.value]


class Escalation(Base):
    """催办 / 通报: one per ticket, kind and deadline — a new deadline (an
    extension, a reassignment) may be chased again, the same one never twice."""

    __tablename__ = "escalation"
    __table_args__ = (UniqueConstraint("ticket_id", "kind", "deadline", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    kind: Mapped[EscalationKind] = mapped_column(enum_column(EscalationKind))
    deadline: Mapped[str] = mapped_column(String(16))  # "accept" (签收) or "answer" (答复)
    due_at: Mapped[datetime] = mapped_column(DateTime)
    # The agency that is late, and the one the record is addressed to: the same
    # for a reminder, its supervisor (or none: the dispatcher centre) for a notice.
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    text: Mapped[str] = mapped_column(String(500))

    ticket: Mapped[Ticket] = relationship()
    agency: Mapped[Agency] = relationship(foreign_keys=[agency_id])
    recipient: Mapped[Agency | None] = relationship(foreign_keys=[recipient_id])


class AgencyDigest(Base):
    """每日督办简报: what an agency should know at the start of a working day."""

    __tablename__ = "agency_digest"
    __table_args__ = (UniqueConstraint("agency_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    day: Mapped[date] = mapped_column(Date)
    new_tickets: Mapped[int] = mapped_column(Integer, default=0)
    due_soon: Mapped[int] = mapped_column(Integer, default=0)
    overdue: Mapped[int] = mapped_column(Integer, default=0)
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    notices: Mapped[int] = mapped_column(Integer, default=0)
    # Ticket numbers behind each count, so the page can list them.
    detail: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(DateTime)

    agency: Mapped[Agency] = relationship()
