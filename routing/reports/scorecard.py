"""办理质效: the figures leadership watches, per agency and period.

For a period ``[start, end)`` and, optionally, one agency, each agency's row says:

- **派单 assigned** — tickets whose current assignment (派单, 转办 or 重新办理)
  to the agency falls in the period. A ticket belongs to the round it is in
  now: reopening or transferring it moves it to the new round's period (and
  agency); a ticket returned (退回) and not yet assigned again is in no one's
  cohort, only in the returning agency's returns. The on-time figures below
  are about these tickets.
- **按时签收 accepted on time** — accepted no later than the accept deadline.
  Late: accepted after it, or still not accepted (待签收) at ``now`` with the
  deadline behind it. A ticket not yet accepted whose deadline is still ahead
  is undecided and left out of the rate, as are tickets without deadlines
  (merged, invalid). Rate = on time / (on time + late).
- **按时答复 answered on time** — answered no later than the answer deadline
  (as extended by an approved 延期 and moved on by a pause). Late: answered
  after it, or still unanswered with the deadline behind it — at ``now``, or,
  for a ticket waiting on the resident (待群众补充, the clock stopped), at the
  moment the clock stopped. Undecided tickets are left out, as above.
- **满意率 satisfaction / 解决率 solved** — of the judgements of the agency's
  answers in the period: residents' ratings (群众评价 events; 满意 and 基本满意
  count as satisfied and solved) beside the callbacks that reached them (回访:
  what they said); see ``figures``. Ratings are counted from the events
  because 不满意 reopens the ticket and clears its rating.
- **平均办理时长 average handling time** — from assignment to answer, over the
  cohort's answered tickets: in hours, and in working days on the city's
  calendar (working days in (day assigned, day answered], as deadlines count).
- **退回 returns / 转办 transfers** — the agency's returns in the period, and
  the tickets a dispatcher moved away from it in the period.
- **派单争议 disputes** — the agency's disputes of an assignment (申请派单争议)
  in the period; **争议成立 upheld** and **争议不成立 rejected** — the rulings
  on its disputes given in the period. An upheld dispute sends the ticket on
  (转办), so it counts among the transfers too.
- **退单率 return rate** — (returns + disputes) / (assigned + returns +
  upheld disputes): of what the agency was given, how much it pushed back. A
  return or an upheld dispute takes the ticket out of the agency's cohort, so
  the denominator counts those back in; a rejected dispute's ticket is still
  in the cohort. It stays within 0–100 % over a period whose tickets were
  assigned and pushed back within it.
- **重办 redos / 重办率 redo rate** — the agency's tickets sent back to it
  in the period because the resident or deputy was not satisfied (重办, a
  dispatcher's own reopening is none), per answer it gave in the period
  (答复 events): redos / answers.
- **当前超期 currently overdue** — at ``now``, whatever the period
  (routing.overdue).

All figures come from SQL aggregates (GROUP BY agency), never a loop over
tickets: a scorecard on a million tickets reads only the period's rows,
through the indexes of migration 0004 (bench/million_tickets.py measures it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, cast, func, or_, select, text
from sqlalchemy.orm import Session

from routing.flow.calendar import WorkCalendar
from routing.flow.deadlines import load_calendar
from routing.reports import figures
from routing.reports.overdue import answer_clock, at, overdue_condition
from routing.store.people import Agency
from routing.store.tickets import Status, Ticket, TicketEvent

SATISFIED = ("satisfied", "basically_satisfied")


@dataclass
class AgencyScore:
    """One agency's figures for a period (counts and sums; rates derive from them)."""

    agency_id: int | None
    agency: str
    assigned: int = 0
    accepted_on_time: int = 0
    accepted_late: int = 0
    answered_on_time: int = 0
    answered_late: int = 0
    answered: int = 0
    handling_hours: float = 0.0  # summed over the answered tickets
    handling_working_days: int = 0  # summed likewise
    rated: int = 0
    satisfied: int = 0  # 满意 + 基本满意
    returns: int = 0
    transfers: int = 0
    disputes: int = 0
    disputes_upheld: int = 0
    disputes_rejected: int = 0
    answers: int = 0  # 答复 events: every answer given, a redone ticket's each time
    redos: int = 0
    callbacks_reached: int = 0  # 回访 that reached the resident (see ``figures``)
    callbacks_solved: int = 0
    callbacks_satisfied: int = 0
    overdue: int = 0

    # The rates are defined once, in ``figures``.
    @property
    def accept_rate(self) -> float | None:
        return figures.ACCEPT_RATE.of(self)

    @property
    def answer_rate(self) -> float | None:
        return figures.ANSWER_RATE.of(self)

    @property
    def solved_rate(self) -> float | None:
        return figures.SOLVED_RATE.of(self)

    @property
    def satisfaction_rate(self) -> float | None:
        return figures.SATISFACTION_RATE.of(self)

    @property
    def return_rate(self) -> float | None:
        return figures.RETURN_RATE.of(self)

    @property
    def redo_rate(self) -> float | None:
        return figures.REDO_RATE.of(self)

    @property
    def dispute_upheld_rate(self) -> float | None:
        return figures.DISPUTE_UPHELD_RATE.of(self)

    @property
    def average_handling_hours(self) -> float | None:
        return self.handling_hours / self.answered if self.answered else None

    @property
    def average_handling_working_days(self) -> float | None:
        return self.handling_working_days / self.answered if self.answered else None


