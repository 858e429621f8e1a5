"""代表建议办理统计: per agency, for the deputies' suggestions raised in a period,
办结率 (answered), 面商率 (consulted before answering) and 满意率 (the deputy's
rating) — counted by the database in one aggregate query.

- 建议数: suggestions raised in the period and now with the agency, merged
  duplicates and invalid ones left out (a merged suggestion is handled in the
  one it was merged into);
- 办结: answered (答复) or closed (办结); a suggestion sent back for another
  round counts again only once it is answered again;
- 面商: at least one 面商 record;
- 满意率: of the suggestions the deputy rated, those whose latest rating is
  满意 or 基本满意.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session

from routing.store.people import Agency
from routing.store.tickets import Kind, Status, Ticket, TicketEvent

CONCLUDED = (Status.ANSWERED, Status.CLOSED)
SATISFIED = ("satisfied", "basically_satisfied")
LEFT_OUT = (Status.MERGED, Status.INVALID)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class SuggestionScore:
    agency: str
    suggestions: int
    concluded: int
    consulted: int
    rated: int
    satisfied: int

    @property
    def conclusion_rate(self) -> float | None:
        """办结率"""
        return _share(self.concluded, self.suggestions)

    @property
    def consultation_rate(self) -> float | None:
        """面商率"""
        return _share(self.consulted, self.suggestions)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率"""
        return _share(self.satisfied, self.rated)


def _per_suggestion(start: datetime, end: datetime, agency_id: int | None):
    """One row per suggestion: its agency, state, whether consulted, its latest deputy rating."""
    consulted = exists().where(TicketEvent.ticket_id == Ticket.id, TicketEvent.action == "consult")
    latest_rating = (
        select(TicketEvent.detail["rating"].as_string())
        .where(TicketEvent.ticket_id == Ticket.id, TicketEvent.action == "deputy_rate")
        .order_by(TicketEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = select(
        Ticket.agency_id, Ticket.status, consulted.label("consulted"), latest_rating.label("rating")
    ).where(
        Ticket.kind == Kind.DEPUTY_SUGGESTION,
        Ticket.created_at >= start,
        Ticket.created_at < end,
        Ticket.agency_id.is_not(None),
        Ticket.status.not_in(LEFT_OUT),
    )
    if agency_id is not None:
        query = query.where(Ticket.agency_id == agency_id)
    return query.subquery()


def suggestion_scores(
    session: Session, start: datetime, end: datetime, *, agency_id: int | None = None
) -> list[SuggestionScore]:
    """Per agency with suggestions in [start, end), by agency id."""
    row = _per_suggestion(start, end, agency_id)
    query = (
        select(
            Agency.name,
            func.count(),
            func.sum(case((row.c.status.in_(CONCLUDED), 1), else_=0)),
            func.sum(case((row.c.consulted, 1), else_=0)),
            func.count(row.c.rating),
            func.sum(case((row.c.rating.in_(SATISFIED), 1), else_=0)),
        )
        .join(Agency, Agency.id == row.c.agency_id)
        .group_by(Agency.id, Agency.name)
        .order_by(Agency.id)
    )
    return [SuggestionScore(name, *(int(v or 0) for v in figures)) for name, *figures in session.execute(query)]


def total(scores: list[SuggestionScore]) -> SuggestionScore:
    """合计 over the agencies."""
    return SuggestionScore(
        "合计", *(sum(getattr(s, field) for s in scores)
                for field in ("suggestions", "concluded", "consulted", "rated", "satisfied"))
    )
