"""The job queue: jobs of a kind that runs in batches are taken together,
and a failing batch never holds a good job back."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from routing.clock import now as city_now
from routing.store.jobs import BATCH_SIZE, DONE, QUEUED, Job, Registry, enqueue
from routing.store.workers import run_pending


def enqueue_all(database, kind: str, count: int) -> None:
    with database.Session() as session:
        for n in range(count):
            enqueue(session, kind, {"n": n}, city_now())
        session.commit()


def statuses(database) -> dict[int, tuple[str, int]]:
    with database.Session() as session:
        return {job.payload["n"]: (job.status, job.attempts) for job in session.scalars(select(Job))}


def test_due_jobs_of_a_batch_kind_run_together_once(app):
    database = app.extensions["tingjian"].db
    enqueue_all(database, "test.batch", 5)
    batches: list[list[int]] = []
    registry = Registry()
    registry.register(
        "test.batch",
        lambda session, payload, now: batches.append([payload["n"]]),
        batch=lambda session, payloads, now: batches.append([p["n"] for p in payloads]),
    )
    assert run_pending(database, registry, city_now) == 5
    assert batches == [[0, 1, 2, 3, 4]]
    assert statuses(database) == {n: (DONE, 1) for n in range(5)}
    assert run_pending(database, registry, city_now) == 0


def test_a_failing_batch_is_run_job_by_job_so_only_the_bad_job_waits(app):
    database = app.extensions["tingjian"].db
    enqueue_all(database, "test.batch", 4)

    def one(session, payload, now):
        if payload["n"] == 2:
            raise ValueError("this one is bad")
        # The job's work, written in its transaction (as a job due tomorrow, so not run here).
        enqueue(session, "test.work", {"n": payload["n"]}, now, delay=timedelta(days=1))

    def many(session, payloads, now):
        for payload in payloads:
            one(session, payload, now)

    registry = Registry()
    registry.register("test.batch", one, batch=many)
    assert run_pending(database, registry, city_now) == 4
    with database.Session() as session:
        # The batch's partial work was rolled back; then each job ran alone, once.
        work = session.scalars(select(Job.payload).where(Job.kind == "test.work")).all()
        assert sorted(p["n"] for p in work) == [0, 1, 3]
        batch = {j.payload["n"]: (j.status, j.attempts) for j in session.scalars(select(Job).where(Job.kind == "test.batch"))}
        assert batch[2] == (QUEUED, 1) and all(batch[n] == (DONE, 1) for n in (0, 1, 3))
        assert "this one is bad" in session.scalar(select(Job.last_error).where(Job.kind == "test.batch", Job.status == QUEUED))


def test_a_batch_takes_no_more_than_its_size(app):
    database = app.extensions["tingjian"].db
    enqueue_all(database, "test.batch", BATCH_SIZE + 8)
    sizes: list[int] = []
    registry = Registry()
    registry.register("test.batch", lambda s, p, n: sizes.append(1), batch=lambda s, ps, n: sizes.append(len(ps)))
    assert run_pending(database, registry, city_now) == BATCH_SIZE + 8
    assert sizes == [BATCH_SIZE, 8]
