"""The ticket workflow (办理流程): the steps dispatchers and agencies take —
assign and route, accept, ask the resident, extensions, close and
reopen, merge, invalidate, return, correct (the answer and its review:
``answers``, re-exported here as ``answer``). Each goes through
``steps.transition`` or ``steps.record``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.dispatch.agency_choice import LearnedAgency, decide_agency
from routing.dispatch.rules import OPEN, Case, choose_rule, matched_keywords
from routing.flow import staff_notices
from routing.flow.answers import answer  # noqa: F401  (the answer step lives in ``answers``)
from routing.flow.deadlines import compute_deadlines, deadlines_in_months, load_calendar
from routing.flow.steps import (
    STEPS,
    UNROUTED,
    PermissionDenied,
    WorkflowError,
    answer_stands,
    check_step,
    is_assisting,
    notify_deputy,
    notify_resident,
    record,
    required_text,
    transition,
)
from routing.store.configuration import RoutingRule
from routing.store.people import Agency, User
from routing.store.tickets import Correction, Status, Ticket, TicketEvent
from routing.texts import N_, Label

# -- the steps ---------------------------------------------------------------


def assign(
    session: Session,
    ticket: Ticket,
    agency: Agency,
    actor: User | None,
    now: datetime,
    *,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """派单 / 改派: give the ticket to an agency, with fresh deadlines."""
    if not agency.active:
        raise WorkflowError(N_("%(agency)s已停用，不能派单。"), agency=agency.name)
    name = "assign" if ticket.status in UNROUTED else "reassign"
    check_step(STEPS[name], ticket, actor)
    deadlines = compute_deadlines(session, ticket.kind, ticket.urgency, now)
    # The event first, while the ticket still names the agency it leaves (转办 counts against it).
    transition(
        session,
        ticket,
        name,
        actor,
        now,
        reason=reason,
        detail={
            "agency": agency.name,
            "accept_by": deadlines.accept_by.isoformat(),
            "answer_by": deadlines.answer_by.isoformat(),
            **(detail or {}),
        },
    )
    if agency.id != ticket.agency_id:
        ticket.dispute_rejected = False  # 首接负责 binds the agency it was ruled for, not the next one
    ticket.agency = agency
    ticket.agency_id = agency.id
    ticket.assigned_at = now
    ticket.accept_by, ticket.answer_by = deadlines.accept_by, deadlines.answer_by
    ticket.accepted_at = ticket.paused_at = ticket.ruling_by = None
    ticket.extension_until = ticket.extension_reason = None
    staff_notices.ticket_assigned(session, ticket, now)


def route(
    session: Session,
    ticket: Ticket,
    now: datetime,
    *,
    actor: User | None = None,
    learned: LearnedAgency | None = None,
) -> bool:
    """Apply the routing rules, with the learned agency when there is one
    (see ``agency_choice.decide_agency``); without either the ticket waits
    for a dispatcher. Returns whether the ticket was assigned.
    """
    rule = choose_rule(session, Case.of(ticket))
    decision = decide_agency(session, ticket, rule, learned)
    if decision.agency is None:
        transition(session, ticket, "triage", None, now, reason=decision.reason, detail=decision.detail or None)
        return False
    if rule is not None and decision.decided_by == "rule":
        assign_by_rule(session, ticket, rule, actor, now, reason=decision.reason, detail=decision.detail)
    else:
        assign(session, ticket, decision.agency, actor, now, reason=decision.reason, detail=decision.detail)
    return True


def assign_by_rule(
    session: Session,
    ticket: Ticket,
    rule: RoutingRule,
    actor: User | None,
    now: datetime,
    *,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """派单 by a rule: its lead agency, and its assisting agencies (协办) on the timeline."""
    detail = {**(detail or {}), "rule": rule.id}
    words = matched_keywords(rule, ticket.text or "")
    if words:
        detail["keywords"] = words
    assign(session, ticket, rule.agency, actor, now, reason=reason, detail=detail)
    set_assisting(session, ticket, [a for a in rule.assisting if a.active and a.id != rule.agency_id], actor, now)


def set_assisting(session: Session, ticket: Ticket, agencies: list[Agency], actor: User | None, now: datetime) -> None:
    """协办单位: they see the ticket and add opinions; the lead agency answers."""
    if [a.id for a in agencies] == [a.id for a in ticket.assisting]:
        return
    ticket.assisting = list(agencies)
    names = [a.name for a in agencies]
    record(
        session, ticket, "assist", actor, now,
        reason=("协办单位：" + "、".join(names)) if names else "不再有协办单位",
        detail={"assisting": names},
    )


def add_opinion(session: Session, ticket: Ticket, actor: User, now: datetime, text: str) -> TicketEvent:
    """协办意见: an assisting agency's opinion for the lead agency, on the timeline.
    The ticket's state does not change: only the lead agency acts on it."""
    text = required_text(text, N_("协办意见"))
    if not is_assisting(actor, ticket):
        raise PermissionDenied(N_("只有这张工单的协办单位可以提出协办意见。"))
    if ticket.status not in OPEN:
        raise WorkflowError(N_("工单当前状态为“%(status)s”，不能再提出协办意见。"), status=Label(ticket.status.label))
    return record(session, ticket, "assist_opinion", actor, now, reason=text, detail={"agency": actor.agency.name})


