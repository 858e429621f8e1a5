"""Notices to residents: sent once when staff change the ticket meanwhile or
a worker crashes after recording the send, and the at-least-once boundary
(a crash between the send and its record sends again, recorded once)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from routing.clock import now as city_now
from routing.flow import workflow
from routing.store.jobs import DONE, Job
from routing.store.people import User
from routing.store.tickets import Ticket, TicketEvent
from routing.store.workers import run_pending

from .test_wechat import accepted_on_wechat, app_config, app_db, app_jobs, fake  # noqa: F401

LATER = timedelta(hours=2)  # past any back-off: whatever is still due runs


class Crash(Exception):
    """The worker dying at that point."""


@pytest.fixture
def accepted(client, demo):
    return accepted_on_wechat(client, demo, 71)


def run_all(client) -> None:
    start = city_now() + timedelta(minutes=1)  # the worker runs a while after the step that asked it
    for clock in (lambda: start, lambda: start + LATER):
        run_pending(app_db(client), app_jobs(client), clock)


def accept_notices(fake) -> list[dict]:
    return [m for m in fake.fake.sent if "签收" in m["text"]["content"]]


def recorded(session, ticket: Ticket) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == "notify"))


def test_a_staff_change_while_the_notice_is_sent_does_not_send_it_again(client, demo, fake, accepted):
    ticket, staff = accepted

    def agency_answers_meanwhile(message: dict) -> None:
        fake.fake.on_send = None
        with app_db(client).Session() as other:
            workflow.answer(other, other.get(Ticket, ticket.id), other.get(User, staff.id), city_now(), "路灯已修复。")
            other.commit()

    fake.fake.on_send = agency_answers_meanwhile
    run_all(client)
    assert len(accept_notices(fake)) == 1
    assert "路灯已修复" in fake.fake.sent[-1]["text"]["content"]  # the answer's own notice
    assert recorded(demo, ticket) == 2
    assert set(demo.scalars(select(Job.status).where(Job.kind == "notify.resident"))) == {DONE}


@pytest.fixture
def crash_on_commit(app):
    """Crash the worker once, around the commit of the first notice's record
    (``when``: "before" or "after" that commit)."""
    sessions = app.extensions["tingjian"].db.Session
    plan = {"when": None, "pending": False}

    def flushed(session, _context) -> None:
        if any(isinstance(o, TicketEvent) and o.action == "notify" for o in session.new):
            plan["pending"] = True

    def crash(when: str):
        def listener(session) -> None:
            if plan["pending"] and plan["when"] == when:
                plan["when"] = None
                raise Crash(f"the worker died {when} the commit")
        return listener

    listeners = [("before_flush", lambda s, c, _i: flushed(s, c)), ("before_commit", crash("before")),
                 ("after_commit", crash("after"))]
    for name, fn in listeners:
        event.listen(sessions, name, fn)
    yield plan
    for name, fn in listeners:
        event.remove(sessions, name, fn)


def test_a_crash_after_the_notices_record_commits_sends_nothing_again(client, demo, fake, accepted, crash_on_commit):
    ticket, _ = accepted
    crash_on_commit["when"] = "after"
    run_all(client)
    assert crash_on_commit["when"] is None  # it did crash
    assert len(accept_notices(fake)) == 1
    assert recorded(demo, ticket) == 1


def test_a_crash_between_the_send_and_its_record_sends_again_and_records_once(
    client, demo, fake, accepted, crash_on_commit
):
    """The at-least-once boundary: WeChat took the message, the worker died
    before the commit of its record; the job runs again and sends again."""
    ticket, _ = accepted
    crash_on_commit["when"] = "before"
    run_all(client)
    assert crash_on_commit["when"] is None
    assert len(accept_notices(fake)) == 2
    assert recorded(demo, ticket) == 1
    assert demo.scalar(select(Job.status).where(Job.kind == "notify.resident")) == DONE


# -- a channel that is down delays, and never loses ------------------------------


def notice_job(session) -> Job:
    session.expire_all()
    return session.scalar(select(Job).where(Job.kind == "notify.resident"))


def test_a_notice_is_retried_past_any_outage_at_most_half_an_hour_apart(client, demo, fake, accepted):
    fake.fake.fail_next["send"] = 14  # hours of WeChat being down
    clock = city_now()
    waits = []
    for _ in range(15):
        run_pending(app_db(client), app_jobs(client), lambda: clock)
        job = notice_job(demo)
        if job.status != "queued":
            break
        waits.append(job.run_after - clock)
        clock = job.run_after
    assert (job.status, job.attempts, len(fake.fake.sent)) == (DONE, 15, 1)
    assert max(waits) == timedelta(minutes=30)


@pytest.mark.parametrize("errcode", [40003, 43004, 43019, 45015, 45047])
def test_a_refusal_for_good_fails_the_notice_at_once_with_the_reason(client, demo, fake, accepted, errcode):
    fake.fake.refuse = errcode
    run_pending(app_db(client), app_jobs(client), city_now)
    job = notice_job(demo)
    assert (job.status, job.attempts) == ("failed", 1)
    assert str(errcode) in job.last_error
    assert fake.fake.sent == []
