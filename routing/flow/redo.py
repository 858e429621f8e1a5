"""Redoing (重办): the resident (or the deputy) is not satisfied with the
answer, and the agency handles the ticket again.

Each such reopening is counted on the ticket (第 N 次重办, ``Ticket.redo_count``)
and named on the ``reopen`` event (``detail["redo"]``); a dispatcher's own
reopening is not a redo and counts for nothing here. Once a ticket has been
redone ``REDO_ESCALATION`` times, every further redo is reported to the
agency's supervisor as a notice (通报, the escalation's record, addressed
like a deadline's) and put before the dispatcher centre, which decides: the
matter is closed as done as far as it can be (已尽力办结, with its reason), or
the agency goes on with it (继续重办). Either way the decision is on the
timeline, and the ticket no longer waits for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from routing.flow.escalation import REDO, raise_record
from routing.flow.steps import STEPS, WorkflowError, check_step, required_text, transition
from routing.flow.workflow import reopen
from routing.store.oversight import EscalationKind
from routing.store.people import User
from routing.store.tickets import Ticket
from routing.texts import N_

# The setting REDO_ESCALATION's default: from the second redo on, the centre decides.
REDO_ESCALATION = 2


def redo(
    session: Session, ticket: Ticket, now: datetime, reason: str, *, escalation: int = REDO_ESCALATION,
    months: int | None = None,
) -> None:
    """重办: back to the agency that answered, with fresh deadlines (see
    ``workflow.reopen``), as the ticket's next redo; from the
    ``escalation``-th redo on, reported and put before the centre."""
    number = ticket.redo_count + 1
    reopen(session, ticket, None, now, reason=reason, months=months, detail={"redo": number})
    ticket.redo_count = number
    if number >= max(escalation, 1):
        _escalate(session, ticket, number, now)


def _escalate(session: Session, ticket: Ticket, number: int, now: datetime) -> None:
    """The notice to the supervisor (none: the centre itself), and the centre's decision pending from now."""
    supervisor = ticket.agency.supervisor
    text = (f"{ticket.agency.name}的工单 {ticket.number} 群众仍不满意，已第 {number} 次重办，"
            f"通报{supervisor.name if supervisor else '分拨中心'}督办，并由分拨中心决定是否继续办理。")
    raise_record(session, ticket, EscalationKind.NOTICE, REDO, now, supervisor, now, text)
    ticket.redo_review_since = now


def close_exhausted(session: Session, ticket: Ticket, actor: User, now: datetime, reason: str | None) -> None:
    """已尽力办结: the centre closes a ticket redone too often — the agency has
    done what can be done — with the reason, which the timeline keeps."""
    _deciding(ticket, "close_exhausted", actor)
    reason = required_text(reason, N_("已尽力办结的理由"))
    transition(session, ticket, "close_exhausted", actor, now, reason=reason,
               detail={"redo": ticket.redo_count, "answer": ticket.answer})
    ticket.closed_at = now
    ticket.redo_review_since = None
    # Nothing runs against the agency any more.
    ticket.accept_by = ticket.answer_by = ticket.paused_at = None
    ticket.extension_until = ticket.extension_reason = None


def continue_redo(session: Session, ticket: Ticket, actor: User, now: datetime, reason: str | None = None) -> None:
    """继续重办: the centre lets the agency go on with the redo, on its deadlines."""
    _deciding(ticket, "continue_redo", actor)
    transition(session, ticket, "continue_redo", actor, now, reason=(reason or "").strip() or None,
               detail={"redo": ticket.redo_count})
    ticket.redo_review_since = None


def _deciding(ticket: Ticket, name: str, actor: User) -> None:
    """Only a dispatcher, only from a redo's round, only while the decision is pending."""
    check_step(STEPS[name], ticket, actor)
    if ticket.redo_review_since is None:
        raise WorkflowError(N_("这张工单没有等待分拨中心决定的重办。"))


def awaiting_decision(session: Session) -> list[Ticket]:
    """The tickets the centre is to decide on, the longest waiting first."""
    query = (
        select(Ticket)
        .where(Ticket.redo_review_since.is_not(None))
        .order_by(Ticket.redo_review_since, Ticket.id)
        .options(selectinload(Ticket.agency), selectinload(Ticket.district))
    )
    return list(session.scalars(query))


@dataclass
class Round:
    """One earlier answer of a ticket, and what became of it."""

    answered_at: datetime
    answer: str | None
    by: str
    rating: str | None = None  # the label: 满意, 基本满意, 不满意
    comment: str | None = None
    rated_at: datetime | None = None
    redo: int | None = None  # the redo it led to; None: a dispatcher reopened it


def earlier_rounds(ticket: Ticket) -> list[Round]:
    """The answers the ticket got before it was reopened, oldest first, each
    with the rating and comment it got: read from the timeline, where every
    answer and rating stays though the ticket keeps only the latest."""
    rounds: list[Round] = []
    current: Round | None = None
    for event in ticket.events:
        detail = event.detail or {}
        if event.action in ("answer", "answer_merged"):
            current = Round(event.at, detail.get("answer"), event.actor)
        elif event.action in ("rate", "deputy_rate") and current is not None:
            current.rating, current.comment, current.rated_at = detail.get("label"), event.reason, event.at
        elif event.action == "reopen" and current is not None:
            current.redo = detail.get("redo")
            rounds.append(current)
            current = None
    return rounds
