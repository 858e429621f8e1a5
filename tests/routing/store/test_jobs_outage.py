"""The job queue through a database outage: a worker that loses its
connection goes on once the database is back, and a worker that died holds
its jobs no longer than a short lease."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import event, select, text

from routing.clock import now as city_now
from routing.store.jobs import DONE, QUEUED, Job, Registry, claim
from routing.store.workers import Shift, Worker, run_one, run_pending

from .test_jobs import enqueue_all, statuses


class Outage:
    """The database going away once for a while: every statement fails, as on
    a dropped connection, from ``begin`` until ``end``."""

    def __init__(self, engine) -> None:
        self.engine, self.down, self.over = engine, False, False
        self.error = engine.dialect.loaded_dbapi.OperationalError
        event.listen(engine, "before_cursor_execute", self._refuse)

    def _refuse(self, *_args) -> None:
        if self.down:
            raise self.error("server closed the connection unexpectedly")

    def begin(self) -> None:
        self.down = not self.over

    def end(self) -> None:
        self.down, self.over = False, True

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._refuse)


@pytest.fixture
def batch_outage(app):
    """Four jobs of a batch kind whose batch run meets the database going
    away; each job alone only reads. Yields the database, the jobs' numbers
    as they run, the registry and the outage."""
    database = app.extensions["tingjian"].db
    enqueue_all(database, "test.batch", 4)
    ran: list[int] = []
    outage = Outage(database.engine)

    def one(session, payload, now):
        session.execute(select(Job.id).limit(1))
        ran.append(payload["n"])

    def many(session, payloads, now):
        outage.begin()
        session.execute(select(Job.id).limit(1))
        ran.extend(payload["n"] for payload in payloads)

    registry = Registry()
    registry.register("test.batch", one, batch=many)
    yield database, ran, registry, outage
    outage.remove()


def test_a_failure_the_database_could_not_take_holds_no_job_for_minutes(batch_outage):
    database, ran, registry, outage = batch_outage
    start = city_now()
    run_pending(database, registry, lambda: start)  # the worker survives the outage
    assert ran == []
    outage.end()
    # The database is back within seconds: the jobs run again without waiting minutes for a lease.
    assert run_pending(database, registry, lambda: start + timedelta(seconds=31)) == 4
    assert sorted(ran) == [0, 1, 2, 3]
    assert statuses(database) == {n: (DONE, 2) for n in range(4)}


class Clock:
    def __init__(self, at) -> None:
        self.at = at

    def __call__(self):
        return self.at


def test_a_failure_kept_through_the_outage_is_written_when_the_database_is_back(batch_outage):
    database, ran, registry, outage = batch_outage
    start = city_now()
    clock = Clock(start)
    shift = Shift(database, registry, "worker-a", clock)
    assert run_one(database, registry, clock, shift) == 4
    assert len(shift.unwritten) == 4
    outage.end()
    clock.at = start + timedelta(seconds=6)  # past the first back-off, well within the lease
    shift.write_failures()
    with database.Session() as session:
        jobs = session.scalars(select(Job)).all()
        assert all(j.status == QUEUED and j.locked_until is None for j in jobs)
        assert all("server closed the connection" in j.last_error for j in jobs)
    assert run_one(database, registry, clock, shift) == 4
    assert sorted(ran) == [0, 1, 2, 3]
    assert statuses(database) == {n: (DONE, 2) for n in range(4)}


def test_a_running_jobs_lease_is_renewed_so_no_other_worker_takes_it(app):
    database = app.extensions["tingjian"].db
    enqueue_all(database, "test.long", 1)
    start = city_now()
    clock = Clock(start)
    taken = []

    def long(session, payload, now):
        clock.at = start + timedelta(seconds=25)
        shift.renew()
        clock.at = start + timedelta(seconds=45)  # past the first lease, within the renewed one
        with database.Session() as other:
            taken.append(claim(other, "worker-b", clock.at))

    registry = Registry()
    registry.register("test.long", long)
    shift = Shift(database, registry, "worker-a", clock)
    assert run_one(database, registry, clock, shift) == 1
    assert taken == [None]
    assert statuses(database) == {0: (DONE, 1)}


def test_a_dead_workers_lease_ends_within_half_a_minute(app):
    database = app.extensions["tingjian"].db
    enqueue_all(database, "test.count", 1)
    start = city_now()
    with database.Session() as session:
        assert claim(session, "a-worker-that-then-died", start) is not None
    ran: list[dict] = []
    registry = Registry()
    registry.register("test.count", lambda session, payload, now: ran.append(payload))
    assert run_pending(database, registry, lambda: start + timedelta(seconds=29)) == 0
    assert run_pending(database, registry, lambda: start + timedelta(seconds=31)) == 1
    assert ran == [{"n": 0}]


def test_a_worker_whose_connection_is_killed_goes_on_without_a_restart(app):
    database = app.extensions["tingjian"].db
    if database.engine.dialect.name != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    enqueue_all(database, "test.batch", 3)
    ran: list[int] = []

    def kill_own_connection(session) -> None:
        # The database ends the worker's session under it (a restart, a failover, an administrator).
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with database.engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    def one(session, payload, now):
        if payload["n"] == 1:
            kill_own_connection(session)
            raise ValueError("the channel refused this one")
        ran.append(payload["n"])

    def many(session, payloads, now):
        kill_own_connection(session)
        session.execute(select(Job.id).limit(1))

    registry = Registry()
    registry.register("test.batch", one, batch=many)
    start = city_now()
    worker = Worker(database, registry, lambda: start, poll=0.01)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (len(ran) < 2 or queued_error(database) is None):
            time.sleep(0.02)
    finally:
        worker.stop()
        worker.join(5)
    assert sorted(ran) == [0, 2]
    assert statuses(database) == {0: (DONE, 1), 1: (QUEUED, 1), 2: (DONE, 1)}
    assert "the channel refused this one" in queued_error(database)


def queued_error(database) -> str | None:
    with database.Session() as session:
        return session.scalar(select(Job.last_error).where(Job.status == QUEUED))
