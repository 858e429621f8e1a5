"""Small helpers the tests share."""

from __future__ import annotations

import os
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.demo import DEMO_PASSWORD
from routing.flow.inbound import Labels
from routing.store.people import Agency, Role, User
from routing.store.tickets import Ticket, TicketEvent, ticket_assist


def agency_login(session: Session, agency: Agency, username: str | None = None) -> str:
    """A login bound to ``agency``; returns the username (password: the demo's)."""
    username = username or f"staff-{agency.id}"
    if session.scalar(select(User).where(User.username == username)) is None:
        user = User(username=username, display_name=f"{agency.name}工作人员", role=Role.AGENCY, agency_id=agency.id)
        user.set_password(DEMO_PASSWORD)
        session.add(user)
        session.commit()
    return username


def ticket(session: Session, number: str) -> Ticket:
    session.expire_all()
    return session.scalar(select(Ticket).where(Ticket.number == number))


def unavailable(reason: str) -> None:
    """A tool a test needs (Chromium, ffmpeg) is missing: skip on a
    developer's machine, fail in CI, which installs it (TINGJIAN_REQUIRE_TOOLS=1)."""
    if os.environ.get("TINGJIAN_REQUIRE_TOOLS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)

def fixed_reading(text: str, place: str | None) -> Labels:
    """A classifier's reading that always routes (市政设施 in 西湖区), for deputies' submissions."""
    return Labels(topic="城乡建设", subtopic="市政设施", confidence=0.9, district="西湖区")


# The version counts every earlier write too: compared as what routing adds to it.
NOT_COMPARED = {"id", "number", "code", "version"}


def ticket_rows(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    """What is stored of each ticket, in the order of ``ids``: its row (but
    for its id, number, code and version), its timeline and its assisting agencies."""
    connection = session.connection()
    table = Ticket.__table__
    rows = []
    for ticket_id in ids:
        row = connection.execute(select(table).where(table.c.id == ticket_id)).mappings().one()
        events = connection.execute(
            select(TicketEvent.__table__).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        ).mappings().all()
        assisting = connection.scalars(
            select(ticket_assist.c.agency_id).where(ticket_assist.c.ticket_id == ticket_id).order_by(ticket_assist.c.agency_id)
        ).all()
        rows.append({
            **{k: v for k, v in row.items() if k not in NOT_COMPARED},
            "events": [{k: v for k, v in e.items() if k not in ("id", "ticket_id")} for e in events],
            "assisting": list(assisting),
        })
    return rows
