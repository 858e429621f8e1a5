"""Work that must never run twice at once (a retraining): one job under a key
waits or runs at a time, on every machine; once it is done the key is free."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from routing.store.jobs import DONE, FAILED, QUEUED, Job, Registry, claim, enqueue_once
from routing.store.workers import run_pending

NOW = datetime(2026, 10, 12, 3, 0)
KEY = "test.exclusive"


def jobs_under(database, key: str) -> list[tuple[str, str]]:
    with database.Session() as session:
        return [(job.key, job.status) for job in session.scalars(select(Job).order_by(Job.id))
                if job.key and job.key.startswith(key)]


def test_a_second_job_under_the_key_is_refused_while_the_first_waits_or_runs(app):
    database = app.extensions["tingjian"].db
    with database.Session() as session:
        assert enqueue_once(session, "test.work", {"n": 1}, NOW, key=KEY) is not None
        session.commit()
    with database.Session() as session:
        assert enqueue_once(session, "test.work", {"n": 2}, NOW, key=KEY) is None
        session.commit()
    with database.Session() as worker_a, database.Session() as worker_b:
        taken = claim(worker_a, "a", NOW)
        assert taken is not None and taken.payload == {"n": 1}
        # Running now (its lease held): still refused, and no other worker can take it.
        assert enqueue_once(worker_b, "test.work", {"n": 3}, NOW, key=KEY) is None
        worker_b.commit()
        assert claim(worker_b, "b", NOW + timedelta(seconds=5)) is None
    assert jobs_under(database, KEY) == [(KEY, QUEUED)]


def test_a_finished_or_failed_job_gives_its_key_up(app):
    database = app.extensions["tingjian"].db
    ran: list[int] = []
    registry = Registry()
    registry.register("test.work", lambda session, payload, now: ran.append(payload["n"]))
    with database.Session() as session:
        enqueue_once(session, "test.work", {"n": 1}, NOW, key=KEY)
        session.commit()
    assert run_pending(database, registry, lambda: NOW) == 1
    with database.Session() as session:
        assert enqueue_once(session, "test.work", {"n": 2}, NOW, key=KEY) is not None
        session.commit()

    def fail(session, payload, now):
        raise RuntimeError("no")

    registry.register("test.work", fail)
    with database.Session() as session:
        session.get(Job, session.scalar(select(Job.id).where(Job.key == KEY))).max_attempts = 1
        session.commit()
    run_pending(database, registry, lambda: NOW)
    with database.Session() as session:
        assert enqueue_once(session, "test.work", {"n": 3}, NOW, key=KEY) is not None
        session.commit()
    assert ran == [1]
    first, second, third = jobs_under(database, KEY)
    assert first[1] == DONE and first[0].startswith(KEY + "#")
    assert second[1] == FAILED and second[0].startswith(KEY + "#")
    assert third == (KEY, QUEUED)
