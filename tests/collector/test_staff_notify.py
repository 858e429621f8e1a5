"""Agency staff hear of their tickets on the channel their agency chose:
urgent tickets at once, the others bundled per agency, reminders (催办);
each occasion sent once however often the outbox runs, recorded with the
recipient masked, on the ticket's timeline, and never the resident's data."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from routing.clock import now as city_now
from routing.flow import answers, workflow
from routing.flow.escalation import send_reminders
from routing.flow.staff_notices import STAFF_BUNDLE, schedule_bundles
from routing.store.answering import ReviewRule
from routing.store.contacts import AgencyChannel, StaffMessage
from routing.store.jobs import Job
from routing.store.people import Agency, User
from routing.store.tickets import Ticket, TicketEvent, Urgency
from routing.store.workers import run_pending

from .fake_staff_channels import FakeRobots, FakeServer, FakeWeCom
from .test_deputy_notices import raise_suggestion

RESIDENT_PHONE = "13912345678"


@pytest.fixture(scope="module")
def servers():
    with FakeServer(FakeWeCom()) as wecom, FakeServer(FakeRobots()) as robots:
        yield wecom, robots


@pytest.fixture
def app_config(servers) -> dict:
    wecom, robots = servers
    wecom.fake.sent.clear()
    robots.fake.dingtalk_sent.clear()
    return {
        "WECOM_CORP_ID": wecom.fake.corp_id,
        "WECOM_AGENT_ID": str(wecom.fake.agent_id),
        "WECOM_SECRET": wecom.fake.secret,
        "WECOM_API_BASE": f"{wecom.url}/cgi-bin/",
        "DINGTALK_ROBOT_API_BASE": f"{robots.url}/robot/send",
        "STAFF_BUNDLE": timedelta(minutes=5),
    }


def run_jobs(app, at: datetime) -> int:
    services = app.extensions["tingjian"]
    return run_pending(services.db, services.jobs, lambda: at)


def choose(session, agency: Agency, kind: str, address: str, secret: str = "") -> None:
    session.merge(AgencyChannel(agency_id=agency.id, kind=kind, address=address, secret=secret, updated_at=city_now()))
    session.commit()


def messages(session) -> list[StaffMessage]:
    session.expire_all()
    return list(session.scalars(select(StaffMessage).order_by(StaffMessage.id)))


def test_an_urgent_ticket_reaches_the_agency_on_wecom_at_once_and_once(app, demo, servers):
    wecom, _ = servers
    at = city_now()
    ticket, _staff = raise_suggestion(demo, at)
    other = demo.scalar(select(Agency).where(Agency.id != ticket.agency_id, Agency.active.is_(True)))
    choose(demo, other, "wecom", "zhangsan")
    ticket.urgency = Urgency.URGENT
    dispatcher = demo.scalar(select(User).where(User.username == "dispatcher"))
    workflow.assign(demo, ticket, other, dispatcher, at, reason="转给属地")
    demo.commit()

    run_jobs(app, at)
    run_jobs(app, at + timedelta(hours=2))
    [sent] = [m for m in wecom.fake.sent if ticket.number in m["text"]["content"]]
    assert sent["touser"] == "zhangsan" and "紧急" in sent["text"]["content"]
    [record] = [m for m in messages(demo) if m.template == "urgent"]
    assert record.result == "sent" and record.channel == "wecom" and record.recipient == "zha***gsan"
    event = demo.scalar(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == "notify_staff")
    )
    assert event.detail == {"channel": "wecom", "to": "zha***gsan", "template": "urgent", "result": "sent"}


def test_other_new_tickets_come_bundled_one_message_per_agency_per_window(app, demo, servers):
    _, robots = servers
    at = datetime(2026, 12, 3, 10, 1)
    first, _ = raise_suggestion(demo, at)
    second, _ = raise_suggestion(demo, at + timedelta(minutes=1))
    agency = demo.get(Agency, first.agency_id)
    choose(
        demo, agency, "dingtalk_robot", "https://oapi.dingtalk.com/robot/send?access_token=ding-token", "SECding-secret"
    )
    schedule_bundles(demo, at, timedelta(minutes=5))
    demo.commit()

    run_jobs(app, at + timedelta(minutes=2))  # the window is not over: nothing yet
    assert robots.fake.dingtalk_sent == []
    run_jobs(app, datetime(2026, 12, 3, 10, 5, 1))
    [sent] = robots.fake.dingtalk_sent
    text = sent["text"]["content"]
    assert "新派单 2 件" in text and first.number in text and second.number in text
    assert [m.template for m in messages(demo)] == ["assigned"]
    assert messages(demo)[0].recipient == "din***oken"
    # The chain goes on: the next window's bundle is queued.
    assert demo.scalar(select(Job.id).where(Job.kind == STAFF_BUNDLE, Job.key == "staff.bundle:20261203101000"))


def test_a_reminder_reaches_the_agency_and_carries_no_resident_data(app, demo, servers):
    wecom, _ = servers
    at = city_now()
    ticket, _ = raise_suggestion(demo, at)
    choose(demo, demo.get(Agency, ticket.agency_id), "wecom", "lisi")
    demo.commit()
    late = ticket.accept_by + timedelta(minutes=1)
    assert send_reminders(demo, late) >= 1
    demo.commit()

    run_jobs(app, late)
    run_jobs(app, late + timedelta(hours=2))
    [sent] = [m for m in wecom.fake.sent if m["touser"] == "lisi" and ticket.number in m["text"]["content"]]
    assert sent["text"]["content"].startswith("催办")
    assert RESIDENT_PHONE not in sent["text"]["content"] and ticket.text[:10] not in sent["text"]["content"]
    assert sum(ticket.number in m.detail["tickets"] for m in messages(demo) if m.template == "reminder") == 1


def test_an_agency_without_a_channel_reads_its_queue_only(app, demo, servers):
    wecom, _ = servers
    at = city_now()
    ticket, _ = raise_suggestion(demo, at)
    late = ticket.accept_by + timedelta(minutes=1)
    send_reminders(demo, late)
    demo.commit()
    run_jobs(app, late)
    assert messages(demo) == [] and wecom.fake.sent == []
    assert demo.get(Ticket, ticket.id) is not None


def test_wecom_down_delays_the_reminder_and_loses_nothing(app, demo, servers):
    wecom, _ = servers
    at = city_now()
    ticket, _ = raise_suggestion(demo, at)
    choose(demo, demo.get(Agency, ticket.agency_id), "wecom", "lisi")
    late = ticket.accept_by + timedelta(minutes=1)
    send_reminders(demo, late)
    demo.commit()
    wecom.fake.fail_next = 100

    run_jobs(app, late)
    assert [m for m in wecom.fake.sent if ticket.number in m["text"]["content"]] == []
    assert messages(demo) == []  # nothing recorded as sent while it was not
    waiting = demo.scalar(select(Job).where(Job.kind == "staff.escalation", Job.status == "queued"))
    assert waiting is not None and waiting.last_error

    wecom.fake.fail_next = 0
    run_jobs(app, late + timedelta(hours=2))
    run_jobs(app, late + timedelta(hours=4))
    assert len([m for m in wecom.fake.sent if ticket.number in m["text"]["content"]]) == 1


def test_an_answer_sent_back_by_the_review_reaches_the_agency_at_once_with_the_reason(app, demo, servers):
    wecom, _ = servers
    at = city_now()
    ticket, staff = raise_suggestion(demo, at)
    choose(demo, demo.get(Agency, ticket.agency_id), "wecom", "lisi")
    demo.add(ReviewRule(kind=None, agency_id=None, review=True, require_signer=False, active=True))
    workflow.accept(demo, ticket, staff, at)
    answers.answer(demo, ticket, staff, at, "已会同公交集团研究，明年增设站台。", grade="B")
    dispatcher = demo.scalar(select(User).where(User.username == "dispatcher"))
    answers.send_back_answer(demo, ticket, dispatcher, at, "未写明增设站台的时间")
    demo.commit()

    run_jobs(app, at)
    run_jobs(app, at + timedelta(hours=2))  # run twice: sent once
    [sent] = [m for m in wecom.fake.sent if m["touser"] == "lisi" and ticket.number in m["text"]["content"]]
    text = sent["text"]["content"]
    assert text.startswith("答复被审核退回") and "未写明增设站台的时间" in text and "请修改后重新答复" in text
    [record] = [m for m in messages(demo) if m.template == "sent_back"]
    assert record.result == "sent" and record.detail == {"tickets": [ticket.number]}
    assert ticket.text[:10] not in text
