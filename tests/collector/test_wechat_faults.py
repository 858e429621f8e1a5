"""The WeChat callback under faults: deliveries racing each other or the
jobs on the same ticket. Every delivery gets an answer, and no message is
stored twice."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event, select

from routing.clock import now as city_now
from routing.jobs import run_pending
from routing.models import Message, Ticket

from .test_wechat import COMPLAINT, app_config, fake, post, reply_text, stored, xml  # noqa: F401 - fixtures
from .test_wechat_quick import deliver_together

MORE = "补充：路灯杆也歪了，快倒了。"


def tingjian(app):
    return app.extensions["tingjian"]


@contextmanager
def once_between_read_and_write(app, action: Callable[[], None]) -> Iterator[list]:
    """``action`` run once, when a session of the app first flushes a change:
    after the view has read the ticket, before it writes it. Sessions that
    ``action`` itself opens flush unhindered."""
    fired: list = []

    def before_flush(session, _context, _instances) -> None:
        if not fired:
            fired.append(session)
            action()

    sessions = tingjian(app).db.Session
    event.listen(sessions, "before_flush", before_flush)
    try:
        yield fired
    finally:
        event.remove(sessions, "before_flush", before_flush)


def in_a_thread(action: Callable[[], None]) -> None:
    """``action`` on a thread of its own, as another worker would: the
    view's session is the thread's."""
    thread = threading.Thread(target=action)
    thread.start()
    thread.join()


def messages_on(session, ticket_id: int) -> list[str]:
    session.expire_all()
    return session.scalars(select(Message.external_id).where(Message.ticket_id == ticket_id).order_by(Message.id)).all()


def wechat_ticket(session) -> Ticket:
    session.expire_all()
    return session.scalars(select(Ticket).where(Ticket.channel == "wechat")).one()


# -- 1. a join racing its twins, other joins or the jobs ---------------------------


def test_simultaneous_deliveries_of_a_join_all_get_the_first_reply(app, client, demo):
    post(client, xml("text", 5001, Content=COMPLAINT))
    replies = deliver_together(app, [xml("text", 5002, Content=MORE)] * 12)
    assert None not in replies and len(set(replies)) == 1
    assert "补充到工单" in replies[0]
    ticket = wechat_ticket(demo)
    assert messages_on(demo, ticket.id) == ["msg:5001", "msg:5002"]
    assert ticket.text.count(MORE) == 1


def test_simultaneous_joins_of_different_messages_all_join_the_ticket(app, client, demo):
    post(client, xml("text", 5101, Content=COMPLAINT))
    bodies = [xml("text", 5110 + i, Content=f"{MORE}（{i}）") for i in range(8)]
    replies = deliver_together(app, bodies)
    ticket = wechat_ticket(demo)
    assert all(f"补充到工单 {ticket.number}" in reply for reply in replies)
    assert sorted(messages_on(demo, ticket.id)) == sorted(["msg:5101", *(f"msg:{5110 + i}" for i in range(8))])
    assert all(ticket.text.count(f"{MORE}（{i}）") == 1 for i in range(8))


def test_a_retry_stored_between_the_read_and_the_write_gets_the_first_reply(app, client, demo):
    post(client, xml("text", 5201, Content=COMPLAINT))
    join = xml("text", 5202, Content=MORE)
    first: list[str] = []

    def twin() -> None:
        first.append(reply_text(post(app.test_client(), join)))

    with once_between_read_and_write(app, lambda: in_a_thread(twin)) as fired:
        response = post(client, join)
    assert fired and len(first) == 1
    assert response.status_code == 200 and reply_text(response) == first[0]
    assert messages_on(demo, wechat_ticket(demo).id) == ["msg:5201", "msg:5202"]


def test_a_join_while_the_classify_job_changes_the_ticket_joins_the_ticket_as_the_job_left_it(app, client, demo):
    post(client, xml("text", 5301, Content=COMPLAINT))
    services = tingjian(app)

    def classify() -> None:
        assert run_pending(services.db, services.jobs, city_now) == 1

    with once_between_read_and_write(app, classify) as fired:
        response = post(client, xml("text", 5302, Content=MORE))
    assert fired and response.status_code == 200
    ticket = wechat_ticket(demo)
    assert f"补充到工单 {ticket.number}" in reply_text(response)
    assert ticket.topic is not None and ticket.agency is not None  # the job's reading stands
    assert ticket.text.endswith(MORE) and messages_on(demo, ticket.id) == ["msg:5301", "msg:5302"]
    assert [e.action for e in ticket.events].count("add_message") == 1
