"""Background jobs (后台任务) in the database: the outbox and the work queue.

A job is written in the same transaction as the change that needs it — a
message stored, a ticket answered — so an acknowledged change always has its
job, and a job never exists for a change that was rolled back. Workers claim
jobs with a lease (``workers``): a worker killed mid-job leaves a lease that
runs out, and the job runs again. Handlers must therefore be idempotent
(at-least-once). A handler does not commit: its work, and the call outside
the database it asks for with ``effect``, commit with the job's completion.

On PostgreSQL claims use ``FOR UPDATE SKIP LOCKED``, so many workers share
the queue without blocking each other; on SQLite one writer at a time is the
database's own rule.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, cast, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from routing.store.db import Base, Database

log = logging.getLogger(__name__)
QUEUED, DONE, FAILED = "queued", "done", "failed"
MAX_ATTEMPTS = 10
# Short, because it is renewed while the job runs: it only has to outlive a
# few missed renewals, and it is how long a dead worker's jobs wait.
DEFAULT_LEASE = timedelta(seconds=30)
RENEWALS_PER_LEASE = 3
MAX_BACKOFF = timedelta(hours=1)
Handler = Callable[[Session, dict[str, Any], datetime], None]
# Several jobs of one kind in one transaction, where doing them together is
# much cheaper than one by one (the classifier reads many texts at once).
BatchHandler = Callable[[Session, list[dict[str, Any]], datetime], None]
BATCH_SIZE = 64
EFFECTS = "tingjian.job_effects"


class Permanent(Exception):
    """Raised by a handler whose job can never succeed (the recipient refused
    it for good): the job fails at once, and the message is why."""


@dataclass(frozen=True)
class Retry:
    """How a kind's failures are retried: each wait doubles up to ``cap``;
    ``forever`` kinds ignore the job's ``max_attempts`` (a channel that is
    down delays them, it never loses them), and stop only at ``Permanent``."""

    forever: bool = False
    cap: timedelta = MAX_BACKOFF


def effect(session: Session, action: Callable[[], None]) -> None:
    """Have ``action`` — a call outside the database, such as a message sent —
    done by the job runner after the handler returns and before anything the
    handler wrote is flushed, then commit the handler's record of it together
    with the job's completion. A failing action rolls the record back and the
    job is retried; only a crash between the action and that commit repeats
    it (the at-least-once boundary). Nothing is flushed before the action
    because on SQLite a write would hold the database's one lock through a
    slow call, and the WeChat client writes its token on its own connection."""
    session.info.setdefault(EFFECTS, []).append(action)


def carry_out_effects(session: Session) -> None:
    for action in session.info.pop(EFFECTS, []):
        action()


class Job(Base):
    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    # Set: at most one job with this key is ever enqueued (e.g. one download per media id).
    key: Mapped[str | None] = mapped_column(String(160), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=MAX_ATTEMPTS)
    run_after: Mapped[datetime] = mapped_column(DateTime, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    *,
    key: str | None = None,
    delay: timedelta = timedelta(0),
    max_attempts: int = MAX_ATTEMPTS,
) -> Job | None:
    """Add a job to the caller's transaction. With ``key``, a job already
    enqueued under that key makes this a no-op (returns None)."""
    if key is not None and session.scalar(select(Job.id).where(Job.key == key)) is not None:
        return None
    job = Job(
        kind=kind,
        payload=payload,
        status=QUEUED,
        key=key,
        attempts=0,
        max_attempts=max_attempts,
        run_after=now + delay,
        created_at=now,
    )
    session.add(job)
    return job


def enqueue_once(
    session: Session, kind: str, payload: dict[str, Any], now: datetime, *, key: str, max_attempts: int = MAX_ATTEMPTS
) -> Job | None:
    """Enqueue a job under ``key`` unless one is waiting or running under it
    (returns None then): work that must never run twice at once, on any
    machine. The key's uniqueness is the guard; a finished or failed job
    gives the key up here, renamed to ``key#id``, for the next one to take."""
    session.execute(
        update(Job)
        .where(Job.key == key, Job.status.in_((DONE, FAILED)))
        .values(key=Job.key + "#" + cast(Job.id, String))
        .execution_options(synchronize_session=False)
    )
    try:
        with session.begin_nested():
            job = enqueue(session, kind, payload, now, key=key, max_attempts=max_attempts)
            session.flush()
    except IntegrityError:  # another process enqueued it a moment ago
        return None
    return job


def _claimable(now: datetime):
    return (Job.status == QUEUED) & (Job.run_after <= now) & (
        or_(Job.locked_until.is_(None), Job.locked_until < now)
    )


