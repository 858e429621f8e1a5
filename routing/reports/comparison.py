"""环比与同比: a period's headline figures beside those of an earlier period —
the dashboard's period against the one of the same length before it, the
monthly report's month against the month before and the same month a year before.

Each figure is counted as elsewhere: 受理 as the dashboard counts (without
无效), 答复 as the scorecards' answers given in the period, 按时答复率 and
满意率 from the scorecards' definitions (``figures``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.reports import stats
from routing.reports.figures import ANSWER_RATE, SATISFACTION_RATE
from routing.reports.scorecard import month_of, scorecard
from routing.store.tickets import Ticket
from routing.texts import N_

# (key, Chinese name marked for translation, a count or a rate)
HEADLINES = (
    ("received", N_("受理"), "count"),
    ("answered", N_("答复"), "count"),
    ("on_time_rate", N_("按时答复率"), "rate"),
    ("satisfaction_rate", N_("满意率"), "rate"),
)


@dataclass(frozen=True)
class Headlines:
    """The headline figures of ``[start, end)``; a rate is None when nothing was judged."""

    start: datetime
    end: datetime
    received: int
    answered: int
    on_time_rate: float | None
    satisfaction_rate: float | None

    def get(self, key: str) -> int | float | None:
        return getattr(self, key)


def headlines(session: Session, start: datetime, end: datetime, now: datetime, scope: stats.Scope) -> Headlines:
    received = session.scalar(select(func.count(Ticket.id)).where(*stats.counted(scope, start, end))) or 0
    total = scorecard(session, start, end, now, agency_id=scope.agency_id, district_id=scope.district_id).total
    return Headlines(start, end, received, total.answers, ANSWER_RATE.of(total), SATISFACTION_RATE.of(total))


def change(kind: str, value: float | None, before: float | None) -> float | None:
    """A count's change as a share of what it was (None from nothing); a rate's
    as the difference of the two rates (百分点), None when either is missing."""
    if value is None or before is None:
        return None
    if kind == "rate":
        return value - before
    return (value - before) / before if before else None


def compared(current: Headlines, earlier: Headlines) -> list[dict[str, object]]:
    """Each headline figure now, before, and the change between (JSON-ready)."""
    return [
        {
            "key": key,
            "name": name,
            "kind": kind,
            "value": current.get(key),
            "before": earlier.get(key),
            "change": change(kind, current.get(key), earlier.get(key)),
        }
        for key, name, kind in HEADLINES
    ]


def period_on_period(session: Session, now: datetime, days: int, scope: stats.Scope = stats.CITY) -> dict[str, object]:
    """The dashboard's period (``days`` up to today) against the ``days`` before it."""
    start = stats.period_start(now, days)
    end = start + timedelta(days=days)
    earlier = start - timedelta(days=days)
    return {
        "before": {"from": earlier.date().isoformat(), "to": (start - timedelta(days=1)).date().isoformat()},
        "figures": compared(headlines(session, start, end, now, scope), headlines(session, earlier, start, now, scope)),
    }


@dataclass(frozen=True)
class MonthComparison:
    """A month, the month before (环比) and the same month a year before (同比)."""

    month: Headlines
    previous: Headlines
    year_before: Headlines

    def rows(self) -> list[dict[str, object]]:
        by_month, by_year = compared(self.month, self.previous), compared(self.month, self.year_before)
        return [
            {**row, "year_before": other["before"], "year_change": other["change"]}
            for row, other in zip(by_month, by_year, strict=True)
        ]


def month_on_month(session: Session, month: date, now: datetime, scope: stats.Scope = stats.CITY) -> MonthComparison:
    start, end = month_of(month)
    previous = month_of((start - timedelta(days=1)).date())
    year_before = month_of(date(month.year - 1, month.month, 1))
    return MonthComparison(
        headlines(session, start, end, now, scope),
        headlines(session, *previous, now, scope),
        headlines(session, *year_before, now, scope),
    )
