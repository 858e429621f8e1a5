"""Assisting agencies' opinions on a deputy's suggestion (协办意见时限).

An agency that assists (协办) on a deputy's suggestion gives the lead agency
its views within one month of being assigned. The time it was assigned is on
the timeline (the ``assist`` events); so is its opinion (``assist_opinion``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from routing.flow.calendar import WorkCalendar
from routing.flow.deadlines import months_later
from routing.flow.escalation import Level
from routing.store.people import Agency
from routing.store.tickets import Kind, Ticket

OPINION_MONTHS = 1


@dataclass(frozen=True)
class OpinionDue:
    """One assisting agency's opinion on a ticket: when asked, when due, when given."""

    agency: str
    assigned_at: datetime
    due: datetime
    given_at: datetime | None

    def level(self, now: datetime, calendar: WorkCalendar, share: float = 0.8) -> Level:
        """Red when missed (or given late), yellow when ``share`` of the working time is used."""
        if self.given_at is not None:
            return Level.RED if self.given_at > self.due else Level.NONE
        if now > self.due:
            return Level.RED
        total = calendar.working_time_between(self.assigned_at, self.due)
        left = calendar.working_time_between(now, self.due)
        if total <= timedelta(0) or total - left >= total * share:
            return Level.YELLOW
        return Level.NONE


def assigned_since(ticket: Ticket, agency: Agency) -> datetime | None:
    """When the agency became an assisting agency this time (it may have been
    removed and added again): the first ``assist`` event of its present run."""
    since = None
    for event in ticket.events:
        if event.action != "assist":
            continue
        named = agency.name in (event.detail or {}).get("assisting", [])
        if named and since is None:
            since = event.at
        elif not named:
            since = None
    return since


def opinion_due(ticket: Ticket, agency: Agency, calendar: WorkCalendar) -> OpinionDue | None:
    """The agency's opinion deadline on a deputy's suggestion it assists on; None otherwise."""
    if ticket.kind is not Kind.DEPUTY_SUGGESTION or all(a.id != agency.id for a in ticket.assisting):
        return None
    assigned = assigned_since(ticket, agency) or ticket.assigned_at or ticket.created_at
    given = next(
        (e.at for e in ticket.events
         if e.action == "assist_opinion" and e.at >= assigned and (e.detail or {}).get("agency") == agency.name),
        None,
    )
    return OpinionDue(agency.name, assigned, months_later(calendar, assigned, OPINION_MONTHS), given)


def opinion_dues(ticket: Ticket, calendar: WorkCalendar) -> list[OpinionDue]:
    """Every assisting agency's opinion deadline, for the lead agency and dispatchers."""
    return [due for agency in ticket.assisting if (due := opinion_due(ticket, agency, calendar)) is not None]
