"""The ticket workflow (办理流程), enforced in one place.

Every change of a ticket's state goes through ``transition``: it checks that
the step is allowed from the current state and that the actor may take it,
and writes the event on the ticket's timeline. Callers never set
``ticket.status`` themselves.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .agency_choice import LearnedAgency, decide_agency
from .deadlines import compute_deadlines, deadlines_in_months, load_calendar
from .jobs import enqueue
from .models import (
    Agency,
    Correction,
    DeputySubmission,
    Kind,
    Role,
    RoutingRule,
    Status,
    Ticket,
    TicketEvent,
    User,
)
from .rules import OPEN, Case, choose_rule, matched_keywords
from .texts import N_, DomainError, Label

SYSTEM = "系统"


class WorkflowError(DomainError):
    """A step that is not allowed; the message tells the person why, in Chinese
    (translated where it is shown: see ``texts``)."""


class PermissionDenied(WorkflowError):
    pass


@dataclass(frozen=True)
class Step:
    name: str
    label: str
    sources: Collection[Status]
    target: Status | None  # None: the state does not change
    roles: Collection[Role | None]  # None stands for the system itself


DISPATCH = (Role.DISPATCHER, Role.ADMIN)

# Not yet with an agency: routing or a dispatcher decides where it goes.
UNROUTED = (Status.RECEIVED, Status.TRIAGE)
AGENCY = (Role.AGENCY,)
IN_HAND = (Status.ACCEPTED, Status.WAITING)
# An answer stands to be rated or closed: the ticket's own, or one it got by
# its merge (see ``awaiting_rating``).
ANSWER_STANDS = (Status.ANSWERED, Status.MERGED)

STEPS = {
    step.name: step
    for step in (
        Step("triage", N_("转人工分拣"), UNROUTED, Status.TRIAGE, (None,)),
        Step("assign", N_("派单"), UNROUTED, Status.ASSIGNED, (None, *DISPATCH)),
        Step("reassign", N_("转办"), (Status.ASSIGNED, *IN_HAND), Status.ASSIGNED, DISPATCH),
        Step("accept", N_("签收"), (Status.ASSIGNED,), Status.ACCEPTED, AGENCY),
        Step("ask_resident", N_("请群众补充"), (Status.ACCEPTED,), Status.WAITING, AGENCY),
        Step("resume", N_("补充完毕"), (Status.WAITING,), Status.ACCEPTED, (None, *AGENCY, *DISPATCH)),
        Step("answer", N_("答复"), (Status.ACCEPTED,), Status.ANSWERED, AGENCY),
        Step("return", N_("退回"), (Status.ASSIGNED, *IN_HAND), Status.TRIAGE, AGENCY),
        Step("request_extension", N_("申请延期"), IN_HAND, None, AGENCY),
        Step("consult", N_("面商"), IN_HAND, None, AGENCY),
        Step("approve_extension", N_("批准延期"), IN_HAND, None, DISPATCH),
        Step("refuse_extension", N_("不予延期"), IN_HAND, None, DISPATCH),
        Step("rate", N_("群众评价"), ANSWER_STANDS, None, (None,)),
        Step("deputy_rate", N_("代表评价"), ANSWER_STANDS, None, (Role.DEPUTY,)),
        Step("close", N_("办结"), ANSWER_STANDS, Status.CLOSED, (None, *DISPATCH)),
        Step("reopen", N_("重新办理"), (Status.ANSWERED, Status.CLOSED), Status.ASSIGNED, (None, *DISPATCH)),
        Step("merge", N_("合并"), OPEN, Status.MERGED, DISPATCH),
        # Not satisfied with the answer a merged ticket got: it is handled on its own again.
        Step("unmerge", N_("移出合并"), (Status.MERGED,), Status.ANSWERED, (None,)),
        Step("invalidate", N_("标记无效"), (*UNROUTED, Status.ASSIGNED), Status.INVALID, DISPATCH),
        Step("correct", N_("更正分类"), OPEN, None, DISPATCH),
    )
}


def actor_label(actor: User | None) -> str:
    return actor.label if actor is not None else SYSTEM


def can_see(actor: User, ticket: Ticket) -> bool:
    """Staff see tickets by role: an agency only its own, as lead (主办) or
    assisting (协办)."""
    if actor.role in DISPATCH:
        return True
    if actor.role is Role.AGENCY:
        return is_lead(actor, ticket) or is_assisting(actor, ticket)
    return False


def is_lead(actor: User, ticket: Ticket) -> bool:
    return actor.role is Role.AGENCY and actor.agency_id is not None and ticket.agency_id == actor.agency_id


def is_assisting(actor: User, ticket: Ticket) -> bool:
    return (
        actor.role is Role.AGENCY
        and actor.agency_id is not None
        and any(a.id == actor.agency_id for a in ticket.assisting)
    )


def handled_with(ticket: Ticket) -> Ticket:
    """The ticket that carries the work of ``ticket``: itself, or for a
    merged one the ticket it was merged into, to the end of the chain (merges
    re-point their chains, but older data may still hold one)."""
    while ticket.status is Status.MERGED and ticket.merged_into is not None:
        ticket = ticket.merged_into
    return ticket


def answering_agency(ticket: Ticket) -> Agency | None:
    """The agency that answers ``ticket``'s resident: for a merged ticket,
    that of the ticket carrying its work, not the one it had before the merge."""
    return handled_with(ticket).agency


def awaiting_rating(ticket: Ticket) -> bool:
    """Whether an answer stands for the resident (or deputy) to rate: the
    ticket's own, or the one a merged ticket got with the ticket it joined."""
    return ticket.status is Status.ANSWERED or (ticket.status is Status.MERGED and ticket.answer is not None)


