"""Background jobs (后台任务) in the database: the outbox and the work queue.

A job is written in the same transaction as the change that needs it — a
message stored, a ticket answered — so an acknowledged change always has its
job, and a job never exists for a change that was rolled back. Workers claim
jobs with a lease: a worker killed mid-job leaves a lease that runs out, and
the job runs again. Handlers must therefore be idempotent (at-least-once).

On PostgreSQL claims use ``FOR UPDATE SKIP LOCKED``, so many workers share
the queue without blocking each other; on SQLite one writer at a time is the
database's own rule.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from .db import Base, Database

log = logging.getLogger(__name__)

QUEUED, DONE, FAILED = "queued", "done", "failed"
MAX_ATTEMPTS = 10
DEFAULT_LEASE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)

Handler = Callable[[Session, dict[str, Any], datetime], None]
# Several jobs of one kind in one transaction, where doing them together is
# much cheaper than one by one (the classifier reads many texts at once).
BatchHandler = Callable[[Session, list[dict[str, Any]], datetime], None]
BATCH_SIZE = 64


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


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=5 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


class Registry:
    """Job kinds and their handlers. Packages that own a kind of work register
    it at start-up (routing cannot import collector, but runs its jobs)."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self.batches: dict[str, BatchHandler] = {}
        # Kinds that run every so often, each run scheduling the next: how to schedule the next.
        self.periodic: dict[str, Callable[[Session, datetime], None]] = {}

    def register(self, kind: str, handler: Handler, batch: BatchHandler | None = None) -> None:
        """``batch``, if given, runs many due jobs of the kind at once; each
        job must still be safe to run alone, which is what happens when a
        batch fails."""
        self.handlers[kind] = handler
        if batch is not None:
            self.batches[kind] = batch

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


def run_one(database: Database, registry: Registry, now: Callable[[], datetime], worker: str) -> int:
    """Claim and run the next due job — with more of its kind, if the kind
    runs in batches. Returns how many jobs ran: 0 when nothing was due."""
    with database.Session() as session:
        job = claim(session, worker, now())
        if job is None:
            return 0
        job_id, kind, payload = job.id, job.kind, dict(job.payload)
        more = claim_more(session, worker, now(), kind, BATCH_SIZE - 1) if kind in registry.batches else []
    if more and _run_batch(database, registry.batches[kind], [(job_id, payload), *more], now):
        return 1 + len(more)
    for other_id, other_payload in more:  # the batch failed: each on its own, so one bad job holds none back
        _run(database, registry, kind, other_id, other_payload, now)
    _run(database, registry, kind, job_id, payload, now)
    return 1 + len(more)


def _run_batch(
    database: Database, batch: BatchHandler, jobs: list[tuple[int, dict[str, Any]]], now: Callable[[], datetime]
) -> bool:
    with database.Session() as session:
        try:
            batch(session, [payload for _, payload in jobs], now())
            session.flush()
        except Exception as exc:  # noqa: BLE001 - retried job by job
            session.rollback()
            log.info("batch of %d jobs failed (%s); running them one by one", len(jobs), exc)
            return False
        _done(session, [job_id for job_id, _ in jobs], now())
        session.commit()
    return True


def _done(session: Session, job_ids: list[int], now: datetime) -> None:
    # Marked done in the handler's transaction: the work and its record commit together.
    session.execute(
        update(Job)
        .where(Job.id.in_(job_ids))
        .values(status=DONE, finished_at=now, locked_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )


def _run(
    database: Database, registry: Registry, kind: str, job_id: int, payload: dict[str, Any], now: Callable[[], datetime]
) -> None:
    handler = registry.handlers.get(kind)
    with database.Session() as session:
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {kind!r}")
            handler(session, payload, now())
            session.flush()
        except Exception as exc:  # noqa: BLE001 - a job's failure must not stop the worker
            session.rollback()
            _failed(session, job_id, exc, now())
            log.warning("job %s (%s) failed: %s", job_id, kind, exc)
            return
        _done(session, [job_id], now())
        session.commit()


def _failed(session: Session, job_id: int, exc: Exception, now: datetime) -> None:
    job = session.get(Job, job_id)
    error = "".join(traceback.format_exception_only(exc)).strip()
    response = getattr(exc, "response", None)
    if response is not None and getattr(response, "status_code", None):
        error += f" (HTTP {response.status_code})"
    job.last_error = error[:2000]
    job.locked_until = None
    if job.attempts >= job.max_attempts:
        job.status, job.finished_at = FAILED, now
    else:
        job.run_after = now + backoff(job.attempts)
    session.commit()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def run_pending(database: Database, registry: Registry, now: Callable[[], datetime], limit: int = 1000) -> int:
    """Run due jobs until none is left (or ``limit``); returns how many ran."""
    worker = worker_name()
    ran = 0
    while ran < limit and (done := run_one(database, registry, now, worker)):
        ran += done
    return ran


class Worker(threading.Thread):
    """Runs jobs until stopped: in-process on the embedded default, or as the
    main loop of a worker process (``flask --app admin jobs work``)."""

    def __init__(
        self, database: Database, registry: Registry, now: Callable[[], datetime], poll: float = 1.0
    ) -> None:
        super().__init__(name="tingjian-jobs", daemon=True)
        self.database, self.registry, self.now, self.poll = database, registry, now, poll
        self.stopping = threading.Event()
        self.wake = threading.Event()

    def run(self) -> None:
        worker = worker_name()
        while not self.stopping.is_set():
            try:
                busy = run_one(self.database, self.registry, self.now, worker)
            except Exception:  # noqa: BLE001 - e.g. the database is briefly away
                log.exception("job worker: could not run a job")
                busy = False
            if not busy:
                self.wake.wait(self.poll)
                self.wake.clear()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
