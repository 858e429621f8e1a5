"""Background jobs (后台任务) in the database: the outbox and the work queue.

A job is written in the same transaction as the change that needs it — a
message stored, a ticket answered — so an acknowledged change always has its
job, and a job never exists for a change that was rolled back. Workers claim
jobs with a lease: a worker killed mid-job leaves a lease that runs out, and
the job runs again. Handlers must therefore be idempotent (at-least-once).

Leases are short and renewed while the job runs (``Shift``), so a worker
that died holds its jobs for seconds, not minutes; a worker that lost its
connection keeps the failures it could not write and writes them when the
database is back. A handler does not commit: its work, and the call outside
the database it asks for with ``effect``, commit with the job's completion.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from .db import Base, Database

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


def _carry_out_effects(session: Session) -> None:
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


@dataclass(frozen=True)
class Failure:
    """A job's failure as its worker saw it, kept until the database takes it."""

    job_id: int
    error: str
    permanent: bool
    at: datetime


def _error_text(exc: Exception) -> str:
    error = "".join(traceback.format_exception_only(exc)).strip()
    response = getattr(exc, "response", None)
    if response is not None and getattr(response, "status_code", None):
        error += f" (HTTP {response.status_code})"
    return error[:2000]


def _abandon(session: Session) -> None:
    """Undo the session's transaction, also on a connection that is gone."""
    session.info.pop(EFFECTS, None)
    try:
        session.rollback()
    except SQLAlchemyError:
        # The rollback itself met the dead connection: drop it, the pool connects anew.
        session.invalidate()


class Shift:
    """One worker's hold on the jobs it took: it renews their leases while
    they run, and keeps the failures the database could not take (it was
    away) to write them when it is back — before the worker takes more."""

    def __init__(
        self, database: Database, registry: Registry, worker: str, now: Callable[[], datetime],
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.database, self.registry, self.worker, self.now, self.lease = database, registry, worker, now, lease
        self._lock = threading.Lock()
        self.running: set[int] = set()
        self.unwritten: dict[int, Failure] = {}

    def hold(self, job_ids: list[int]) -> None:
        with self._lock:
            self.running.update(job_ids)

    def let_go(self, job_ids: list[int]) -> None:
        with self._lock:
            self.running.difference_update(job_ids)

    def renew(self) -> None:
        """Push the running jobs' leases on; only while this worker still holds them."""
        with self._lock:
            job_ids = sorted(self.running)
        if not job_ids:
            return
        with self.database.Session() as session:
            session.execute(
                update(Job)
                .where(Job.id.in_(job_ids), Job.locked_by == self.worker, Job.status == QUEUED)
                .values(locked_until=self.now() + self.lease)
                .execution_options(synchronize_session=False)
            )
            session.commit()

    @contextmanager
    def renewing(self) -> Iterator[Shift]:
        """Renew leases from a thread of their own while the jobs run."""
        stop = threading.Event()
        every = (self.lease / RENEWALS_PER_LEASE).total_seconds()

        def keep() -> None:
            while not stop.wait(every):
                try:
                    self.renew()
                except Exception:  # noqa: BLE001 - the next renewal may get through; the lease allows for it
                    log.warning("job worker: could not renew the leases of %s", self.worker, exc_info=True)

        keeper = threading.Thread(target=keep, name="tingjian-job-leases", daemon=True)
        keeper.start()
        try:
            yield self
        finally:
            stop.set()
            keeper.join()

    def failed(self, job_id: int, exc: Exception) -> None:
        self.let_go([job_id])
        with self._lock:
            self.unwritten[job_id] = Failure(job_id, _error_text(exc), isinstance(exc, Permanent), self.now())
        try:
            self.write_failures()
        except SQLAlchemyError:
            log.warning("job worker: the failure of job %s is kept until the database is back", job_id)

    def write_failures(self) -> None:
        """Write the failures kept; raises while the database is still away
        (what is not written stays kept)."""
        with self._lock:
            failures = list(self.unwritten.values())
        for failure in failures:
            with self.database.Session() as session:
                try:
                    _record_failure(session, self.registry, self.worker, failure)
                    session.commit()
                except SQLAlchemyError:
                    _abandon(session)
                    raise
            with self._lock:
                self.unwritten.pop(failure.job_id, None)


def _record_failure(session: Session, registry: Registry, worker: str, failure: Failure) -> None:
    job = session.get(Job, failure.job_id)
    if job is None or job.status != QUEUED or job.locked_by != worker:
        return  # done after all (the commit went through), or another worker took it when the lease ran out
    retry = registry.retries.get(job.kind, Retry())
    values: dict[str, Any] = {"last_error": failure.error, "locked_until": None}
    if failure.permanent or (not retry.forever and job.attempts >= job.max_attempts):
        values |= {"status": FAILED, "finished_at": failure.at}
    else:
        values["run_after"] = failure.at + backoff(job.attempts, retry.cap)
    # Only the claim this worker made: the row may have changed since it was read.
    session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status == QUEUED, Job.locked_by == worker, Job.attempts == job.attempts)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def run_one(database: Database, registry: Registry, now: Callable[[], datetime], shift: Shift) -> int:
    """Claim and run the next due job — with more of its kind, if the kind
    runs in batches. Returns how many jobs ran: 0 when nothing was due.
    Raises only while the database is away, holding nothing then."""
    shift.write_failures()
    with database.Session() as session:
        job = claim(session, shift.worker, now(), lease=shift.lease)
        if job is None:
            return 0
        job_id, kind, payload = job.id, job.kind, dict(job.payload)
        shift.hold([job_id])
        more: list[tuple[int, dict[str, Any]]] = []
        if kind in registry.batches:
            try:
                more = claim_more(session, shift.worker, now(), kind, BATCH_SIZE - 1, lease=shift.lease)
            except SQLAlchemyError:
                _abandon(session)  # the one job claimed runs alone (and records why it failed, if it does)
        shift.hold([other_id for other_id, _ in more])
    if more and _run_batch(database, registry.batches[kind], [(job_id, payload), *more], now, shift):
        return 1 + len(more)
    for other_id, other_payload in more:  # the batch failed: each on its own, so one bad job holds none back
        _run(database, registry, kind, other_id, other_payload, now, shift)
    _run(database, registry, kind, job_id, payload, now, shift)
    return 1 + len(more)


