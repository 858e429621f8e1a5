"""Deputies' suggestions (代表建议): the agency's consultations with the deputy
(面商) and the grade its answer gives the suggestion.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from routing.flow.steps import WorkflowError, required_text, transition
from routing.store.people import User
from routing.store.tickets import Kind, Ticket, TicketEvent
from routing.texts import N_

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
    note = required_text(note, N_("面商情况"))
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
