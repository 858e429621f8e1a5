"""Deadlines (时限): when a ticket must be accepted and answered.

A policy per kind and urgency gives working days; the calendar turns them into
times on the Chinese calendar, holidays and make-up working days included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.dispatch.reference import remembered, whole_table
from routing.flow.calendar import CalendarDay, WorkCalendar
from routing.store.audit import audit
from routing.store.configuration import CalendarOverride, DeadlinePolicy
from routing.store.people import User
from routing.store.tickets import Kind, Urgency
from routing.texts import N_, DomainError


class Terms(NamedTuple):
    """A policy's terms: working days to accept, and the answer in working
    days, or in hours on the clock, or in calendar months (0 / None: unused)."""

    accept_days: int
    answer_days: int
    answer_hours: int | None = None
    answer_months: int | None = None


# Published practice, used when no policy is configured for a kind:
# Guangdong 12345 — consultation 2 working days, help or suggestion 10,
# complaint or report 15; Beijing — emergencies 2 hours, no water, power, gas
# or heating 24 hours; a deputy's suggestion within 3 months of assignment
# (six at most, by law).
DEFAULT_POLICIES: dict[tuple[Kind, Urgency], Terms] = {
    (Kind.CONSULTATION, Urgency.NORMAL): Terms(1, 2),
    (Kind.HELP, Urgency.NORMAL): Terms(1, 10),
    (Kind.SUGGESTION, Urgency.NORMAL): Terms(1, 10),
    (Kind.COMPLAINT, Urgency.NORMAL): Terms(1, 15),
    (Kind.DEPUTY_SUGGESTION, Urgency.NORMAL): Terms(3, 0, None, 3),
}
URGENT_DEFAULT = Terms(0, 0, 2)
UTILITY_DEFAULT = Terms(0, 0, 24)
# 代表建议: three months from assignment, six at the most for hard matters.
DEPUTY_MAX_MONTHS = 6


def default_policy(kind: Kind, urgency: Urgency) -> Terms:
    if urgency is Urgency.URGENT:
        return URGENT_DEFAULT
    if urgency is Urgency.UTILITY:
        return UTILITY_DEFAULT
    return DEFAULT_POLICIES[(kind, Urgency.NORMAL)]


@dataclass(frozen=True)
class Deadlines:
    accept_by: datetime
    answer_by: datetime


def load_calendar(session: Session) -> WorkCalendar:
    """The calendar with the administrator's overrides (e.g. 2027's holidays)."""
    def load() -> WorkCalendar:
        rows = session.execute(select(CalendarOverride.day, CalendarOverride.is_workday)).all()
        return _calendar_for(tuple(sorted(rows)))

    return remembered(session, "calendar", load)


_calendars: dict[tuple, WorkCalendar] = {}


def _calendar_for(overrides: tuple) -> WorkCalendar:
    # One calendar per set of overrides, so its per-day cache is kept between tickets.
    calendar = _calendars.get(overrides)
    if calendar is None:
        if len(_calendars) > 8:
            _calendars.clear()
        calendar = _calendars[overrides] = WorkCalendar(dict(overrides))
    return calendar


def policy_for(session: Session, kind: Kind, urgency: Urgency) -> Terms:
    policies = whole_table(
        session, "policies",
        lambda: {(p.kind, p.urgency): terms_of(p) for p in session.scalars(select(DeadlinePolicy))},
    )
    if policies is not None:
        terms = policies.get((kind, urgency))
    else:
        policy = session.execute(
            select(DeadlinePolicy).where(DeadlinePolicy.kind == kind, DeadlinePolicy.urgency == urgency)
        ).scalar_one_or_none()
        terms = terms_of(policy) if policy is not None else None
    return terms if terms is not None else default_policy(kind, urgency)


def terms_of(policy: DeadlinePolicy) -> Terms:
    return Terms(policy.accept_days, policy.answer_days, policy.answer_hours, policy.answer_months)


def add_months(start: datetime, months: int) -> date:
    """The same day ``months`` later; the month's last day where it is shorter."""
    month0 = start.month - 1 + months
    year, month = start.year + month0 // 12, month0 % 12 + 1
    following = date(year + month // 12, month % 12 + 1, 1)
    return date(year, month, min(start.day, (following - timedelta(days=1)).day))


def compute_deadlines(session: Session, kind: Kind, urgency: Urgency, start: datetime) -> Deadlines:
    calendar = load_calendar(session)
    terms = policy_for(session, kind, urgency)
    if terms.answer_hours:
        # Emergencies run on the clock, not on working days: danger keeps no office hours.
        answer_by = start + timedelta(hours=terms.answer_hours)
        accept_by = min(answer_by, start + timedelta(hours=1))
        return Deadlines(accept_by, answer_by)
    accept_by = calendar.add_working_days(start, terms.accept_days)
    if terms.answer_months:
        return Deadlines(accept_by, months_later(calendar, start, terms.answer_months))
    return Deadlines(accept_by, calendar.add_working_days(start, terms.answer_days))


def months_later(calendar: WorkCalendar, start: datetime, months: int) -> datetime:
    """The end of office hours ``months`` after ``start``: a term in months
    that ends on a day off runs to the next working day."""
    last = add_months(start, months)
    if not calendar.is_workday(last):
        last = calendar.next_workday(last)
    return datetime.combine(last, calendar.hours.end)


def deadlines_in_months(session: Session, kind: Kind, urgency: Urgency, start: datetime, months: int) -> Deadlines:
    """The policy's acceptance time with an answer due ``months`` later (a
    deputy's suggestion handled again: within one month)."""
    calendar = load_calendar(session)
    terms = policy_for(session, kind, urgency)
    return Deadlines(calendar.add_working_days(start, terms.accept_days), months_later(calendar, start, months))


class PolicyError(DomainError):
    """Terms that cannot be saved; the message says why, in Chinese."""


def check_terms(kind: Kind, terms: Terms) -> Terms:
    """Validate terms a person entered: whole positive numbers, exactly one way
    of counting the answer, the answer not before the acceptance, a deputy's
    suggestion within six months."""
    accept, days, hours, months = terms.accept_days, terms.answer_days or 0, terms.answer_hours or 0, terms.answer_months or 0
    if min(accept, days, hours, months) < 0:
        raise PolicyError(N_("时限不能是负数。"))
    given = [n for n in (days, hours, months) if n > 0]
    if len(given) != 1:
        raise PolicyError(N_("答复时限请填写且只填写一种：工作日、小时或月。"))
    if days > 365 or hours > 720 or months > 12 or accept > 60:
        raise PolicyError(N_("时限过长，请核对（答复最多 365 个工作日、720 小时或 12 个月，签收最多 60 个工作日）。"))
    if hours and accept:
        raise PolicyError(N_("按小时计算的答复时限须在 1 小时内签收，签收工作日请填 0。"))
    if days and days < accept:
        raise PolicyError(N_("答复时限不能早于签收时限。"))
    # A month holds at least 15 working days, even around the Spring Festival.
    if months and accept > 15 * months:
        raise PolicyError(N_("答复时限不能早于签收时限。"))
    if kind is Kind.DEPUTY_SUGGESTION and (months > DEPUTY_MAX_MONTHS or days > 20 * DEPUTY_MAX_MONTHS):
        raise PolicyError(N_("代表建议的答复时限自交办之日起最长 %(months)s 个月。"), months=DEPUTY_MAX_MONTHS)
    return Terms(accept, days, hours or None, months or None)


def update_policy(
    session: Session, kind: Kind, urgency: Urgency, terms: Terms, actor: User, now: datetime
) -> DeadlinePolicy:
    """Change a policy (时限规则), audited. Deadlines already set stay as they
    are: the new terms apply to assignments from now on. The caller commits."""
    terms = check_terms(kind, terms)
    policy = session.scalar(
        select(DeadlinePolicy).where(DeadlinePolicy.kind == kind, DeadlinePolicy.urgency == urgency)
    )
    before = default_policy(kind, urgency) if policy is None else terms_of(policy)
    if policy is None:
        policy = DeadlinePolicy(kind=kind, urgency=urgency)
        session.add(policy)
    policy.accept_days, policy.answer_days = terms.accept_days, terms.answer_days
    policy.answer_hours, policy.answer_months = terms.answer_hours, terms.answer_months
    session.flush()
    audit(
        session, "policy", policy.id, "edit", actor, now, before=before._asdict(), after=terms._asdict(),
        summary=f"{kind.label} · {urgency.label}",
    )
    return policy


def _plain(terms: Terms) -> Terms:
    return Terms(terms.accept_days, terms.answer_days or 0, terms.answer_hours or None, terms.answer_months or None)


class PolicyTableError(PolicyError):
    """Rows of the policy table that cannot be saved, each with its reason."""

    def __init__(self, errors: dict[tuple[Kind, Urgency], PolicyError]) -> None:
        super().__init__(N_("时限表有 %(n)s 行需要修改，均未保存。"), n=len(errors))
        self.errors = errors


def check_policy_table(
    entered: dict[tuple[Kind, Urgency], Terms],
) -> tuple[dict[tuple[Kind, Urgency], Terms], dict[tuple[Kind, Urgency], PolicyError]]:
    """Every row of a policy table checked: the terms to save, and each wrong row's reason."""
    checked: dict[tuple[Kind, Urgency], Terms] = {}
    errors: dict[tuple[Kind, Urgency], PolicyError] = {}
    for (kind, urgency), terms in entered.items():
        try:
            checked[kind, urgency] = check_terms(kind, terms)
        except PolicyError as exc:
            errors[kind, urgency] = exc
    return checked, errors


def update_policies(
    session: Session, entered: dict[tuple[Kind, Urgency], Terms], actor: User, now: datetime
) -> list[tuple[Kind, Urgency]]:
    """Save the policy table as one change: every row is checked first and
    nothing is saved when any is wrong; only rows whose terms changed are
    written (and audited). Returns the changed rows. The caller commits."""
    checked, errors = check_policy_table(entered)
    if errors:
        raise PolicyTableError(errors)
    current = {(kind, urgency): terms for kind, urgency, terms, _ in policy_table(session)}
    changed = [key for key, terms in checked.items() if terms != _plain(current[key])]
    for kind, urgency in changed:
        update_policy(session, kind, urgency, checked[kind, urgency], actor, now)
    return changed


def policy_table(session: Session) -> list[tuple[Kind, Urgency, Terms, bool]]:
    """Every kind × urgency with its terms, and whether they are stored (or the default)."""
    stored = {(p.kind, p.urgency): terms_of(p) for p in session.scalars(select(DeadlinePolicy))}
    return [
        (kind, urgency, stored.get((kind, urgency), default_policy(kind, urgency)), (kind, urgency) in stored)
        for kind in Kind
        for urgency in Urgency
    ]


MAX_DAYS_AT_ONCE = 32


def day_range(first: date, last: date | None = None) -> list[date]:
    """The days from ``first`` to ``last`` (inclusive), for entering a holiday at once."""
    last = last or first
    if last < first or (last - first).days >= MAX_DAYS_AT_ONCE:
        raise DomainError(N_("结束日期须在开始日期之后，且一次最多 %(days)s 天"), days=MAX_DAYS_AT_ONCE)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def set_calendar_days(
    session: Session,
    days: list[date],
    *,
    is_workday: bool,
    note: str = "",
    actor: User | None = None,
    now: datetime | None = None,
) -> int:
    """Enter holidays (放假) or make-up working days (调休上班) for a year the
    package does not know; entering a day again replaces what it was. The
    caller commits. Returns how many days were entered. With ``now`` the
    change goes on the audit trail."""
    for day in days:
        row = session.scalar(select(CalendarOverride).where(CalendarOverride.day == day))
        if row is None:
            row = CalendarOverride(day=day)
            session.add(row)
        row.is_workday = is_workday
        row.note = note[:64]
    session.flush()
    if now is not None and days:
        audit(
            session, "calendar", None, "add", actor, now,
            after={"days": [d.isoformat() for d in days], "is_workday": is_workday, "note": note[:64]},
            summary=f"{days[0].isoformat()}–{days[-1].isoformat()} {'调休上班' if is_workday else '放假'}",
        )
    return len(days)


def calendar_entries(session: Session, year: int) -> list[CalendarOverride]:
    return list(
        session.scalars(
            select(CalendarOverride)
            .where(CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31))
            .order_by(CalendarOverride.day)
        )
    )


def remove_calendar_day(session: Session, day: date, *, actor: User | None = None, now: datetime | None = None) -> bool:
    """Take back an entered day: it counts as the package (or Monday–Friday)
    says again. Returns whether there was one. The caller commits."""
    row = session.scalar(select(CalendarOverride).where(CalendarOverride.day == day))
    if row is None:
        return False
    if now is not None:
        audit(
            session, "calendar", None, "remove", actor, now,
            before={"days": [day.isoformat()], "is_workday": row.is_workday, "note": row.note},
            summary=f"{day.isoformat()} 取消{'调休上班' if row.is_workday else '放假'}",
        )
    session.delete(row)
    session.flush()
    return True


def year_view(session: Session, year: int) -> list[CalendarDay]:
    """Every day of the year as deadlines count it: the package's holidays and
    调休 working days, with the administrator's entries over them."""
    return load_calendar(session).year(year)


def package_knows(year: int) -> bool:
    """Whether the chinesecalendar package has the State Council's arrangement for the year."""
    return WorkCalendar().is_known_year(year)
