"""Callbacks (回访): after an answer reaches the resident, the tickets the
rule chooses (``callback_rules``) wait in the centre's queue. A dispatcher
records each try as a step on the ticket's timeline: reached or not and,
once reached, solved or not, satisfied or not and what the resident said —
an outcome the figures count beside the resident's own rating. After the
rule's number of tries without reaching the resident, the city's rule
decides: the ticket closes with an event saying why, or stays as it is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from routing.flow.callback_rules import CLOSE, CallbackRule, needs_callback
from routing.flow.steps import STEPS, WorkflowError, awaiting_rating, check_step, record, transition
from routing.store.callbacks import Callback
from routing.store.people import User
from routing.store.tickets import Ticket
from routing.texts import N_

SAID_LENGTH = 1000


def queue_callback_if_chosen(
    session: Session, ticket: Ticket, now: datetime, rule: CallbackRule, *, answered: Ticket | None = None
) -> Callback | None:
    """At the moment the answer reaches the resident: into the queue if the
    rule chooses the ticket. A ticket answered again (after a redo) is called
    back again: its earlier callback starts over. A ticket merged (合并) into
    ``answered`` is called back when the rule chooses either — its resident
    got the same answer — and counts for the agency that answered."""
    answered = answered or ticket
    if not (needs_callback(ticket, rule) or needs_callback(answered, rule)):
        return None
    callback = session.scalar(select(Callback).where(Callback.ticket_id == ticket.id))
    if callback is None:
        callback = Callback(ticket=ticket, attempts=0)
        session.add(callback)
    callback.agency_id = answered.agency_id
    callback.queued_at, callback.done_at, callback.attempts = now, None, 0
    callback.reached = callback.solved = callback.satisfied = callback.said = None
    return callback


def pending(session: Session, ticket: Ticket) -> Callback | None:
    return session.scalar(select(Callback).where(Callback.ticket_id == ticket.id, Callback.done_at.is_(None)))


def record_try(
    session: Session,
    ticket: Ticket,
    actor: User,
    now: datetime,
    *,
    reached: bool,
    solved: bool | None = None,
    satisfied: bool | None = None,
    said: str | None = None,
    rule: CallbackRule | None = None,
) -> Callback:
    """一次回访: a dispatcher's try to reach the resident, on the timeline.
    Reached, the outcome is required (solved, satisfied) and the callback is
    done; not reached, the try is counted, and the last one allowed applies
    the city's rule."""
    rule = rule or CallbackRule()
    check_step(STEPS["callback"], ticket, actor)
    callback = pending(session, ticket)
    if callback is None:
        raise WorkflowError(N_("这张工单没有待回访的记录。"))
    said = (said or "").strip() or None
    if said is not None and len(said) > SAID_LENGTH:
        raise WorkflowError(N_("群众意见不能超过 %(count)s 个字。"), count=SAID_LENGTH)
    if reached and (solved is None or satisfied is None):
        raise WorkflowError(N_("联系上群众时须记录问题是否解决、是否满意。"))
    if reached:
        callback.reached, callback.solved, callback.satisfied, callback.said = True, solved, satisfied, said
        callback.done_at = now
        record(
            session,
            ticket,
            "callback",
            actor,
            now,
            reason=said,
            detail={"reached": True, "solved": solved, "satisfied": satisfied},
        )
        return callback
    callback.attempts += 1
    record(session, ticket, "callback", actor, now, reason=said, detail={"reached": False, "try": callback.attempts})
    if callback.attempts >= max(rule.attempts, 1):
        _unreached(session, ticket, callback, actor, now, rule)
    return callback


def _unreached(
    session: Session, ticket: Ticket, callback: Callback, actor: User, now: datetime, rule: CallbackRule
) -> None:
    """The last try failed: the callback is done, unreached; on the city's rule the ticket closes, saying why."""
    callback.reached, callback.done_at = False, now
    if rule.unreached != CLOSE or not awaiting_rating(ticket):
        return
    transition(
        session,
        ticket,
        "close",
        actor,
        now,
        reason=f"回访 {callback.attempts} 次未联系上群众，按规定办结",
        detail={"callback": "unreached", "attempts": callback.attempts},
    )
    ticket.closed_at = now


def queue(session: Session) -> list[Callback]:
    """The centre's callback queue (待回访): the longest waiting first."""
    query = (
        select(Callback)
        .where(Callback.done_at.is_(None))
        .order_by(Callback.queued_at, Callback.id)
        .options(selectinload(Callback.ticket).selectinload(Ticket.agency))
    )
    return list(session.scalars(query))
