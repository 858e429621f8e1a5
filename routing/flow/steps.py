"""The workflow's steps (办理步骤), enforced in one place.

Every change of a ticket's state goes through ``transition``: it checks that
the step is allowed from the current state and that the actor may take it,
and writes the event on the ticket's timeline (``record``). Callers never set
``ticket.status`` themselves. What does not change the ticket — a notice
sent — is a ``note`` on the timeline, which leaves the ticket's version alone.
The steps themselves are in ``workflow``, ``ratings``, ``suggestions``,
``disputes``, ``redo``, ``answers``, ``knowledge`` and ``callbacks``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.dispatch.rules import OPEN
from routing.store.deputies import DeputySubmission
from routing.store.jobs import enqueue
from routing.store.people import Agency, Role, User
from routing.store.tickets import Status, Ticket, TicketEvent
from routing.texts import N_, DomainError, Label

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
# A redo's round: back with the agency (待签收, 办理中, 待补充), or answered again.
REDO_ROUND = (Status.ASSIGNED, *IN_HAND, Status.ANSWERED)
STEPS = {
    step.name: step
    for step in (
        Step("triage", N_("转人工分拣"), UNROUTED, Status.TRIAGE, (None,)),
        Step("assign", N_("派单"), UNROUTED, Status.ASSIGNED, (None, *DISPATCH)),
        # From 争议待裁定 too: an upheld dispute sends the ticket on (see ``disputes``).
        Step("reassign", N_("转办"), (Status.ASSIGNED, Status.DISPUTED, *IN_HAND), Status.ASSIGNED, DISPATCH),
        Step("accept", N_("签收"), (Status.ASSIGNED,), Status.ACCEPTED, AGENCY),
        Step("ask_resident", N_("请群众补充"), (Status.ACCEPTED,), Status.WAITING, AGENCY),
        Step("resume", N_("补充完毕"), (Status.WAITING,), Status.ACCEPTED, (None, *AGENCY, *DISPATCH)),
        Step("answer", N_("答复"), (Status.ACCEPTED,), Status.ANSWERED, AGENCY),
        # 审核办结 (``answers``): where a review rule applies the answer waits for the centre.
        Step("submit_answer", N_("提交审核"), (Status.ACCEPTED,), Status.REVIEWING, AGENCY),
        Step("approve_answer", N_("审核通过"), (Status.REVIEWING,), Status.ANSWERED, DISPATCH),
        Step("send_back_answer", N_("审核退回"), (Status.REVIEWING,), Status.ACCEPTED, DISPATCH),
        # 知识库 (``knowledge``): a consultation the knowledge base answers, with no agency.
        Step("answer_from_article", N_("按知识库答复"), UNROUTED, Status.ANSWERED, DISPATCH),
        Step("return", N_("退回"), (Status.ASSIGNED, *IN_HAND), Status.TRIAGE, AGENCY),
        # 派单争议 (``disputes``): instead of accepting; the dispatcher centre rules.
        Step("dispute", N_("申请派单争议"), (Status.ASSIGNED,), Status.DISPUTED, AGENCY),
        Step("uphold_dispute", N_("争议成立"), (Status.DISPUTED,), None, DISPATCH),
        Step("reject_dispute", N_("争议不成立"), (Status.DISPUTED,), Status.ASSIGNED, DISPATCH),
        Step("request_extension", N_("申请延期"), IN_HAND, None, AGENCY),
        Step("consult", N_("面商"), IN_HAND, None, AGENCY),
        Step("approve_extension", N_("批准延期"), IN_HAND, None, DISPATCH),
        Step("refuse_extension", N_("不予延期"), IN_HAND, None, DISPATCH),
        Step("rate", N_("群众评价"), ANSWER_STANDS, None, (None,)),
        Step("deputy_rate", N_("代表评价"), ANSWER_STANDS, None, (Role.DEPUTY,)),
        Step("close", N_("办结"), ANSWER_STANDS, Status.CLOSED, (None, *DISPATCH)),
        # 回访 (``callbacks``): a try to reach the resident; also once the ticket closed.
        Step("callback", N_("回访"), (*ANSWER_STANDS, Status.CLOSED), None, DISPATCH),
        Step("reopen", N_("重新办理"), (Status.ANSWERED, Status.CLOSED), Status.ASSIGNED, (None, *DISPATCH)),
        # 重办 (``redo``): after REDO_ESCALATION unsatisfied redos the dispatcher
        # centre decides, wherever the agency's new round stands.
        Step("close_exhausted", N_("已尽力办结"), REDO_ROUND, Status.CLOSED, DISPATCH),
        Step("continue_redo", N_("继续重办"), REDO_ROUND, None, DISPATCH),
        Step("merge", N_("合并"), OPEN, Status.MERGED, DISPATCH),
        # Not satisfied with the answer a merged ticket got: it is handled on its own again.
        Step("unmerge", N_("移出合并"), (Status.MERGED,), Status.ANSWERED, (None,)),
        Step("invalidate", N_("标记无效"), (*UNROUTED, Status.ASSIGNED, Status.DISPUTED), Status.INVALID, DISPATCH),
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


def check_step(step: Step, ticket: Ticket, actor: User | None) -> None:
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
    check_step(step, ticket, actor)
    before = ticket.status
    if step.target is not None:
        ticket.status = step.target
    return record(session, ticket, name, actor, now, from_status=before, reason=reason, detail=detail)


def required_text(text: str | None, what: str) -> str:
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


def answer_stands(step: Step, ticket: Ticket) -> None:
    """A merged ticket may be rated or closed only once the answer reached it."""
    if ticket.status is Status.MERGED and not awaiting_rating(ticket):
        raise WorkflowError(
            N_("工单当前状态为“%(status)s”，不能%(step)s。"), status=Label(ticket.status.label), step=Label(step.label)
        )