def total(scores: list[AgencyScore]) -> AgencyScore:
    """合计: the sum of the rows; its rates are over all their tickets."""
    summed = AgencyScore(agency_id=None, agency="合计")
    for f in fields(AgencyScore):
        if f.name not in ("agency_id", "agency"):
            setattr(summed, f.name, sum(getattr(score, f.name) for score in scores))
    return summed


@dataclass
class Scorecard:
    start: datetime
    end: datetime
    now: datetime
    rows: list[AgencyScore] = field(default_factory=list)

    @property
    def total(self) -> AgencyScore:
        return total(self.rows)


def scorecard(
    session: Session,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    agency_id: int | None = None,
    district_id: int | None = None,
) -> Scorecard:
    """The figures of every agency (or one) for tickets assigned in ``[start, end)``,
    judged at ``now``; with ``district_id``, only the tickets of that district.
    See the module's docstring for what each figure means."""
    query = select(Agency.id, Agency.name, Agency.active).order_by(Agency.id)
    if agency_id is not None:
        query = query.where(Agency.id == agency_id)
    agencies = session.execute(query).all()
    # Naming the agencies, even all of them, lets PostgreSQL read one index
    # range per agency on (agency_id, assigned_at): a few dozen short ranges
    # beat a scan of the whole period's index, and no index on assigned_at alone is needed.
    ids = [id_ for id_, _, _ in agencies]
    scores = {id_: AgencyScore(agency_id=id_, agency=name) for id_, name, _ in agencies}
    with_figures: set[int] = set()

    def row(agency: int) -> AgencyScore:
        with_figures.add(agency)
        return scores[agency]

    place = [] if district_id is None else [Ticket.district_id == district_id]
    with _without_jit(session):
        _add_cohort(session, row, start, end, now, ids, place)
        _add_working_days(session, row, start, end, ids, place)
        _add_events(session, row, start, end, ids, place)
        figures.add_callbacks(session, row, start, end, ids, place)
        _add_overdue(session, row, now, ids, place)
    # Every active agency, and an inactive one only if it has figures.
    rows = [scores[id_] for id_, _, active in agencies if active or id_ in with_figures or id_ == agency_id]
    return Scorecard(start, end, now, rows)


