"""Callbacks (回访): an answered ticket the dispatcher centre calls the
resident back about — whether they were reached, whether the matter is
solved, whether they are satisfied, and what they said. One row a ticket;
each try is also an event on the ticket's timeline (see ``flow.callbacks``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from routing.store.db import Base
from routing.store.tickets import Ticket


class Callback(Base):
    """回访: queued when the answer reached the resident (``queued_at``), done
    once the resident was reached or the tries ran out (``done_at``)."""

    __tablename__ = "callback"
    __table_args__ = (
        # The queue: those not done, the longest waiting first.
        Index("ix_callback_done_at_queued_at", "done_at", "queued_at"),
        # The figures: callbacks done in a period, counted per agency from the
        # index alone (no join to ticket, no visit to the table).
        Index("ix_callback_judged", "reached", "done_at", "agency_id", "solved", "satisfied"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), unique=True)
    # The agency whose answer the callback judges, kept when it is queued: a
    # merged ticket's is the one that answered the ticket it joined.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    queued_at: Mapped[datetime] = mapped_column(DateTime)
    # Tries that did not reach the resident (未联系上).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The outcome, once reached: None until then.
    reached: Mapped[bool | None] = mapped_column(Boolean)
    solved: Mapped[bool | None] = mapped_column(Boolean)
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    said: Mapped[str | None] = mapped_column(Text)

    ticket: Mapped[Ticket] = relationship()
