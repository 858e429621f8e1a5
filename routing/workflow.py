"""The ticket workflow (办理流程), enforced in one place.

Every change of a ticket's state goes through ``transition``: it checks that
the step is allowed from the current state and that the actor may take it,
and writes the event on the ticket's timeline. Callers never set
``ticket.status`` themselves.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .deadlines import compute_deadlines
from .jobs import enqueue
from .models import Agency, Correction, Role, Status, Ticket, TicketEvent, User
from .rules import choose_rule

SYSTEM = "系统"


class WorkflowError(Exception):
    """A step that is not allowed; the message tells the person why, in Chinese."""


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

STEPS = {
    step.name: step
    for step in (
        Step("triage", "转人工分拣", (Status.TRIAGE,), Status.TRIAGE, (None,)),
        Step("assign", "派单", (Status.TRIAGE,), Status.ASSIGNED, (None, *DISPATCH)),
        Step("reassign", "改派", (Status.ASSIGNED, Status.ACCEPTED), Status.ASSIGNED, DISPATCH),
        Step("accept", "签收", (Status.ASSIGNED,), Status.ACCEPTED, (Role.AGENCY,)),
        Step("answer", "答复", (Status.ACCEPTED,), Status.ANSWERED, (Role.AGENCY,)),
        Step("return", "退回", (Status.ASSIGNED, Status.ACCEPTED), Status.TRIAGE, (Role.AGENCY,)),
        Step(
            "correct",
            "更正分类",
            (Status.TRIAGE, Status.ASSIGNED, Status.ACCEPTED),
            None,
            DISPATCH,
        ),
    )
}


def actor_label(actor: User | None) -> str:
    return actor.label if actor is not None else SYSTEM


def can_see(actor: User, ticket: Ticket) -> bool:
    """Staff see tickets by role: an agency only its own."""
    if actor.role in DISPATCH:
        return True
    if actor.role is Role.AGENCY:
        return actor.agency_id is not None and ticket.agency_id == actor.agency_id
    return False


def _check(step: Step, ticket: Ticket, actor: User | None) -> None:
    role = actor.role if actor is not None else None
    if role not in step.roles:
        raise PermissionDenied(f"您的角色不能执行“{step.label}”。")
    if role is Role.AGENCY and (actor.agency_id is None or ticket.agency_id != actor.agency_id):
        raise PermissionDenied("这张工单不属于您的单位。")
    if ticket.status not in step.sources:
        raise WorkflowError(f"工单当前状态为“{ticket.status.label}”，不能{step.label}。")


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
    event = TicketEvent(
        at=now,
        actor_id=actor.id if actor is not None else None,
        actor=actor_label(actor),
        action=action,
        from_status=from_status.value if from_status else None,
        to_status=ticket.status.value,
        reason=reason,
        detail=detail,
    )
    ticket.events.append(event)
    ticket.updated_at = now
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
        raise WorkflowError(f"请填写{what}。")
    return text


def notify_resident(session: Session, ticket: Ticket, action: str, now: datetime) -> None:
    """Tell the resident, through the outbox: the job is stored with the
    change, so a channel that is down delays the news and never loses it."""
    session.flush()
    enqueue(session, "notify.resident", {"ticket_id": ticket.id, "action": action}, now)


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
        raise WorkflowError(f"{agency.name}已停用，不能派单。")
    name = "assign" if ticket.status is Status.TRIAGE else "reassign"
    _check(STEPS[name], ticket, actor)
    ticket.agency = agency
    ticket.agency_id = agency.id
    ticket.assigned_at = now
    deadlines = compute_deadlines(session, ticket.kind, ticket.urgency, now)
    ticket.accept_by, ticket.answer_by = deadlines.accept_by, deadlines.answer_by
    ticket.accepted_at = None
    transition(
        session,
        ticket,
        name,
        actor,
        now,
        reason=reason,
        detail={
            "agency": agency.name,
            "accept_by": ticket.accept_by.isoformat(),
            "answer_by": ticket.answer_by.isoformat(),
            **(detail or {}),
        },
    )


def route(session: Session, ticket: Ticket, now: datetime, *, actor: User | None = None) -> bool:
    """Apply the routing rules; without a rule the ticket waits for a dispatcher.

    Returns whether the ticket was assigned.
    """
    district_id = ticket.district_id
    rule = choose_rule(session, topic=ticket.topic, subtopic=ticket.subtopic, district_id=district_id)
    if rule is None:
        transition(session, ticket, "triage", None, now, reason="没有适用的派单规则")
        return False
    assign(session, ticket, rule.agency, actor, now, detail={"rule": rule.id})
    return True


def accept(session: Session, ticket: Ticket, actor: User, now: datetime) -> None:
    """签收: the agency takes the ticket on."""
    ticket.accepted_at = now
    transition(session, ticket, "accept", actor, now)
    notify_resident(session, ticket, "accept", now)


def answer(session: Session, ticket: Ticket, actor: User, now: datetime, text: str) -> None:
    """答复: the agency's answer, which the resident will read."""
    text = _required(text, "答复内容")
    transition(session, ticket, "answer", actor, now, detail={"answer": text})
    ticket.answer = text
    ticket.answered_at = now
    notify_resident(session, ticket, "answer", now)


def return_ticket(session: Session, ticket: Ticket, actor: User, now: datetime, reason: str) -> None:
    """退回: not this agency's matter; back to the dispatcher, with a reason."""
    reason = _required(reason, "退回理由")
    agency = ticket.agency.name if ticket.agency else None
    transition(session, ticket, "return", actor, now, reason=reason, detail={"agency": agency})
    ticket.agency_id = None
    ticket.agency = None
    ticket.accept_by = ticket.answer_by = ticket.accepted_at = None


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
        raise WorkflowError("没有需要更正的内容。")
    transition(session, ticket, "correct", actor, now, reason=reason, detail=changes)
    if agency is None and "topic" in changes:
        rule = choose_rule(session, topic=ticket.topic, subtopic=ticket.subtopic, district_id=ticket.district_id)
        agency = rule.agency if rule is not None else None
    if agency is not None and agency.id != ticket.agency_id:
        assign(session, ticket, agency, actor, now, reason=reason)
