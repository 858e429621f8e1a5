"""The common case on WeChat — a text about a new matter from a sender with
none current — takes a short path (one probe, plain INSERTs). It must store
exactly what the general path stores, and keep every guarantee under
concurrency: one ticket per delivery, unique numbers, the same reply."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select
from wechatpy import parse_message

from routing.flow.inbound import CODE_LENGTH, Inbound
from routing.flow.tickets import open_ticket
from routing.store.jobs import Job
from routing.store.tickets import Message, Status, Ticket, TicketEvent

from .test_wechat import COMPLAINT, app_config, fake, post, reply_text, stored, xml  # noqa: F401 - fixtures

OTHER = "滨江区长河街道有工地每天夜里十二点以后还在打桩，噪音吵得人睡不着。"


def deliver_together(app, bodies: list[str]) -> list[str]:
    """Post the bodies at the same moment, each from its own client (as
    several gunicorn workers would); the replies, in order."""
    replies: list[str | None] = [None] * len(bodies)
    barrier = threading.Barrier(len(bodies))

    def deliver(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        replies[i] = reply_text(post(client, bodies[i]))

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return replies


def test_the_short_path_stores_what_open_ticket_stores(client, demo):
    reply = reply_text(post(client, xml("text", 3001, Content=COMPLAINT)))
    quick = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    general = open_ticket(demo, Inbound(channel="web", text=COMPLAINT), None, quick.created_at)
    demo.commit()
    # The optimistic lock's counter only has to grow from wherever it starts.
    columns = [c.key for c in Ticket.__table__.columns if c.key not in {"id", "number", "code", "channel", "version"}]
    assert {c: getattr(quick, c) for c in columns} == {c: getattr(general, c) for c in columns}
    assert quick.number == f"{quick.created_at:%Y%m%d}{quick.id:06d}" and len(quick.code) == CODE_LENGTH
    assert f"工单号 {quick.number}，查询码 {quick.code}" in reply
    event = quick.events[0]
    assert (event.action, event.to_status, event.actor, event.detail) == (
        "create", Status.RECEIVED.value, general.events[0].actor, {"channel": "wechat", "prediction": None}
    )
    message = quick.messages[0]
    assert message.external_id == "msg:3001" and message.sender == "oResident0001"
    assert message.payload["text"] == COMPLAINT and message.payload["reply"] == reply
    assert message.payload["type"] == "text" and message.payload["raw"]["Content"] == COMPLAINT
    job = demo.scalar(select(Job).where(Job.kind == "intake.classify"))
    assert (job.payload, job.status, job.attempts, job.max_attempts) == ({"ticket_id": quick.id}, "queued", 0, 10)


def test_simultaneous_new_matters_get_unique_numbers_and_their_own_replies(app, demo):
    bodies = [xml("text", 3100 + i, sender=f"oSender{i:02d}", Content=f"{COMPLAINT}（{i}）") for i in range(8)]
    replies = deliver_together(app, bodies)
    tickets = demo.scalars(select(Ticket).where(Ticket.channel == "wechat").order_by(Ticket.id)).all()
    assert len(tickets) == 8 and len({t.number for t in tickets}) == 8
    for ticket in tickets:
        message = ticket.messages[0]
        assert message.payload["reply"] == replies[int(message.sender[-2:])]
        assert ticket.number in message.payload["reply"] and ticket.code in message.payload["reply"]
        assert [e.action for e in ticket.events] == ["create"]
    assert demo.scalar(select(Job.id).where(Job.kind != "intake.classify")) is None
    assert len(demo.scalars(select(Job)).all()) == 8


def test_a_new_matter_delivered_at_once_to_several_workers_is_one_ticket_with_one_reply(app, demo):
    replies = deliver_together(app, [xml("text", 3200, Content=COMPLAINT)] * 6)
    assert len(set(replies)) == 1
    assert stored(demo) == 1 and stored(demo, Ticket) == 1
    ticket = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    assert ticket.number in replies[0]
    assert len(demo.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).all()) == 1
    assert len(demo.scalars(select(Job)).all()) == 1


def test_retries_joins_and_commands_spend_no_ticket_number(client, demo):
    first = reply_text(post(client, xml("text", 3301, Content=COMPLAINT)))
    assert reply_text(post(client, xml("text", 3301, Content=COMPLAINT))) == first  # WeChat's retry
    post(client, xml("text", 3302, Content="补充：路灯杆也歪了"))  # joins the current matter
    post(client, xml("text", 3303, Content="查询"))
    post(client, xml("text", 3304, sender="oNeighbour", Content=OTHER))
    ids = demo.scalars(select(Ticket.id).where(Ticket.channel == "wechat").order_by(Ticket.id)).all()
    assert len(ids) == 2 and ids[1] == ids[0] + 1
    assert len(demo.scalars(select(Message).where(Message.ticket_id == ids[0])).all()) == 2


def test_a_sender_with_a_waiting_ticket_or_recent_message_is_not_taken_for_a_new_matter(app, client, demo):
    from collector.wechat.delivery import Settings
    from collector.wechat.intake import receive

    classifier = app.extensions["tingjian"].classifier.current()
    settings = Settings(window=timedelta(minutes=10))
    first = receive(demo, parse_message(xml("text", 3401, Content=COMPLAINT)), classifier, ticket_time(demo), settings)
    assert first.created and first.ticket.status is Status.RECEIVED
    # Only a query lately: the query is no matter, so the next text opens one.
    later = ticket_time(demo) + timedelta(hours=1)
    receive(demo, parse_message(xml("text", 3402, Content="查询")), classifier, later, settings)
    again = receive(demo, parse_message(xml("text", 3403, Content=OTHER)), classifier, later + timedelta(minutes=1), settings)
    assert again.created and again.ticket_id != first.ticket_id


def ticket_time(session):
    from routing.clock import now

    return now().replace(microsecond=0)
