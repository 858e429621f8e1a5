"""The deputy is told (代表通知) when their ticket is answered or a deadline
passes: a notice in the portal always, a WeChat message when bound; exactly
once per ticket and event, however often the outbox runs."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from collector.deputies import DeputyInput, deputy_of, submit
from routing.clock import now as city_now
from routing.flow import steps, workflow
from routing.flow.escalation import send_reminders
from routing.store.deputies import DeputyNotice
from routing.store.jobs import Job
from routing.store.people import User
from routing.store.tickets import Ticket
from routing.store.workers import run_pending

from ..helpers import agency_login, fixed_reading
from .test_wechat import app_config, fake  # noqa: F401  (the same official account, faked)

DEPUTY_OPENID = "oDeputyWang01"
SUGGESTION = "建议在西湖区文新街道学院路增设公交站台，方便周边居民出行。"


def run_jobs(app, at=city_now) -> int:
    services = app.extensions["tingjian"]
    return run_pending(services.db, services.jobs, at)


def the_deputy(session):
    return deputy_of(session, session.scalar(select(User).where(User.username == "deputy")))


def raise_suggestion(session, at: datetime) -> tuple[Ticket, User]:
    ticket = submit(session, the_deputy(session), DeputyInput(text=SUGGESTION, mode="suggestion"), fixed_reading, at)
    staff = session.scalar(select(User).where(User.username == agency_login(session, ticket.agency)))
    return ticket, staff


def notices(session) -> list[DeputyNotice]:
    session.expire_all()
    return list(session.scalars(select(DeputyNotice).order_by(DeputyNotice.id)))


def test_an_answer_reaches_a_bound_deputy_on_wechat_and_in_the_portal_once(app, client, auth, demo, fake):
    the_deputy(demo).wechat_openid = DEPUTY_OPENID
    demo.commit()
    at = city_now()
    ticket, staff = raise_suggestion(demo, at)
    workflow.accept(demo, ticket, staff, at)
    workflow.answer(demo, ticket, staff, at, "已会同公交集团研究，明年增设站台。", grade="B")
    # The same news enqueued again (a retried request) is the same job.
    steps.notify_deputy(demo, ticket, "answer", at.isoformat(), at)
    demo.commit()

    run_jobs(app)
    run_jobs(app)
    [notice] = notices(demo)
    assert notice.event == "answer" and notice.read_at is None and "明年增设站台" in notice.text
    [sent] = [m for m in fake.fake.sent if m["touser"] == DEPUTY_OPENID]
    content = sent["text"]["content"]
    assert ticket.number in content and "B 类" in content
    assert f"https://tingjian.test/deputy/tickets/{ticket.number}" in content

    auth.login("deputy")
    portal = client.get("/deputy/").get_data(as_text=True)
    assert "新消息（1）" in portal and ticket.number in portal
    client.get(f"/deputy/tickets/{ticket.number}")
    assert notices(demo)[0].read_at is not None
    assert "新消息" not in client.get("/deputy/").get_data(as_text=True)


def test_a_job_run_again_tells_nobody_twice(app, demo, fake):
    the_deputy(demo).wechat_openid = DEPUTY_OPENID
    at = city_now()
    ticket, staff = raise_suggestion(demo, at)
    workflow.accept(demo, ticket, staff, at)
    workflow.answer(demo, ticket, staff, at, "已答复。", grade="A")
    demo.commit()
    job = demo.scalar(select(Job).where(Job.kind == steps.NOTIFY_DEPUTY))
    run_jobs(app)
    # As a worker whose lease ran out would run it, after the first one finished.
    app.extensions["tingjian"].jobs.handlers[steps.NOTIFY_DEPUTY](demo, dict(job.payload), at)
    assert len(notices(demo)) == 1
    assert len([m for m in fake.fake.sent if m["touser"] == DEPUTY_OPENID]) == 1


def test_a_passed_deadline_is_told_once_in_the_portal_to_a_deputy_without_wechat(app, client, auth, demo, fake):
    at = city_now()
    ticket, _staff = raise_suggestion(demo, at)
    demo.commit()
    late = ticket.accept_by + timedelta(hours=1)
    send_reminders(demo, late)
    demo.commit()
    send_reminders(demo, late + timedelta(days=1))
    demo.commit()
    run_jobs(app, lambda: late)
    [notice] = notices(demo)
    assert notice.event == "overdue" and "签收时限" in notice.text and "已催办" in notice.text
    assert not [m for m in fake.fake.sent if m["touser"] == DEPUTY_OPENID]  # not bound: the portal only
    auth.login("deputy")
    assert "超期" in client.get("/deputy/").get_data(as_text=True)


def test_tickets_no_deputy_raised_make_no_deputy_jobs(demo):
    at = city_now()
    ticket, staff = raise_suggestion(demo, at)
    demo.commit()
    steps.notify_deputy(demo, ticket, "answer", "x", at)
    residents = demo.scalars(select(Ticket).where(Ticket.id != ticket.id)).all()
    assert residents
    for other in residents:
        steps.notify_deputy(demo, other, "answer", "x", at)
    assert demo.scalar(select(func.count()).select_from(Job).where(Job.kind == steps.NOTIFY_DEPUTY)) == 1


def test_a_deputy_wechat_refuses_for_good_still_finds_the_notice_in_the_portal(app, demo, fake):
    the_deputy(demo).wechat_openid = DEPUTY_OPENID
    at = city_now()
    ticket, staff = raise_suggestion(demo, at)
    workflow.accept(demo, ticket, staff, at)
    workflow.answer(demo, ticket, staff, at, "已会同公交集团研究，明年增设站台。", grade="B")
    demo.commit()
    fake.fake.refuse = 43004  # the deputy unfollowed the official account

    run_jobs(app)
    [notice] = notices(demo)
    assert notice.event == "answer"
    job = demo.scalar(select(Job).where(Job.kind == steps.NOTIFY_DEPUTY))
    assert job.status == "done"
    told = [e for e in demo.get(Ticket, ticket.id).events if e.action == "notify_deputy"]
    assert told[-1].detail["channels"] == ["portal"] and "43004" in told[-1].detail["wechat_refused"]