@contextmanager
def _without_jit(session: Session) -> Iterator[None]:
    """PostgreSQL compiles a query it estimates costly (JIT); for a quarter's
    aggregates compiling took longer than it saved (bench/million_tickets.py:
    about 0.2 s of 0.8). Off for these queries only, then as it was."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    previous = session.scalar(text("SELECT current_setting('jit')"))
    session.execute(text("SELECT set_config('jit', 'off', true)"))
    try:
        yield
    finally:
        session.execute(text("SELECT set_config('jit', :previous, true)"), {"previous": previous})


def _cohort(
    start: datetime, end: datetime, ids: list[int], place: list[ColumnElement[bool]]
) -> list[ColumnElement[bool]]:
    return [Ticket.agency_id.in_(ids), Ticket.assigned_at >= at(start), Ticket.assigned_at < at(end), *place]


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count().filter(condition)


def _handled() -> ColumnElement[bool]:
    # A merged ticket carries the answer of the one it joined, not its own work.
    return and_(Ticket.answered_at.is_not(None), Ticket.status != Status.MERGED)


def _hours(session: Session, begin: Any, finish: Any) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(finish) - func.julianday(begin)) * 24.0
    return cast(func.extract("epoch", finish - begin), Float) / 3600.0


def _add_cohort(session, row, start, end, now, ids, place) -> None:
    still_assigned = Ticket.status == Status.ASSIGNED
    unanswered = Ticket.status.in_((Status.ASSIGNED, Status.ACCEPTED, Status.WAITING))
    query = (
        select(
            Ticket.agency_id,
            func.count(),
            _count(Ticket.accepted_at <= Ticket.accept_by),
            _count(or_(Ticket.accepted_at > Ticket.accept_by, and_(still_assigned, Ticket.accept_by < at(now)))),
            _count(and_(_handled(), Ticket.answered_at <= Ticket.answer_by)),
            _count(
                or_(
                    and_(_handled(), Ticket.answered_at > Ticket.answer_by),
                    and_(unanswered, Ticket.answer_by < answer_clock(now)),
                )
            ),
            _count(_handled()),
            func.sum(_hours(session, Ticket.assigned_at, Ticket.answered_at)).filter(_handled()),
        )
        .where(*_cohort(start, end, ids, place))
        .group_by(Ticket.agency_id)
    )
    for agency, n, acc_ok, acc_late, ans_ok, ans_late, answered, hours in session.execute(query):
        score = row(agency)
        score.assigned, score.accepted_on_time, score.accepted_late = n, acc_ok, acc_late
        score.answered_on_time, score.answered_late, score.answered = ans_ok, ans_late, answered
        score.handling_hours = float(hours or 0.0)


def _add_working_days(session, row, start, end, ids, place) -> None:
    """Σ working days from assignment to answer, without a row per ticket:
    with W(d) the working days up to day d, Σ (W(answered) − W(assigned)) is
    Σ count × W over the answer days minus the same over the assignment days."""
    sums: dict[int, list[tuple[date, int, int]]] = defaultdict(list)  # agency → (day, count, sign)
    for column, sign in ((Ticket.answered_at, 1), (Ticket.assigned_at, -1)):
        day = func.date(column)
        query = (
            select(Ticket.agency_id, day, func.count())
            .where(*_cohort(start, end, ids, place), _handled())
            .group_by(Ticket.agency_id, day)
        )
        for agency, value, n in session.execute(query):
            sums[agency].append((_as_date(value), n, sign))
    days = {d for entries in sums.values() for d, _, _ in entries}
    if not days:
        return
    index = _working_day_index(load_calendar(session), min(days), max(days))
    for agency, entries in sums.items():
        row(agency).handling_working_days = sum(sign * n * index[d] for d, n, sign in entries)


def _as_date(value: Any) -> date:
    # PostgreSQL gives a date, SQLite the text of one.
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _working_day_index(calendar: WorkCalendar, first: date, last: date) -> dict[date, int]:
    """W(d): working days in (first, d], for every day from first to last."""
    index, count, day = {}, 0, first
    while day <= last:
        if day > first:
            count += calendar.is_workday(day)
        index[day] = count
        day += timedelta(days=1)
    return index


# Events counted per agency: the figure each action adds to.
EVENT_FIGURES = {
    "return": "returns",
    "reassign": "transfers",
    "dispute": "disputes",
    "uphold_dispute": "disputes_upheld",
    "reject_dispute": "disputes_rejected",
    "rate": "rated",
    "answer": "answers",
}
# A reopening is a redo when the rating made it so (``flow.redo``).
REDO_ACTION = "reopen"


def _add_events(session, row, start, end, ids, place) -> None:
    rating = TicketEvent.detail["rating"].as_string()
    is_redo = and_(TicketEvent.action == REDO_ACTION, TicketEvent.detail["redo"].as_integer().is_not(None))
    query = (
        select(
            TicketEvent.agency_id,
            *(_count(TicketEvent.action == action) for action in EVENT_FIGURES),
            _count(and_(TicketEvent.action == "rate", rating.in_(SATISFIED))),
            _count(is_redo),
        )
        .where(
            TicketEvent.action.in_((*EVENT_FIGURES, REDO_ACTION)),
            TicketEvent.at >= at(start),
            TicketEvent.at < at(end),
            TicketEvent.agency_id.in_(ids),
        )
        .group_by(TicketEvent.agency_id)
    )
    if place:
        # Only then: the join costs a lookup per event, and a city's scorecard needs none.
        query = query.join(Ticket, Ticket.id == TicketEvent.ticket_id).where(*place)
    for agency, *counts, satisfied, redos in session.execute(query):
        score = row(agency)
        for figure, n in zip(EVENT_FIGURES.values(), counts, strict=True):
            setattr(score, figure, n)
        score.satisfied, score.redos = satisfied, redos


def _add_overdue(session, row, now, ids, place) -> None:
    query = (
        select(Ticket.agency_id, func.count())
        .where(overdue_condition(now), Ticket.agency_id.in_(ids), *place)
        .group_by(Ticket.agency_id)
    )
    for agency, n in session.execute(query):
        row(agency).overdue = n


# -- periods -----------------------------------------------------------------


def month_of(day: date) -> tuple[datetime, datetime]:
    """本月: the calendar month around ``day``, as [start, end)."""
    start = datetime(day.year, day.month, 1)
    return start, _add_months(start, 1)


def previous_month(day: date) -> tuple[datetime, datetime]:
    """上月."""
    start, _ = month_of(day)
    return _add_months(start, -1), start


def quarter_of(day: date) -> tuple[datetime, datetime]:
    """本季度."""
    start = datetime(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return start, _add_months(start, 3)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1)
