"""Assignment disputes (派单争议): against agencies passing a matter back and forth.

Within the accept deadline, instead of accepting, the agency an assignment
names may dispute it (申请派单争议): a reason class (``DISPUTE_REASONS``), the
basis — a regulation or document it rests on — and, if it knows, the agency it
believes responsible. The ticket is then 争议待裁定 (``Status.DISPUTED``): the
agency's deadlines stand still, and the dispatcher centre rules within
``ruling_hours`` working hours (DISPUTE_RULING_HOURS):

- **争议成立 upheld**: the ticket goes to the agency named in the ruling — the
  one the dispute proposed, another, or the district's fallback agency (兜底单位)
  when responsibility stays unclear — with fresh deadlines (转办, through
  ``workflow.assign``). A dispatcher can turn the ruling into a routing rule,
  so the same matter is routed right the next time.
- **争议不成立 rejected**: binding. The ticket goes back to the same agency with
  fresh deadlines, and that agency can no longer return or dispute it
  (首接负责, ``Ticket.dispute_rejected``).

Every step is on the ticket's timeline: who, the reason class, the basis, the
ruling, who ruled and how long the dispute waited (in working hours).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from routing.flow import staff_notices
from routing.flow.deadlines import compute_deadlines, load_calendar
from routing.flow.steps import STEPS, WorkflowError, check_step, required_text, transition
from routing.flow.workflow import assign
from routing.store.people import Agency, User
from routing.store.tickets import Status, Ticket, TicketEvent
from routing.texts import N_

# 争议理由的类别.
DISPUTE_REASONS = {
    "jurisdiction": N_("属地不符"),
    "ownership": N_("权属不清"),
    "overlap": N_("职能交叉"),
    "not_our_duty": N_("非本单位职责"),
}
DEFAULT_RULING_HOURS = 4.0


def may_dispute(ticket: Ticket, now: datetime) -> bool:
    """Whether the agency holding ``ticket`` may still dispute it: not yet
    accepted, within the accept deadline, and no dispute of it rejected."""
    return (
        ticket.status is Status.ASSIGNED
        and not ticket.dispute_rejected
        and (ticket.accept_by is None or now <= ticket.accept_by)
    )


def dispute(
    session: Session,
    ticket: Ticket,
    actor: User,
    now: datetime,
    *,
    reason_class: str,
    basis: str,
    proposed: Agency | None = None,
    ruling_hours: float = DEFAULT_RULING_HOURS,
) -> TicketEvent:
    """申请派单争议: the agency says the assignment is not its to answer, and why."""
    check_step(STEPS["dispute"], ticket, actor)
    if ticket.dispute_rejected:
        raise WorkflowError(N_("分拨中心已裁定派单争议不成立，按首接负责须由本单位办理。"))
    if ticket.accept_by is not None and now > ticket.accept_by:
        raise WorkflowError(
            N_("签收时限（%(due)s）已过，不能再申请派单争议；确非本单位职责的，请联系分拨中心转办。"),
            due=f"{ticket.accept_by:%Y-%m-%d %H:%M}",
        )
    if reason_class not in DISPUTE_REASONS:
        raise WorkflowError(N_("请选择争议理由。"))
    basis = required_text(basis, N_("争议依据"))
    if proposed is not None and (proposed.id == ticket.agency_id or not proposed.active):
        raise WorkflowError(N_("建议的责任单位须是本单位以外、仍在使用的单位。"))
    ruling_by = load_calendar(session).add_working_hours(now, ruling_hours)
    event = transition(
        session, ticket, "dispute", actor, now, reason=basis,
        detail={
            "agency": ticket.agency.name if ticket.agency else None,
            "reason_class": reason_class,
            "reason_label": DISPUTE_REASONS[reason_class],
            "basis": basis,
            "proposed": proposed.name if proposed is not None else None,
            "proposed_id": proposed.id if proposed is not None else None,
            "ruling_by": ruling_by.isoformat(),
        },
    )
    ticket.ruling_by = ruling_by
    return event


def uphold(
    session: Session, ticket: Ticket, actor: User, now: datetime, *, agency: Agency | None, reason: str | None = None
) -> None:
    """争议成立: the ticket goes to ``agency``, with fresh deadlines."""
    check_step(STEPS["uphold_dispute"], ticket, actor)
    if agency is None:
        raise WorkflowError(N_("争议成立须选择改派的单位。"))
    if agency.id == ticket.agency_id:
        raise WorkflowError(N_("争议成立须改派其他单位；仍由原单位办理的，请裁定争议不成立。"))
    fallback = ticket.district is not None and ticket.district.fallback_agency_id == agency.id
    detail = _ruling(session, ticket, now, "upheld") | {"to": agency.name, "to_id": agency.id, "fallback": fallback}
    transition(session, ticket, "uphold_dispute", actor, now, reason=reason, detail=detail)
    assign(session, ticket, agency, actor, now, reason=reason, detail={"dispute": "upheld"})


def reject(session: Session, ticket: Ticket, actor: User, now: datetime, *, reason: str) -> None:
    """争议不成立: back to the same agency, for good (首接负责)."""
    check_step(STEPS["reject_dispute"], ticket, actor)
    reason = required_text(reason, N_("裁定理由"))
    deadlines = compute_deadlines(session, ticket.kind, ticket.urgency, now)
    detail = _ruling(session, ticket, now, "rejected") | {
        "accept_by": deadlines.accept_by.isoformat(), "answer_by": deadlines.answer_by.isoformat(),
    }
    transition(session, ticket, "reject_dispute", actor, now, reason=reason, detail=detail)
    ticket.assigned_at = now
    ticket.accept_by, ticket.answer_by = deadlines.accept_by, deadlines.answer_by
    ticket.ruling_by = None
    ticket.dispute_rejected = True
    staff_notices.ticket_assigned(session, ticket, now)


def _ruling(session: Session, ticket: Ticket, now: datetime, ruling: str) -> dict:
    """What every ruling records: the ruling, the dispute it answers, and how
    long that waited, in working hours (the ruling deadline's own measure)."""
    disputed = last_event(ticket, "dispute")
    since = disputed.at if disputed is not None else now
    waited = load_calendar(session).working_time_between(since, now)
    return {
        "ruling": ruling,
        "agency": ticket.agency.name if ticket.agency else None,
        "reason_class": (disputed.detail or {}).get("reason_class") if disputed is not None else None,
        "disputed_at": since.isoformat(),
        "waited_working_hours": round(waited.total_seconds() / 3600, 2),
        "ruling_by": ticket.ruling_by.isoformat() if ticket.ruling_by else None,
    }


def last_event(ticket: Ticket, action: str) -> TicketEvent | None:
    return next((e for e in reversed(ticket.events) if e.action == action), None)


def upheld_ruling(ticket: Ticket) -> TicketEvent | None:
    """The upheld ruling that sent the ticket to the agency it has now, if that
    is how it got there: what a routing rule can be made from."""
    for event in reversed(ticket.events):
        if event.action == "uphold_dispute":
            return event if (event.detail or {}).get("to_id") == ticket.agency_id else None
        if event.action in ("assign", "reassign", "return", "correct") and (event.detail or {}).get("dispute") != "upheld":
            return None
    return None
