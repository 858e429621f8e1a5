"""Deadlines (时限): when a ticket must be accepted and answered.

A policy per kind and urgency gives working days; the calendar turns them into
times on the Chinese calendar, holidays and make-up working days included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .calendar import WorkCalendar
from .models import CalendarOverride, DeadlinePolicy, Kind, Urgency

# Published practice, used when no policy is configured for a kind:
# Guangdong 12345 — consultation 2 working days, help or suggestion 10,
# complaint or report 15; Beijing — emergencies 2 hours; a deputy's
# suggestion 3 months (≈ 60 working days).
DEFAULT_POLICIES: dict[tuple[Kind, Urgency], tuple[int, int, int | None]] = {
    (Kind.CONSULTATION, Urgency.NORMAL): (1, 2, None),
    (Kind.HELP, Urgency.NORMAL): (1, 10, None),
    (Kind.SUGGESTION, Urgency.NORMAL): (1, 10, None),
    (Kind.COMPLAINT, Urgency.NORMAL): (1, 15, None),
    (Kind.DEPUTY_SUGGESTION, Urgency.NORMAL): (3, 60, None),
}
URGENT_DEFAULT = (0, 0, 2)


@dataclass(frozen=True)
class Deadlines:
    accept_by: datetime
    answer_by: datetime


def load_calendar(session: Session) -> WorkCalendar:
    """The calendar with the administrator's overrides (e.g. 2027's holidays)."""
    rows = session.execute(select(CalendarOverride.day, CalendarOverride.is_workday)).all()
    return _calendar_for(tuple(sorted(rows)))


_calendars: dict[tuple, WorkCalendar] = {}


def _calendar_for(overrides: tuple) -> WorkCalendar:
    # One calendar per set of overrides, so its per-day cache is kept between tickets.
    calendar = _calendars.get(overrides)
    if calendar is None:
        if len(_calendars) > 8:
            _calendars.clear()
        calendar = _calendars[overrides] = WorkCalendar(dict(overrides))
    return calendar


def policy_for(session: Session, kind: Kind, urgency: Urgency) -> tuple[int, int, int | None]:
    policy = session.execute(
        select(DeadlinePolicy).where(DeadlinePolicy.kind == kind, DeadlinePolicy.urgency == urgency)
    ).scalar_one_or_none()
    if policy is not None:
        return policy.accept_days, policy.answer_days, policy.answer_hours
    if urgency is Urgency.URGENT:
        return URGENT_DEFAULT
    return DEFAULT_POLICIES[(kind, Urgency.NORMAL)]


def compute_deadlines(session: Session, kind: Kind, urgency: Urgency, start: datetime) -> Deadlines:
    calendar = load_calendar(session)
    accept_days, answer_days, answer_hours = policy_for(session, kind, urgency)
    if answer_hours:
        # Emergencies run on the clock, not on working days: danger keeps no office hours.
        answer_by = start + timedelta(hours=answer_hours)
        accept_by = min(answer_by, start + timedelta(hours=1))
        return Deadlines(accept_by, answer_by)
    return Deadlines(
        accept_by=calendar.add_working_days(start, accept_days),
        answer_by=calendar.add_working_days(start, answer_days),
    )


def set_calendar_days(session: Session, days: list[date], *, is_workday: bool, note: str = "") -> int:
    """Enter holidays (放假) or make-up working days (调休上班) for a year the
    package does not know; entering a day again replaces what it was. The
    caller commits. Returns how many days were entered."""
    for day in days:
        row = session.scalar(select(CalendarOverride).where(CalendarOverride.day == day))
        if row is None:
            row = CalendarOverride(day=day)
            session.add(row)
        row.is_workday = is_workday
        row.note = note[:64]
    session.flush()
    return len(days)


def calendar_entries(session: Session, year: int) -> list[CalendarOverride]:
    return list(
        session.scalars(
            select(CalendarOverride)
            .where(CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31))
            .order_by(CalendarOverride.day)
        )
    )
