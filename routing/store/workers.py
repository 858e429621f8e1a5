"""Job workers (任务执行): claim due jobs, run their handlers, record what
happened.

Leases are short and renewed while the job runs (``Shift``), so a worker
that died holds its jobs for seconds, not minutes; a worker that lost its
connection keeps the failures it could not write and writes them when the
database is back.
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

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from routing.store.db import Database
from routing.store.jobs import (
    BATCH_SIZE,
    DEFAULT_LEASE,
    DONE,
    EFFECTS,
    FAILED,
    QUEUED,
    RENEWALS_PER_LEASE,
    BatchHandler,
    Job,
    Permanent,
    Registry,
    Retry,
    backoff,
    carry_out_effects,
    claim,
    claim_more,
)

log = logging.getLogger(__name__)


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
    carry_out_effects(session)
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
