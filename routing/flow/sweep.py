"""The periodic sweep (定时巡检): what must happen because time has passed.

It runs as a job that schedules its own next run, one per time slot: the job's
key is the slot, so however many processes start it, each slot's sweep runs
once. On the embedded default the in-process worker runs it; in production,
the job workers do — no separate scheduler to keep alive.

Each run closes answers nobody rated, forgets the API's expired idempotency
keys, sends reminders (催办) and notices
(通报) that have come due, and from a working day's opening on asks once for
that day's agency digests (see ``escalation``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.flow import escalation, steps, workflow
from routing.flow.deadlines import load_calendar
from routing.store import idempotency
from routing.store.jobs import enqueue, next_slot
from routing.store.tickets import Ticket

log = logging.getLogger(__name__)

SWEEP = "routing.sweep"
EVERY = timedelta(minutes=15)


def close_unrated(session: Session, now: datetime, days: int) -> int:
    """Answers the resident has not rated within ``days`` working days are
    closed: a ticket's own, and the one a merged ticket got with the ticket it
    joined (only a merged ticket the answer reached has ``answered_at``)."""
    calendar = load_calendar(session)
    # N working days are at least N calendar days: a cheap first cut in SQL.
    candidates = session.scalars(
        select(Ticket).where(
            Ticket.status.in_(steps.ANSWER_STANDS), Ticket.answered_at <= now - timedelta(days=days)
        )
    )
    closed = 0
    for ticket in candidates:
        if calendar.add_working_days(ticket.answered_at, days) <= now:
            workflow.close(session, ticket, None, now, reason=f"群众 {days} 个工作日内未评价，自动办结")
            closed += 1
    return closed


def schedule(session: Session, now: datetime, every: timedelta = EVERY) -> None:
    """Enqueue the sweep of the next slot, unless some process already has."""
    slot = next_slot(now, every)
    enqueue(session, SWEEP, {}, now, key=f"sweep:{slot:%Y%m%d%H%M}", delay=slot - now, max_attempts=3)


def make_sweep(
    satisfaction_days: int,
    policy: escalation.EscalationPolicy = escalation.EscalationPolicy(),
    idempotency_hours: int = idempotency.DEFAULT_HOURS,
) -> Callable[[Session, dict[str, Any], datetime], None]:
    def sweep(session: Session, payload: dict[str, Any], now: datetime) -> None:
        # The job runner commits the sweep together with marking the job done.
        closed = close_unrated(session, now, satisfaction_days)
        idempotency.forget_expired(session, now, idempotency_hours)
        reminders, notices = escalation.escalate(session, now, policy)
        escalation.schedule_digests(session, now, load_calendar(session))
        schedule(session, now)
        if closed or reminders or notices:
            log.info("sweep: closed %d unrated answers; %d reminders, %d notices", closed, reminders, notices)

    return sweep
