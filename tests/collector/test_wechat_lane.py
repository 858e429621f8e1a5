"""The quick lane (PostgreSQL): a resident's new matter in text is answered
before Flask, in one SQL statement, with exactly the rows and the reply the
callback view gives; everything else goes on to the view unchanged."""

from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import event, select

from collector.wechat import callback as callback_view
from collector.wechat.lane import QuickLane
from routing.store.tickets import Message, Ticket

from .test_wechat import COMPLAINT, app_config, fake, post, reply_text, stored, xml  # noqa: F401 - fixtures


@pytest.fixture(autouse=True)
def postgresql_only(database_url: str):
    if not database_url.startswith("postgresql"):
        pytest.skip("the lane serves PostgreSQL; on SQLite the view's own short path answers")


@pytest.fixture
def statements(app):
    seen: list[str] = []
    engine = app.extensions["tingjian"].db.autocommit  # the lane's own
    listener = lambda *args: seen.append(args[2])  # noqa: E731 - the statement's text
    event.listen(engine, "before_cursor_execute", listener)
    yield seen
    event.remove(engine, "before_cursor_execute", listener)


@pytest.fixture
def no_view(monkeypatch):
    """The view's intake, made to fail: what the lane answers never reaches it."""

    def refuse(*args, **kwargs):
        raise AssertionError("the callback view was asked")

    monkeypatch.setattr(callback_view, "receive", refuse)


def lane_of(app) -> QuickLane:
    wsgi = app.wsgi_app
    while not isinstance(wsgi, QuickLane):
        wsgi = wsgi.app  # through ProxyFix, where it is installed
    return wsgi


def test_the_lane_is_in_front_of_the_application(app):
    assert lane_of(app).wsgi_app.__self__ is app  # Flask's own wsgi_app comes after it


def test_a_new_matter_is_stored_and_answered_in_one_statement(client, demo, statements, no_view):
    post(client, xml("text", 5000, sender="oWarmUp", Content=COMPLAINT))  # draws the first ticket ids
    statements.clear()
    response = post(client, xml("text", 5001, Content=COMPLAINT), encrypted=True)
    assert response.status_code == 200 and response.mimetype == "text/xml"
    reply = reply_text(response, encrypted=True)
    assert len(statements) == 1
    ticket = demo.scalar(select(Ticket).join(Message).where(Message.external_id == "msg:5001"))
    assert f"工单号 {ticket.number}，查询码 {ticket.code}" in reply
    assert ticket.messages[0].payload["reply"] == reply
    assert [e.action for e in ticket.events] == ["create"]


def test_a_repeated_delivery_gets_the_first_reply_from_the_lane(client, demo, no_view):
    first = reply_text(post(client, xml("text", 5101, Content=COMPLAINT)))
    assert reply_text(post(client, xml("text", 5101, Content=COMPLAINT))) == first
    assert stored(demo) == 1 and stored(demo, Ticket) == 1


def test_the_link_in_the_reply_is_the_one_flask_builds_and_opens_the_ticket(app, client, demo):
    app.config["PUBLIC_URL"] = ""  # the link is built from the request, as url_for builds it
    reply = reply_text(post(client, xml("text", 5201, Content=COMPLAINT)))
    ticket = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    with app.test_request_context("/wechat"):
        link = url_for("station.status", number=ticket.number, code=ticket.code, _external=True)
    assert reply.endswith(f"查看办理进度：{link}")
    page = client.get(link)
    assert page.status_code == 200 and ticket.number in page.get_data(as_text=True)


def test_public_url_makes_the_link_as_the_view_does(app, client, demo):
    app.config["PUBLIC_URL"] = "https://tingjian.example.cn/"
    reply = reply_text(post(client, xml("text", 5301, Content=COMPLAINT)))
    ticket = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    assert reply.endswith(f"https://tingjian.example.cn/status/{ticket.number}?code={ticket.code}")


@pytest.mark.parametrize(
    ("what", "body"),
    [
        ("a command", xml("text", 5401, Content="查询")),
        ("a photo", xml("image", 5402, PicUrl="http://127.0.0.1/p.jpg", MediaId="m1")),
        ("an event", xml("event", Event="subscribe")),
        ("a text without words", xml("text", 5403, Content="   ")),
    ],
)
def test_what_is_no_new_matter_in_text_goes_on_to_the_view(client, demo, monkeypatch, what, body):
    asked = []
    original = callback_view.receive
    monkeypatch.setattr(callback_view, "receive", lambda *args: asked.append(what) or original(*args))
    assert post(client, body).status_code == 200
    assert asked == [what]


def test_a_sender_with_a_current_matter_goes_on_to_the_view_and_joins_it(client, demo):
    post(client, xml("text", 5501, Content=COMPLAINT))
    reply = reply_text(post(client, xml("text", 5502, Content="补充：路灯杆也歪了")))
    ticket = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    assert reply.startswith(f"已将补充内容补充到工单 {ticket.number}")
    assert stored(demo) == 2 and stored(demo, Ticket) == 1


def test_what_the_lane_cannot_trust_is_refused_by_the_view_and_nothing_is_stored(client, demo):
    body = xml("text", 5601, Content=COMPLAINT).encode()
    forged = client.post(
        "/wechat", query_string={"timestamp": "1", "nonce": "2", "signature": "0" * 40}, data=body, content_type="text/xml"
    )
    assert forged.status_code == 403
    huge = post(client, xml("text", 5602, Content="很" * 200_000))
    assert huge.status_code == 413
    assert stored(demo) == 0


def test_without_a_token_the_lane_stands_aside(app, client, demo):
    app.config["WECHAT_TOKEN"] = ""
    assert post(client, xml("text", 5701, Content=COMPLAINT)).status_code == 404
    assert stored(demo) == 0


def test_a_retry_or_a_join_spends_no_ticket_id(client, demo):
    post(client, xml("text", 5801, Content=COMPLAINT))
    post(client, xml("text", 5801, Content=COMPLAINT))  # WeChat's retry
    post(client, xml("text", 5802, Content="补充：灯杆也歪了"))  # joins
    post(client, xml("text", 5803, sender="oNeighbour", Content=COMPLAINT))
    ids = demo.scalars(select(Ticket.id).where(Ticket.channel == "wechat").order_by(Ticket.id)).all()
    assert len(ids) == 2 and ids[1] == ids[0] + 1


def test_with_jobs_in_process_the_first_message_starts_the_worker_and_the_lane_takes_the_next(
    database_url, model_dir, app_config, demo, monkeypatch
):
    from admin import create_app

    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": database_url, "MODEL_DIR": str(model_dir),
        "SERVER_NAME": "tingjian.test", "JOBS_IN_PROCESS": True, **app_config,
    })
    services = app.extensions["tingjian"]
    asked = []
    original = callback_view.receive
    monkeypatch.setattr(callback_view, "receive", lambda *args: asked.append(args[1].id) or original(*args))
    client = app.test_client()
    try:
        # Flask answers the first: its first request starts the job worker
        # that reads what the lane stores.
        post(client, xml("text", 5901, Content=COMPLAINT))
        assert services.worker is not None and services.worker.is_alive()
        post(client, xml("text", 5902, sender="oNeighbour", Content=COMPLAINT))
        assert asked == [5901]
        assert stored(demo, Ticket) == 2
    finally:
        if services.worker is not None:
            services.worker.stop()
            services.worker.join(timeout=10)
        services.db.dispose()