def accept(session: Session, ticket: Ticket, actor: User, now: datetime) -> None:
    """签收: the agency takes the ticket on."""
    ticket.accepted_at = now
    transition(session, ticket, "accept", actor, now)
    notify_resident(session, ticket, "accept", now)


def ask_resident(session: Session, ticket: Ticket, actor: User, now: datetime, question: str) -> None:
    """待补充: the agency needs more from the resident; its answer clock stops."""
    question = required_text(question, N_("需要群众补充的内容"))
    transition(session, ticket, "ask_resident", actor, now, reason=question)
    ticket.paused_at = now
    notify_resident(session, ticket, "ask", now)


def resume(session: Session, ticket: Ticket, actor: User | None, now: datetime, reason: str | None = None) -> None:
    """The resident has answered (or the agency goes on without): the clock
    runs again, and the answer deadline moves by the working days it stood still."""
    calendar = load_calendar(session)
    paused = ticket.paused_at or now
    days = max(calendar.working_days_between(paused.date(), now.date()), 0)
    if days and ticket.answer_by is not None:
        ticket.answer_by = calendar.add_working_days(ticket.answer_by, days)
    ticket.paused_at = None
    transition(
        session, ticket, "resume", actor, now, reason=reason,
        detail={"paused_working_days": days, "answer_by": ticket.answer_by.isoformat() if ticket.answer_by else None},
    )


def request_extension(
    session: Session, ticket: Ticket, actor: User, now: datetime, until: datetime, reason: str
) -> None:
    """申请延期: the agency asks the dispatcher for a later answer deadline."""
    reason = required_text(reason, N_("延期理由"))
    if ticket.extension_until is not None:
        raise WorkflowError(N_("已有一项延期申请等待审批。"))
    if ticket.answer_by is not None and until <= ticket.answer_by:
        raise WorkflowError(N_("延期后的时限须晚于现在的答复时限（%(due)s）。"), due=f"{ticket.answer_by:%Y-%m-%d}")
    transition(session, ticket, "request_extension", actor, now, reason=reason, detail={"until": until.isoformat()})
    ticket.extension_until = until
    ticket.extension_reason = reason


def decide_extension(
    session: Session, ticket: Ticket, actor: User, now: datetime, *, approve: bool, reason: str | None = None
) -> None:
    """批准 / 不予延期: the dispatcher decides; an approved extension is news for the resident."""
    if ticket.extension_until is None:
        raise WorkflowError(N_("这张工单没有待审批的延期申请。"))
    until = ticket.extension_until
    if not approve:
        reason = required_text(reason, N_("不予延期的理由"))
    transition(
        session, ticket, "approve_extension" if approve else "refuse_extension", actor, now, reason=reason,
        detail={"until": until.isoformat(), "answer_by_before": ticket.answer_by.isoformat() if ticket.answer_by else None},
    )
    ticket.extension_until = ticket.extension_reason = None
    if approve:
        ticket.answer_by = until
        notify_resident(session, ticket, "extend", now)


