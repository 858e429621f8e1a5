"""The figures leadership uses (考核指标), each defined once: its name, its
formula as the README and the staff guide print it, and the counts it is a
share of. The counts are SQL aggregates over a period (GROUP BY agency):
those of ``scorecard`` and, here, the callbacks' (回访). Scorecards, their
exports and the monthly report read every rate from ``FIGURES``; the docs'
table is ``formula_table()`` (a test keeps them the same).

A callback's outcome counts beside the resident's own rating: each is one
judgement (评判) of the answer, so 解决率 and 满意率 are over both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from routing.reports.overdue import at
from routing.store.callbacks import Callback
from routing.store.tickets import Ticket
from routing.texts import N_


@dataclass(frozen=True)
class Figure:
    """One rate: ``numerator`` and ``denominator`` name counts of a scorecard row, summed."""

    key: str
    name: str  # Chinese, marked for translation
    formula: str  # as printed in the docs; marked for translation too
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]

    def of(self, score: Any) -> float | None:
        whole = sum(getattr(score, count) for count in self.denominator)
        return sum(getattr(score, count) for count in self.numerator) / whole if whole else None


ACCEPT_RATE = Figure(
    "accept_rate",
    N_("响应率"),
    N_("按时签收 / (按时签收 + 超时签收)"),
    ("accepted_on_time",),
    ("accepted_on_time", "accepted_late"),
)
ANSWER_RATE = Figure(
    "answer_rate",
    N_("按时答复率"),
    N_("按时答复 / (按时答复 + 超时答复)"),
    ("answered_on_time",),
    ("answered_on_time", "answered_late"),
)
SOLVED_RATE = Figure(
    "solved_rate",
    N_("解决率"),
    N_("(回访已解决 + 评价满意及基本满意) / (回访联系上 + 评价数)"),
    ("callbacks_solved", "satisfied"),
    ("callbacks_reached", "rated"),
)
SATISFACTION_RATE = Figure(
    "satisfaction_rate",
    N_("满意率"),
    N_("(回访满意 + 评价满意及基本满意) / (回访联系上 + 评价数)"),
    ("callbacks_satisfied", "satisfied"),
    ("callbacks_reached", "rated"),
)
REDO_RATE = Figure("redo_rate", N_("重办率"), N_("重办 / 答复次数"), ("redos",), ("answers",))
RETURN_RATE = Figure(
    "return_rate",
    N_("退单率"),
    N_("(退回 + 派单争议) / (派单 + 退回 + 争议成立)"),
    ("returns", "disputes"),
    ("assigned", "returns", "disputes_upheld"),
)
DISPUTE_UPHELD_RATE = Figure(
    "dispute_upheld_rate",
    N_("争议成立率"),
    N_("争议成立 / (争议成立 + 争议不成立)"),
    ("disputes_upheld",),
    ("disputes_upheld", "disputes_rejected"),
)
FIGURES = (ACCEPT_RATE, ANSWER_RATE, SOLVED_RATE, SATISFACTION_RATE, REDO_RATE, RETURN_RATE, DISPUTE_UPHELD_RATE)

# What each count of a formula is, for the docs' table.
COUNTS = {
    "按时签收": "accepted no later than the accept deadline (of the tickets assigned in the period)",
    "超时签收": "accepted after it, or not accepted with the deadline behind",
    "按时答复": "answered no later than the answer deadline (as extended, as paused)",
    "超时答复": "answered after it, or unanswered with the deadline behind",
    "回访联系上": "callbacks (回访) done in the period that reached the resident",
    "回访已解决": "of those, the resident said the matter is solved",
    "回访满意": "of those, the resident said they are satisfied",
    "评价数": "residents' ratings (群众评价) given in the period",
    "评价满意及基本满意": "of those, 满意 or 基本满意",
    "重办": "tickets sent back to the agency in the period because the resident or deputy was not satisfied",
    "答复次数": "answers the agency gave in the period, a redone ticket's each time",
    "退回": "the agency's returns (退回) in the period",
    "派单争议": "the agency's disputes of an assignment in the period",
    "派单": "tickets whose current assignment to the agency falls in the period",
    "争议成立": "rulings in the period that upheld the agency's dispute",
    "争议不成立": "rulings in the period that rejected it",
}


def formula_table() -> str:
    """The figures as the docs print them (Markdown)."""
    lines = ["| figure | formula |", "| --- | --- |"]
    lines += [f"| {figure.name} (`{figure.key}`) | {figure.formula} |" for figure in FIGURES]
    return "\n".join(lines)


def add_callbacks(
    session: Session,
    row: Callable[[int], Any],
    start: datetime,
    end: datetime,
    ids: list[int],
    place: list[ColumnElement[bool]],
) -> None:
    """回访 counts per agency: callbacks done in ``[start, end)`` that reached
    the resident, with how many said solved and satisfied; the agency is the
    one whose answer was called back (kept on the callback, so a merged
    ticket's resident counts for the agency that answered). Read from
    ``ix_callback_judged`` alone; a district's figures join the tickets."""
    query = (
        select(
            Callback.agency_id,
            func.count(),
            func.count().filter(Callback.solved.is_(True)),
            func.count().filter(Callback.satisfied.is_(True)),
        )
        .where(
            Callback.reached.is_(True),
            Callback.done_at >= at(start),
            Callback.done_at < at(end),
            Callback.agency_id.in_(ids),
        )
        .group_by(Callback.agency_id)
    )
    if place:
        query = query.join(Ticket, Ticket.id == Callback.ticket_id).where(*place)
    for agency, reached, solved, satisfied in session.execute(query):
        score = row(agency)
        score.callbacks_reached, score.callbacks_solved, score.callbacks_satisfied = reached, solved, satisfied
