"""Rating an answer (评价): the resident's and the deputy's. Satisfied closes
the ticket; unsatisfied sends it back to the agency that answered, also for
a ticket that was merged into the one answered — a redo (重办, see ``redo``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from routing.flow.redo import REDO_ESCALATION, redo
from routing.flow.steps import STEPS, WorkflowError, answer_stands, check_step, handled_with, required_text, transition
from routing.flow.workflow import close
from routing.store.people import User
from routing.store.tickets import Kind, Status, Ticket
from routing.texts import N_

# 满意度: what a resident may say of an answer.
RATINGS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}


def rate(
    session: Session, ticket: Ticket, now: datetime, rating: str, comment: str | None = None, *,
    redo_escalation: int = REDO_ESCALATION,
) -> None:
    """The resident rates the answer: 满意 or 基本满意 closes the ticket;
    不满意 sends it back to the agency that answered, with new deadlines —
    for a merged ticket, out of the merge (see ``_rated``) — as a redo, put
    before the centre from the ``redo_escalation``-th on."""
    if rating not in RATINGS:
        raise WorkflowError(N_("请选择“满意”“基本满意”或“不满意”。"))
    comment = (comment or "").strip()[:500] or None
    _rated(session, ticket, "rate", None, now, rating, comment)
    if rating == "unsatisfied":
        redo(session, ticket, now, "群众不满意" + (f"：{comment}" if comment else ""), escalation=redo_escalation)
    else:
        close(session, ticket, None, now, reason=f"群众评价：{RATINGS[rating]}")


# A deputy not satisfied with the answer to a suggestion: handled again, answered within a month.
DEPUTY_REOPEN_MONTHS = 1


def rate_by_deputy(
    session: Session, ticket: Ticket, actor: User, now: datetime, rating: str, reason: str | None = None, *,
    redo_escalation: int = REDO_ESCALATION,
) -> None:
    """代表评价: the deputy rates the answer to their suggestion. 满意 or 基本满意
    closes it; 不满意 (with a reason) sends it back to the agency that
    answered (for a merged suggestion, out of the merge), to be answered
    again within one month, as a redo. The caller checks that it is the deputy's own."""
    if ticket.kind is not Kind.DEPUTY_SUGGESTION:
        raise WorkflowError(N_("代表评价只用于代表建议。"))
    if rating not in RATINGS:
        raise WorkflowError(N_("请选择“满意”“基本满意”或“不满意”。"))
    reason = (reason or "").strip()[:500] or None
    if rating == "unsatisfied":
        reason = required_text(reason, N_("不满意的理由"))
    _rated(session, ticket, "deputy_rate", actor, now, rating, reason)
    if rating == "unsatisfied":
        redo(session, ticket, now, f"代表不满意：{reason}", escalation=redo_escalation, months=DEPUTY_REOPEN_MONTHS)
    else:
        close(session, ticket, None, now, reason=f"代表评价：{RATINGS[rating]}")


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
    check_step(step, ticket, actor)
    answer_stands(step, ticket)
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