def close(session: Session, ticket: Ticket, actor: User | None, now: datetime, reason: str | None = None) -> None:
    """办结: the matter is done — for a merged ticket, once the answer came."""
    answer_stands(STEPS["close"], ticket)
    transition(session, ticket, "close", actor, now, reason=reason)
    ticket.closed_at = now


def reopen(
    session: Session, ticket: Ticket, actor: User | None, now: datetime, reason: str, *, months: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """重新办理: the resident is not satisfied; the same agency handles it again,
    with fresh deadlines (with ``months``: the answer due that many months on;
    ``detail`` adds to the event: a redo's number, see ``redo``).
    The first answer stays on the timeline."""
    reason = required_text(reason, N_("重新办理的理由"))
    if ticket.agency is None:
        raise WorkflowError(N_("这张工单没有承办单位，请改为派单。"))
    if months:
        deadlines = deadlines_in_months(session, ticket.kind, ticket.urgency, now, months)
    else:
        deadlines = compute_deadlines(session, ticket.kind, ticket.urgency, now)
    transition(
        session, ticket, "reopen", actor, now, reason=reason,
        detail={"agency": ticket.agency.name, "previous_answer": ticket.answer,
                "accept_by": deadlines.accept_by.isoformat(), "answer_by": deadlines.answer_by.isoformat(),
                **(detail or {})},
    )
    ticket.assigned_at = now
    ticket.accept_by, ticket.answer_by = deadlines.accept_by, deadlines.answer_by
    ticket.accepted_at = ticket.answered_at = ticket.closed_at = None
    ticket.answer = ticket.rating = ticket.rated_at = None
    staff_notices.ticket_assigned(session, ticket, now)
    notify_resident(session, ticket, "reopen", now)


def merge(
    session: Session, ticket: Ticket, into: Ticket, actor: User, now: datetime, reason: str | None = None
) -> None:
    """合并: ``ticket`` raises the same matter as ``into``; it is handled there,
    and its resident gets that ticket's answer. Tickets merged into
    ``ticket`` before are re-pointed to ``into``: they are answered with it,
    not with a ticket that is no longer answered itself."""
    if into.id == ticket.id:
        raise WorkflowError(N_("不能把工单合并到它自己。"))
    if into.status in (Status.MERGED, Status.INVALID):
        raise WorkflowError(
            N_("工单 %(number)s 状态为“%(status)s”，不能合并到它。"), number=into.number, status=Label(into.status.label)
        )
    transition(session, ticket, "merge", actor, now, reason=reason, detail={"into": into.number})
    _join(session, ticket, into, actor, now, reason)
    for earlier in session.scalars(
        select(Ticket).where(Ticket.merged_into_id == ticket.id, Ticket.status == Status.MERGED)
    ):
        record(session, earlier, "remerge", actor, now, reason=reason,
               detail={"from": ticket.number, "into": into.number})
        _join(session, earlier, into, actor, now, reason)


def _join(session: Session, ticket: Ticket, into: Ticket, actor: User, now: datetime, reason: str | None) -> None:
    """A merged ticket joins ``into``: handled there, and answered at once if it is."""
    ticket.merged_into, ticket.merged_into_id = into, into.id
    ticket.accept_by = ticket.answer_by = ticket.ruling_by = None
    record(session, into, "absorb", actor, now, reason=reason, detail={"ticket": ticket.number})
    if into.answer:
        ticket.answer, ticket.answered_at = into.answer, into.answered_at
        notify_resident(session, ticket, "answer", now)
        notify_deputy(session, ticket, "answer", into.answered_at.isoformat() if into.answered_at else now.isoformat(), now)


def invalidate(session: Session, ticket: Ticket, actor: User, now: datetime, reason: str) -> None:
    """无效: spam, abuse or nothing to handle — kept, with the reason, never deleted."""
    reason = required_text(reason, N_("无效的理由"))
    transition(session, ticket, "invalidate", actor, now, reason=reason)
    ticket.accept_by = ticket.answer_by = ticket.ruling_by = None


# 退回的原因: what is not a dispute about who is responsible (that is ``disputes``).
RETURN_REASONS = {
    "duplicate": N_("重复件"),
    "needs_resident": N_("需群众补充信息"),
    "other": N_("其他"),
}


def return_ticket(
    session: Session, ticket: Ticket, actor: User, now: datetime, reason: str, reason_class: str = "other"
) -> None:
    """退回: back to the dispatcher, with a reason class (``RETURN_REASONS``) and
    a reason — within the accept deadline only. After that the ticket is the
    agency's (首接负责): only a dispatcher can move it on. So it is, too, once
    the dispatcher centre has rejected the agency's dispute of it."""
    reason = required_text(reason, N_("退回理由"))
    if reason_class not in RETURN_REASONS:
        raise WorkflowError(N_("请选择退回原因。"))
    if ticket.dispute_rejected:
        raise WorkflowError(N_("分拨中心已裁定派单争议不成立，按首接负责须由本单位办理。"))
    if ticket.accept_by is not None and now > ticket.accept_by and ticket.status is not Status.TRIAGE:
        raise WorkflowError(
            N_("签收时限（%(due)s）已过，按首接负责须由本单位办理；确非本单位职责的，请联系分拨中心转办。"),
            due=f"{ticket.accept_by:%Y-%m-%d %H:%M}",
        )
    agency = ticket.agency.name if ticket.agency else None
    transition(
        session, ticket, "return", actor, now, reason=reason,
        detail={"agency": agency, "reason_class": reason_class, "reason_label": RETURN_REASONS[reason_class]},
    )
    ticket.agency_id = None
    ticket.agency = None
    ticket.accept_by = ticket.answer_by = ticket.accepted_at = ticket.paused_at = None
    ticket.extension_until = ticket.extension_reason = None


def correct(
    session: Session,
    ticket: Ticket,
    actor: User,
    now: datetime,
    *,
    topic: str | None = None,
    subtopic: str | None = None,
    agency: Agency | None = None,
    reason: str | None = None,
) -> None:
    """更正分类: a dispatcher sets topic and/or agency; each correction is kept
    as a labelled example, then the ticket is routed by the corrected labels."""
    check_step(STEPS["correct"], ticket, actor)
    changes: dict[str, Any] = {}
    if topic and (topic, subtopic) != (ticket.topic, ticket.subtopic):
        before = "/".join(filter(None, (ticket.topic, ticket.subtopic))) or None
        after = "/".join(filter(None, (topic, subtopic)))
        changes["topic"] = {"from": before, "to": after}
        session.add(
            Correction(
                ticket_id=ticket.id, field="topic", text=ticket.text, predicted=before,
                label=after, user_id=actor.id, at=now,
            )
        )
        ticket.topic, ticket.subtopic = topic, subtopic
    if agency is not None and agency.id != ticket.agency_id:
        before_agency = ticket.agency.name if ticket.agency else None
        changes["agency"] = {"from": before_agency, "to": agency.name}
        session.add(
            Correction(
                ticket_id=ticket.id, field="agency", text=ticket.text, predicted=before_agency,
                label=agency.name, user_id=actor.id, at=now,
            )
        )
    if not changes:
        raise WorkflowError(N_("没有需要更正的内容。"))
    transition(session, ticket, "correct", actor, now, reason=reason, detail=changes)
    if agency is None and "topic" in changes:
        rule = choose_rule(session, Case.of(ticket))
        if rule is not None and rule.agency_id != ticket.agency_id:
            assign_by_rule(session, ticket, rule, actor, now, reason=reason)
        return
    if agency is not None and agency.id != ticket.agency_id:
        assign(session, ticket, agency, actor, now, reason=reason)
