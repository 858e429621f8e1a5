"""月度报告: one month's figures for one agency, one district or the city,
made to be printed and handed round.

Nothing here counts on its own: tickets received come from ``stats`` (the
dashboard's counts, bounded to the month), on-time answers, satisfaction and
returns from ``scorecard`` (the same definitions as the scorecards page), and
the overdue list from ``overdue`` (the escalation sweep's definition).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from routing.clock import FIRST_YEAR, LAST_YEAR
from routing.reports import stats
from routing.reports.overdue import overdue_tickets
from routing.reports.scorecard import AgencyScore, Scorecard, month_of, scorecard
from routing.store.tickets import Ticket
from routing.texts import N_, DomainError

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# A printed list stops somewhere; the count above it says how many there are.
OVERDUE_LIST_LIMIT = 100


def parse_month(text: str | None, today: date) -> date:
    """``YYYY-MM`` as the month's first day; none given means this month."""
    if not text:
        return today.replace(day=1)
    match = MONTH.match(text.strip())
    if match is None:
        raise DomainError(N_("月份格式应为 YYYY-MM，例如 2026-10。"))
    if not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
        raise DomainError(N_("月份应在 2000 年至 2100 年之间。"))
    return date(int(match.group(1)), int(match.group(2)), 1)


@dataclass
class MonthlyReport:
    """The figures of a month for one scope (an agency, a district or the city)."""

    start: datetime
    end: datetime
    now: datetime
    received: int
    by_topic: list[dict[str, object]]
    by_channel: list[dict[str, object]]
    scores: Scorecard  # per agency, those with figures in the scope
    overdue: list[Ticket] = field(default_factory=list)

    @property
    def total(self) -> AgencyScore:
        return self.scores.total

    @property
    def overdue_count(self) -> int:
        """Every overdue ticket in the scope; the list shows the first ones."""
        return self.total.overdue

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()


def monthly_report(session: Session, month: date, now: datetime, scope: stats.Scope = stats.CITY) -> MonthlyReport:
    start, end = month_of(month)
    days = [(start.date() + timedelta(days=i)).isoformat() for i in range((end - start).days)]
    received = {
        dimension: stats.over_time(stats.daily_counts(session, dimension, start, scope, until=end), days)["totals"]
        for dimension in ("topic", "channel")
    }
    card = scorecard(session, start, end, now, agency_id=scope.agency_id, district_id=scope.district_id)
    # In a district's report an agency with nothing there in the month is only noise.
    rows = [r for r in card.rows if r.agency_id == scope.agency_id or _has_figures(r)]
    late = overdue_tickets(
        session, now, agency_id=scope.agency_id, district_id=scope.district_id, limit=OVERDUE_LIST_LIMIT
    )
    return MonthlyReport(
        start=start,
        end=end,
        now=now,
        received=sum(t["count"] for t in received["channel"]),
        by_topic=received["topic"],
        by_channel=received["channel"],
        scores=Scorecard(start, end, now, rows),
        overdue=late,
    )


def _has_figures(score: AgencyScore) -> bool:
    return bool(score.assigned or score.rated or score.returns or score.transfers or score.overdue)
