"""Finding a ticket from outside (查询): by its number, by the resident's
lookup code, a sender's recent tickets, and the public status with no
personal data in it.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.dispatch.rules import OPEN
from routing.flow import steps
from routing.flow.answer_files import DELIVERED
from routing.store.tickets import Message, Status, Ticket, TicketEvent
from routing.texts import N_


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
    return {
        "ticket": ticket.number,
        "status": ticket.status.value,
        "status_label": ticket.status.label,
        "kind": ticket.kind.value,
        "topic": ticket.topic,
        "subtopic": ticket.subtopic,
        # A merged ticket's resident is answered by the agency of the ticket it joined.
        "agency": agency.name if (agency := steps.answering_agency(ticket)) else None,
        "district": ticket.district.name if ticket.district else None,
        "created_at": _iso(ticket.created_at),
        "accept_by": _iso(ticket.accept_by),
        "answer_by": _iso(ticket.answer_by),
        "accepted_at": _iso(ticket.accepted_at),
        "answered_at": _iso(ticket.answered_at),
        "answer": ticket.answer,
        # Every answer the ticket got, in order: one given before a reopening
        # (不满意 → 重新办理) stays, though ``answer`` then holds the latest only.
        "answers": [_public_answer(e) for e in ticket.events if e.action in ANSWERS],
        "rating": ticket.rating,
        "timeline": _timeline(ticket, PUBLIC_ACTIONS),
    }


def resident_status(ticket: Ticket) -> dict[str, Any]:
    """What the resident who gave the ticket's code sees (the status page):
    the public status and their own words besides — the text, the place
    they gave, and what they added since, on the timeline. Still no staff
    names, and none of their contact details."""
    question = next((e.reason for e in reversed(ticket.events) if e.action == "ask_resident"), None)
    return public_status(ticket) | {
        "text": ticket.text,
        "location": ticket.location_text,
        "street": ticket.street.name if ticket.street else None,
        "open": ticket.status in OPEN,
        # The agency's question while it waits on the resident (待群众补充).
        "question": question if ticket.status is Status.WAITING else None,
        "timeline": _timeline(ticket, PUBLIC_ACTIONS | RESIDENTS_OWN, translatable=True),
        # With the photos and documents it came with (答复附件), for the resident's eyes only.
        "answers": [
            _public_answer(e) | {"files": (e.detail or {}).get("files") or []} for e in ticket.events if e.action in ANSWERS
        ],
    }


def _public_answer(event: TicketEvent) -> dict[str, Any]:
    """One answer as the resident reads it, with the regulation it cites (依据) when it names one."""
    detail = event.detail or {}
    shown = {"at": _iso(event.at), "answer": detail.get("answer")}
    if detail.get("citation"):
        shown["citation"] = detail["citation"]
    return shown


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _timeline(ticket: Ticket, actions: set[str], *, translatable: bool = False) -> list[dict[str, Any]]:
    """The steps shown; ``translatable`` adds each note's template and values
    apart (``note_text``), for a page that says them in the reader's language."""
    timeline = []
    for e in ticket.events:
        if e.action not in actions:
            continue
        entry = {"at": _iso(e.at), "action": e.action, "status": e.to_status, "note": _public_note(e)}
        if translatable:
            entry["note_text"] = _note_text(e)
        timeline.append(entry)
    return timeline


# An answer reaches the resident when given, or once approved (审核通过);
# one waiting for review (submit_answer) is not shown.
ANSWERS = DELIVERED
# The resident's own additions (群众补充): shown to the resident, not to the public API.
RESIDENTS_OWN = {"add_message", "stop_sms"}
PUBLIC_ACTIONS = {
    "create", "assign", "reassign", "accept", "answer", "approve_answer", "return", "triage", "ask_resident", "resume",
    "approve_extension", "answer_merged", "merge", "rate", "close", "reopen", "invalidate",
}


# What the system says of a step, its values apart: the API reads the Chinese,
# the status page translates the template (as DomainError keeps them).
EXTENDED = N_("答复时限延至 %(day)s")
MERGED = N_("与工单 %(number)s 合并办理")


def _note_text(event: TicketEvent) -> tuple[str, dict[str, Any]] | None:
    detail = event.detail or {}
    if event.action == "approve_extension":
        return EXTENDED, {"day": detail.get("until", "")[:10]}
    if event.action == "merge":
        return MERGED, {"number": detail.get("into")}
    if event.action == "rate" and detail.get("label"):
        return detail["label"], {}
    return None


def _public_note(event: TicketEvent) -> str | None:
    """What an event says to the resident: the agency's question, the new
    deadline, the ticket it was merged into — never a staff member's name."""
    if event.action in {"ask_resident", "add_message"}:
        # The agency's question; the resident's own words (shown to them only: RESIDENTS_OWN).
        return event.reason
    text = _note_text(event)
    return text[0] % text[1] if text else None
