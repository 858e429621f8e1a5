"""The answer (答复) and its review (审核办结): the agency answers; where a
review rule applies the answer waits for the dispatcher centre, which
approves it — then the resident is told — or sends it back with a reason
(the agency answers again; the deadline keeps running). The moment an
answer reaches the resident is one function, ``deliver_answer``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from routing.flow import answer_files, staff_notices
from routing.flow.answer_files import AnswerFile
from routing.flow.callback_rules import CallbackRule
from routing.flow.callbacks import queue_callback_if_chosen
from routing.flow.steps import (
    STEPS,
    WorkflowError,
    check_step,
    notify_deputy,
    notify_resident,
    record,
    required_text,
    transition,
)
from routing.flow.suggestions import SUGGESTION_GRADES
from routing.store.answering import ReviewRule
from routing.store.people import User
from routing.store.tickets import Kind, Status, Ticket, TicketEvent
from routing.texts import N_

CITATION_LENGTH = 500
SIGNER_LENGTH = 64


def review_rule_for(session: Session, ticket: Ticket) -> ReviewRule | None:
    """The active rule for the ticket's kind and agency: the most specific
    one (kind and agency named) before the broader ones."""
    rules = session.scalars(
        select(ReviewRule).where(
            ReviewRule.active.is_(True),
            or_(ReviewRule.kind.is_(None), ReviewRule.kind == ticket.kind),
            or_(ReviewRule.agency_id.is_(None), ReviewRule.agency_id == ticket.agency_id),
        )
    ).all()
    if not rules:
        return None
    return max(rules, key=lambda r: ((r.kind is not None) + (r.agency_id is not None), r.id))


def answer(
    session: Session,
    ticket: Ticket,
    actor: User,
    now: datetime,
    text: str,
    grade: str | None = None,
    *,
    citation: str | None = None,
    signed_by: str | None = None,
    callbacks: CallbackRule | None = None,
    files: list[AnswerFile] | None = None,
) -> None:
    """答复: the agency's answer, which the resident will read — and so will
    everyone whose ticket was merged into this one. A deputy's suggestion is
    answered with its result class (A/B/C); an answer may cite the regulation
    it rests on (依据) and name who signed it off (签发人, required where the
    rule says so) and come with photos or documents (答复附件). Where a review rule applies it goes to review first
    (提交审核) and the resident is told only once it is approved."""
    text = required_text(text, N_("答复内容"))
    detail: dict[str, Any] = {"answer": text}
    if ticket.kind is Kind.DEPUTY_SUGGESTION:
        if grade not in SUGGESTION_GRADES:
            raise WorkflowError(N_("代表建议的答复须注明办理结果分类（A、B 或 C 类）。"))
        detail["grade"] = grade
    citation = (citation or "").strip()
    signed_by = (signed_by or "").strip()
    if len(citation) > CITATION_LENGTH:
        raise WorkflowError(N_("答复依据不能超过 %(count)s 个字。"), count=CITATION_LENGTH)
    if len(signed_by) > SIGNER_LENGTH:
        raise WorkflowError(N_("签发人不能超过 %(count)s 个字。"), count=SIGNER_LENGTH)
    rule = review_rule_for(session, ticket)
    if rule is not None and rule.require_signer and not signed_by:
        raise WorkflowError(N_("本单位的答复须注明签发人。"))
    if citation:
        detail["citation"] = citation
    if signed_by:
        detail["signed_by"] = signed_by
    reviewed = rule is not None and rule.review
    if files:
        # Checked before the files are kept: a refused step stores nothing.
        check_step(STEPS["submit_answer" if reviewed else "answer"], ticket, actor)
        detail["files"] = answer_files.keep(session, ticket, now, files)
    if reviewed:
        transition(session, ticket, "submit_answer", actor, now, detail={**detail, "rule": rule.id})
        return
    transition(session, ticket, "answer", actor, now, detail=detail)
    deliver_answer(session, ticket, actor, now, text, callbacks=callbacks, files=detail.get("files"))


def pending_answer(session: Session, ticket: Ticket) -> TicketEvent | None:
    """The answer waiting for review: the latest one submitted."""
    if ticket.status is not Status.REVIEWING:
        return None
    return session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == "submit_answer")
        .order_by(TicketEvent.at.desc(), TicketEvent.id.desc())
        .limit(1)
    ).first()


def approve_answer(
    session: Session, ticket: Ticket, actor: User, now: datetime, note: str | None = None, *,
    callbacks: CallbackRule | None = None,
) -> None:
    """审核通过: the dispatcher centre approves the answer; the resident is told now."""
    check_step(STEPS["approve_answer"], ticket, actor)
    submitted = pending_answer(session, ticket)
    if submitted is None or not (submitted.detail or {}).get("answer"):
        raise WorkflowError(N_("这张工单没有待审核的答复。"))
    detail = {k: v for k, v in submitted.detail.items() if k != "rule"}
    transition(session, ticket, "approve_answer", actor, now, reason=(note or "").strip() or None, detail=detail)
    deliver_answer(session, ticket, actor, now, detail["answer"], callbacks=callbacks, files=detail.get("files"))


def send_back_answer(session: Session, ticket: Ticket, actor: User, now: datetime, reason: str) -> None:
    """审核退回: back to the agency with the reason; it answers again, and its
    answer deadline keeps running (it is not moved). Its staff are told at once."""
    reason = required_text(reason, N_("退回修改的理由"))
    check_step(STEPS["send_back_answer"], ticket, actor)
    submitted = pending_answer(session, ticket)
    event = transition(
        session, ticket, "send_back_answer", actor, now, reason=reason,
        detail={"answer": (submitted.detail or {}).get("answer") if submitted is not None else None},
    )
    session.flush()
    staff_notices.answer_sent_back(session, ticket, event.id, now)


def deliver_answer(
    session: Session, ticket: Ticket, actor: User | None, now: datetime, text: str, *,
    callbacks: CallbackRule | None = None, files: list[dict[str, Any]] | None = None,
) -> None:
    """The answer reaches the resident (答复送达): kept on the ticket, the
    resident and any deputy told, every ticket still merged into this one
    answered with it, and each of them queued for a callback (回访) where the
    rule ``callbacks`` chooses it or the ticket it joined — one callback per
    resident, each on its own ticket's timeline. Both an answer without review and an
    approved one end here."""
    rule = callbacks or CallbackRule()
    ticket.answer = text
    ticket.answered_at = now
    queue_callback_if_chosen(session, ticket, now, rule)
    notify_resident(session, ticket, "answer", now)
    notify_deputy(session, ticket, "answer", now.isoformat(), now)
    # Only those still merged: one rated meanwhile is closed, or handled on its own.
    merged = select(Ticket).where(Ticket.merged_into_id == ticket.id, Ticket.status == Status.MERGED)
    for duplicate in session.scalars(merged):
        duplicate.answer = text
        duplicate.answered_at = now
        detail: dict[str, Any] = {"ticket": ticket.number, "answer": text}
        if files:
            detail["files"] = files
        record(session, duplicate, "answer_merged", actor, now, detail=detail)
        queue_callback_if_chosen(session, duplicate, now, rule, answered=ticket)
        notify_resident(session, duplicate, "answer", now)
        notify_deputy(session, duplicate, "answer", now.isoformat(), now)