def claim(session: Session, worker: str, now: datetime, *, lease: timedelta = DEFAULT_LEASE) -> Job | None:
    """Take the oldest due job for ``lease``; commits the claim."""
    query = select(Job).where(_claimable(now)).order_by(Job.run_after, Job.id).limit(1)
    if session.bind.dialect.name == "postgresql":
        job = session.scalar(query.with_for_update(skip_locked=True))
        if job is None:
            session.rollback()
            return None
        job.locked_until, job.locked_by, job.attempts = now + lease, worker, job.attempts + 1
        session.commit()
        return job
    job = session.scalar(query)
    if job is None:
        session.rollback()
        return None
    # Compare-and-set: another worker may have claimed it since we read it.
    won = session.execute(
        update(Job)
        .where(Job.id == job.id, _claimable(now))
        .values(locked_until=now + lease, locked_by=worker, attempts=Job.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if not won:
        return None
    for name, value in (("locked_until", now + lease), ("locked_by", worker), ("attempts", job.attempts + 1)):
        set_committed_value(job, name, value)  # what the UPDATE wrote, without reading it back
    return job


def claim_more(
    session: Session, worker: str, now: datetime, kind: str, limit: int, *, lease: timedelta = DEFAULT_LEASE
) -> list[tuple[int, dict[str, Any]]]:
    """Take up to ``limit`` more due jobs of ``kind`` in one statement; commits.

    On PostgreSQL the jobs are locked with ``SKIP LOCKED`` in a materialised
    CTE: as a plain ``IN (subquery)`` the planner may run the subquery more
    than once and take more than ``limit``. On SQLite the single statement is
    atomic. Returns (id, payload) of each job taken."""
    due = select(Job.id).where(_claimable(now), Job.kind == kind).order_by(Job.run_after, Job.id).limit(limit)
    if session.bind.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    due = due.cte("due").prefix_with("MATERIALIZED", dialect="postgresql")
    taken = session.execute(
        update(Job)
        .where(Job.id.in_(select(due.c.id)), _claimable(now))
        .values(locked_until=now + lease, locked_by=worker, attempts=Job.attempts + 1)
        .returning(Job.id, Job.payload)
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    return [(job_id, dict(payload)) for job_id, payload in taken]


def backoff(attempts: int, cap: timedelta = MAX_BACKOFF) -> timedelta:
    # The exponent is bounded: a job retried forever reaches thousands of attempts.
    return min(timedelta(seconds=5 * 2 ** min(max(attempts - 1, 0), 20)), cap)


class Registry:
    """Job kinds and their handlers. Packages that own a kind of work register
    it at start-up (routing cannot import collector, but runs its jobs)."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self.batches: dict[str, BatchHandler] = {}
        self.retries: dict[str, Retry] = {}
        # Kinds that run every so often, each run scheduling the next: how to schedule the next.
        self.periodic: dict[str, Callable[[Session, datetime], None]] = {}

    def register(
        self, kind: str, handler: Handler, batch: BatchHandler | None = None, *, retry: Retry | None = None
    ) -> None:
        """``batch``, if given, runs many due jobs of the kind at once; each
        job must still be safe to run alone, which is what happens when a
        batch fails. ``retry``: how failures are retried (``Retry()`` if not given)."""
        self.handlers[kind] = handler
        if batch is not None:
            self.batches[kind] = batch
        if retry is not None:
            self.retries[kind] = retry

    def register_periodic(self, kind: str, handler: Handler, schedule: Callable[[Session, datetime], None]) -> None:
        """A kind whose runs form a chain: each run's handler schedules the
        next with ``schedule``, which a starting worker also calls
        (``ensure_periodic``), so that no restart breaks the chain."""
        self.register(kind, handler)
        self.periodic[kind] = schedule

    def handler(self, kind: str) -> Callable[[Handler], Handler]:
        def decorator(fn: Handler) -> Handler:
            self.register(kind, fn)
            return fn

        return decorator


def next_slot(now: datetime, every: timedelta) -> datetime:
    """The next of the day's slots of length ``every``, counted from midnight."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    slots = (now - midnight) // every + 1
    return midnight + slots * every


def ensure_periodic(database: Database, registry: Registry, now: datetime) -> None:
    """Called when a worker starts: each periodic kind's next run is queued,
    unless some process has queued it already (each in a transaction of its own)."""
    for schedule in registry.periodic.values():
        with database.Session() as session:
            try:
                schedule(session, now)
                session.commit()
            except IntegrityError:  # another process scheduled the same slot a moment ago
                session.rollback()