def _run_batch(
    database: Database, batch: BatchHandler, jobs: list[tuple[int, dict[str, Any]]], now: Callable[[], datetime],
    shift: Shift,
) -> bool:
    job_ids = [job_id for job_id, _ in jobs]
    with database.Session() as session:
        try:
            batch(session, [payload for _, payload in jobs], now())
            _complete(session, job_ids, now())
        except Exception as exc:  # noqa: BLE001 - retried job by job
            _abandon(session)
            log.info("batch of %d jobs failed (%s); running them one by one", len(jobs), exc)
            return False
    shift.let_go(job_ids)
    return True


def _complete(session: Session, job_ids: list[int], now: datetime) -> None:
    """The handler's effects, then its work and the jobs' completion in one commit."""
    _carry_out_effects(session)
    session.flush()
    _done(session, job_ids, now)
    session.commit()


def _done(session: Session, job_ids: list[int], now: datetime) -> None:
    # Marked done in the handler's transaction: the work and its record commit together.
    session.execute(
        update(Job)
        .where(Job.id.in_(job_ids))
        .values(status=DONE, finished_at=now, locked_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )


def _run(
    database: Database, registry: Registry, kind: str, job_id: int, payload: dict[str, Any],
    now: Callable[[], datetime], shift: Shift,
) -> None:
    handler = registry.handlers.get(kind)
    with database.Session() as session:
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {kind!r}")
            handler(session, payload, now())
            _complete(session, [job_id], now())
        except Exception as exc:  # noqa: BLE001 - a job's failure must not stop the worker
            _abandon(session)
            log.warning("job %s (%s) failed: %s", job_id, kind, exc)
            shift.failed(job_id, exc)
            return
    shift.let_go([job_id])


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def run_pending(
    database: Database, registry: Registry, now: Callable[[], datetime], limit: int = 1000,
    lease: timedelta = DEFAULT_LEASE,
) -> int:
    """Run due jobs until none is left, ``limit`` ran, or the database went
    away (what could not be written then is released by its short lease);
    returns how many ran."""
    ran = 0
    with Shift(database, registry, worker_name(), now, lease).renewing() as shift:
        while ran < limit:
            try:
                done = run_one(database, registry, now, shift)
            except SQLAlchemyError:
                log.warning("jobs: the database is away; stopping", exc_info=True)
                break
            if not done:
                break
            ran += done
    return ran


class Worker(threading.Thread):
    """Runs jobs until stopped: in-process on the embedded default, or as the
    main loop of a worker process (``flask --app admin jobs work``)."""

    def __init__(
        self, database: Database, registry: Registry, now: Callable[[], datetime], poll: float = 1.0,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        super().__init__(name="tingjian-jobs", daemon=True)
        self.database, self.registry, self.now, self.poll, self.lease = database, registry, now, poll, lease
        self.stopping = threading.Event()
        self.wake = threading.Event()

    def run(self) -> None:
        with Shift(self.database, self.registry, worker_name(), self.now, self.lease).renewing() as shift:
            while not self.stopping.is_set():
                try:
                    busy = run_one(self.database, self.registry, self.now, shift)
                except Exception:  # noqa: BLE001 - e.g. the database is briefly away
                    log.exception("job worker: could not run a job")
                    busy = False
                if not busy:
                    self.wake.wait(self.poll)
                    self.wake.clear()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