def _check(step: Step, ticket: Ticket, actor: User | None) -> None:
    role = actor.role if actor is not None else None
    if role not in step.roles:
        raise PermissionDenied(N_("您的角色不能执行“%(step)s”。"), step=Label(step.label))
    if role is Role.AGENCY and (actor.agency_id is None or ticket.agency_id != actor.agency_id):
        raise PermissionDenied(N_("这张工单不属于您的单位。"))
    if ticket.status not in step.sources:
        raise WorkflowError(
            N_("工单当前状态为“%(status)s”，不能%(step)s。"), status=Label(ticket.status.label), step=Label(step.label)
        )


def record(
    session: Session,
    ticket: Ticket,
    action: str,
    actor: User | None,
    now: datetime,
    *,
    from_status: Status | None = None,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> TicketEvent:
    """Add one event to the ticket's timeline."""
    # Set from the event's side: appending to ``ticket.events`` would first
    # load the whole timeline, a query per event for nothing.
    event = TicketEvent(
        ticket=ticket,
        at=now,
        # Before assign() changes it: a transfer counts against the agency it leaves.
        agency_id=ticket.agency_id,
        actor_id=actor.id if actor is not None else None,
        actor=actor_label(actor),
        action=action,
        from_status=from_status.value if from_status else None,
        to_status=ticket.status.value,
        reason=reason,
        detail=detail,
    )
    ticket.updated_at = now
    session.add(event)
    return event


def note(
    session: Session, ticket: Ticket, action: str, now: datetime, *, detail: dict[str, Any] | None = None
) -> TicketEvent:
    """Add the system's own bookkeeping (a notice sent) to the ticket's
    timeline without touching the ticket's row: its version stays, so staff
    changing the ticket meanwhile neither fail this write nor are failed by it."""
    event = TicketEvent(
        ticket_id=ticket.id,
        at=now,
        agency_id=ticket.agency_id,
        actor_id=None,
        actor=SYSTEM,
        action=action,
        from_status=None,
        to_status=ticket.status.value,
        detail=detail,
    )
    session.add(event)
    return event


def transition(
    session: Session,
    ticket: Ticket,
    name: str,
    actor: User | None,
    now: datetime,
    *,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> TicketEvent:
    step = STEPS[name]
    _check(step, ticket, actor)
    before = ticket.status
    if step.target is not None:
        ticket.status = step.target
    return record(session, ticket, name, actor, now, from_status=before, reason=reason, detail=detail)


def _required(text: str | None, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise WorkflowError(N_("请填写%(what)s。"), what=Label(what))
    return text


def notify_resident(session: Session, ticket: Ticket, action: str, now: datetime) -> None:
    """Tell the resident, through the outbox: the job is stored with the
    change, so a channel that is down delays the news and never loses it."""
    session.flush()
    enqueue(session, NOTIFY_RESIDENT, {"ticket_id": ticket.id, "action": action}, now)


NOTIFY_RESIDENT = "notify.resident"
NOTIFY_DEPUTY = "notify.deputy"


def notify_deputy(session: Session, ticket: Ticket, event: str, stamp: str, now: datetime, **payload: Any) -> None:
    """Tell the deputy who raised the ticket (代表通知), through the outbox:
    ``event`` is "answer" or "overdue"; ``stamp`` names the occasion (the
    answer's time, the deadline that passed), so each is told exactly once.
    Tickets no deputy raised need nothing."""
    session.flush()
    if session.scalar(select(DeputySubmission.id).where(DeputySubmission.ticket_id == ticket.id)) is None:
        return
    enqueue(
        session, NOTIFY_DEPUTY, {"ticket_id": ticket.id, "event": event, "stamp": stamp, **payload}, now,
        key=f"deputy:{ticket.id}:{event}:{stamp}"[:160],
    )


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
    _check(STEPS[name], ticket, actor)
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
    ticket.agency = agency
    ticket.agency_id = agency.id
    ticket.assigned_at = now
    ticket.accept_by, ticket.answer_by = deadlines.accept_by, deadlines.answer_by
    ticket.accepted_at = ticket.paused_at = None
    ticket.extension_until = ticket.extension_reason = None


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
    text = _required(text, N_("协办意见"))
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


# 办理结果分类 of a deputy's suggestion, as the agency states it with its answer.
SUGGESTION_GRADES = {
    "A": "A 类：所提问题已经解决或基本解决",
    "B": "B 类：所提问题列入计划逐步解决",
    "C": "C 类：因条件限制或其他原因暂时不能解决，留作参考",
}
CONSULT_WAYS = ("当面", "电话", "座谈", "视察调研")


def consult(
    session: Session, ticket: Ticket, actor: User, now: datetime, *, held_on: date, way: str, note: str
) -> None:
    """面商: the agency met the deputy about their suggestion before answering;
    the record is an event on the timeline."""
    if ticket.kind is not Kind.DEPUTY_SUGGESTION:
        raise WorkflowError(N_("只有代表建议需要面商。"))
    if way not in CONSULT_WAYS:
        raise WorkflowError(N_("面商方式应为当面、电话、座谈、视察调研之一。"))
    if held_on > now.date():
        raise WorkflowError(N_("面商日期不能晚于今天。"))
    note = _required(note, N_("面商情况"))
    transition(session, ticket, "consult", actor, now, reason=note,
               detail={"held_on": held_on.isoformat(), "way": way})


def consultations(ticket: Ticket) -> list[TicketEvent]:
    """The 面商 records of a deputy's suggestion, oldest first."""
    return [e for e in ticket.events if e.action == "consult"]


def answer_grade(ticket: Ticket) -> str | None:
    """The result class (A/B/C) the latest answer gave, if any; a merged
    ticket's is that of the ticket it was merged into (合并办理)."""
    if ticket.merged_into is not None:
        return answer_grade(ticket.merged_into)
    answers = [e for e in ticket.events if e.action == "answer"]
    return (answers[-1].detail or {}).get("grade") if answers else None


def answer(
    session: Session, ticket: Ticket, actor: User, now: datetime, text: str, grade: str | None = None
) -> None:
    """答复: the agency's answer, which the resident will read — and so will
    everyone whose ticket was merged into this one. A deputy's suggestion is
    answered with its result class (A/B/C)."""
    text = _required(text, N_("答复内容"))
    detail: dict[str, Any] = {"answer": text}
    if ticket.kind is Kind.DEPUTY_SUGGESTION:
        if grade not in SUGGESTION_GRADES:
            raise WorkflowError(N_("代表建议的答复须注明办理结果分类（A、B 或 C 类）。"))
        detail["grade"] = grade
    transition(session, ticket, "answer", actor, now, detail=detail)
    ticket.answer = text
    ticket.answered_at = now
    notify_resident(session, ticket, "answer", now)
    notify_deputy(session, ticket, "answer", now.isoformat(), now)
    # Only those still merged: one rated meanwhile is closed, or handled on its own.
    merged = select(Ticket).where(Ticket.merged_into_id == ticket.id, Ticket.status == Status.MERGED)
    for duplicate in session.scalars(merged):
        duplicate.answer = text
        duplicate.answered_at = now
        record(session, duplicate, "answer_merged", actor, now, detail={"ticket": ticket.number, "answer": text})
        notify_resident(session, duplicate, "answer", now)
        notify_deputy(session, duplicate, "answer", now.isoformat(), now)


def ask_resident(session: Session, ticket: Ticket, actor: User, now: datetime, question: str) -> None:
    """待补充: the agency needs more from the resident; its answer clock stops."""
    question = _required(question, N_("需要群众补充的内容"))
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
    reason = _required(reason, N_("延期理由"))
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
        reason = _required(reason, N_("不予延期的理由"))
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
    _answer_stands(STEPS["close"], ticket)
    transition(session, ticket, "close", actor, now, reason=reason)
    ticket.closed_at = now


def reopen(
    session: Session, ticket: Ticket, actor: User | None, now: datetime, reason: str, *, months: int | None = None
) -> None:
    """重新办理: the resident is not satisfied; the same agency handles it again,
    with fresh deadlines (with ``months``: the answer due that many months on).
    The first answer stays on the timeline."""
    reason = _required(reason, N_("重新办理的理由"))
    if ticket.agency is None:
        raise WorkflowError(N_("这张工单没有承办单位，请改为派单。"))
    if months:
        deadlines = deadlines_in_months(session, ticket.kind, ticket.urgency, now, months)
    else:
        deadlines = compute_deadlines(session, ticket.kind, ticket.urgency, now)
    transition(
        session, ticket, "reopen", actor, now, reason=reason,
        detail={"agency": ticket.agency.name, "previous_answer": ticket.answer,
                "accept_by": deadlines.accept_by.isoformat(), "answer_by": deadlines.answer_by.isoformat()},
    )
    ticket.assigned_at = now
    ticket.accept_by, ticket.answer_by = deadlines.accept_by, deadlines.answer_by
    ticket.accepted_at = ticket.answered_at = ticket.closed_at = None
    ticket.answer = ticket.rating = ticket.rated_at = None


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
    ticket.accept_by = ticket.answer_by = None
    record(session, into, "absorb", actor, now, reason=reason, detail={"ticket": ticket.number})
    if into.answer:
        ticket.answer, ticket.answered_at = into.answer, into.answered_at
        notify_resident(session, ticket, "answer", now)
        notify_deputy(session, ticket, "answer", into.answered_at.isoformat() if into.answered_at else now.isoformat(), now)


# 满意度: what a resident may say of an answer.
RATINGS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}


def rate(session: Session, ticket: Ticket, now: datetime, rating: str, comment: str | None = None) -> None:
    """The resident rates the answer: 满意 or 基本满意 closes the ticket;
    不满意 sends it back to the agency that answered, with new deadlines —
    for a merged ticket, out of the merge (see ``_rated``)."""
    if rating not in RATINGS:
        raise WorkflowError(N_("请选择“满意”“基本满意”或“不满意”。"))
    comment = (comment or "").strip()[:500] or None
    _rated(session, ticket, "rate", None, now, rating, comment)
    if rating == "unsatisfied":
        reopen(session, ticket, None, now, reason="群众不满意" + (f"：{comment}" if comment else ""))
    else:
        close(session, ticket, None, now, reason=f"群众评价：{RATINGS[rating]}")


# A deputy not satisfied with the answer to a suggestion: handled again, answered within a month.
DEPUTY_REOPEN_MONTHS = 1


def rate_by_deputy(
    session: Session, ticket: Ticket, actor: User, now: datetime, rating: str, reason: str | None = None
) -> None:
    """代表评价: the deputy rates the answer to their suggestion. 满意 or 基本满意
    closes it; 不满意 (with a reason) sends it back to the agency that
    answered (for a merged suggestion, out of the merge), to be answered
    again within one month. The caller checks that it is the deputy's own."""
    if ticket.kind is not Kind.DEPUTY_SUGGESTION:
        raise WorkflowError(N_("代表评价只用于代表建议。"))
    if rating not in RATINGS:
        raise WorkflowError(N_("请选择“满意”“基本满意”或“不满意”。"))
    reason = (reason or "").strip()[:500] or None
    if rating == "unsatisfied":
        reason = _required(reason, N_("不满意的理由"))
    _rated(session, ticket, "deputy_rate", actor, now, rating, reason)
    if rating == "unsatisfied":
        reopen(session, ticket, None, now, reason=f"代表不满意：{reason}", months=DEPUTY_REOPEN_MONTHS)
    else:
        close(session, ticket, None, now, reason=f"代表评价：{RATINGS[rating]}")


def _answer_stands(step: Step, ticket: Ticket) -> None:
    """A merged ticket may be rated or closed only once the answer reached it."""
    if ticket.status is Status.MERGED and not awaiting_rating(ticket):
        raise WorkflowError(
            N_("工单当前状态为“%(status)s”，不能%(step)s。"), status=Label(ticket.status.label), step=Label(step.label)
        )


def _rated(
    session: Session, ticket: Ticket, name: str, actor: User | None, now: datetime, rating: str, reason: str | None
) -> None:
    """The rating (``name``: "rate" or "deputy_rate") on the ticket's timeline.

    A merged ticket's answer is the answering agency's work: the ticket takes
    that agency first, so the rating counts for it (scorecards read the
    event's agency) and a closed ticket teaches the agency model the agency
    that answered. Not satisfied, it then leaves the merge (移出合并) and
    stands answered on its own, for ``reopen`` to hand back to that agency;
    satisfied, it stays with the ticket it joined, and is closed."""
    step = STEPS[name]
    _check(step, ticket, actor)
    _answer_stands(step, ticket)
    merged_with = handled_with(ticket) if ticket.status is Status.MERGED else None
    detail: dict[str, Any] = {"rating": rating, "label": RATINGS[rating]}
    if merged_with is not None and merged_with.agency is not None:
        ticket.agency, ticket.agency_id = merged_with.agency, merged_with.agency_id
        detail |= {"answered_with": merged_with.number, "agency": merged_with.agency.name}
    transition(session, ticket, name, actor, now, reason=reason, detail=detail)
    ticket.rating, ticket.rated_at = rating, now
    if merged_with is not None and rating == "unsatisfied":
        transition(session, ticket, "unmerge", None, now, reason=reason,
                   detail={"ticket": merged_with.number, "agency": ticket.agency.name if ticket.agency else None})
        ticket.merged_into, ticket.merged_into_id = None, None


def invalidate(session: Session, ticket: Ticket, actor: User, now: datetime, reason: str) -> None:
    """无效: spam, abuse or nothing to handle — kept, with the reason, never deleted."""
    reason = _required(reason, N_("无效的理由"))
    transition(session, ticket, "invalidate", actor, now, reason=reason)
    ticket.accept_by = ticket.answer_by = None


def return_ticket(session: Session, ticket: Ticket, actor: User, now: datetime, reason: str) -> None:
    """退回: not this agency's matter; back to the dispatcher, with a reason —
    within the accept deadline only. After that the ticket is the agency's
    (首接负责): only a dispatcher can move it on."""
    reason = _required(reason, N_("退回理由"))
    if ticket.accept_by is not None and now > ticket.accept_by and ticket.status is not Status.TRIAGE:
        raise WorkflowError(
            N_("签收时限（%(due)s）已过，按首接负责须由本单位办理；确非本单位职责的，请联系分拨中心转办。"),
            due=f"{ticket.accept_by:%Y-%m-%d %H:%M}",
        )
    agency = ticket.agency.name if ticket.agency else None
    transition(session, ticket, "return", actor, now, reason=reason, detail={"agency": agency})
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
    _check(STEPS["correct"], ticket, actor)
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
