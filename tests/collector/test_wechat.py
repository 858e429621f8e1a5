"""The WeChat channel through the real callback, with WeChat's servers faked
on loopback: signatures, safe mode, exactly-once, every message type, and
the loop closing on WeChat."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest
import xmltodict
from sqlalchemy import func, select
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto

from routing.clock import now as city_now
from routing.flow import workflow
from routing.store.jobs import Job
from routing.store.people import User
from routing.store.tickets import Message, Status, Ticket
from routing.store.workers import run_pending

from ..helpers import agency_login
from .fake_wechat import FakeWeChat, FakeWeChatServer

TOKEN = "spamtest"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wx2c2769f8efd9abc2"
OPENID = "oResident0001"
COMPLAINT = "拱墅区米市巷街道某小区门口的路灯坏了两个星期，晚上一片漆黑，老人出门很不安全。"


@pytest.fixture
def fake():
    with FakeWeChatServer(FakeWeChat(appid=APPID, secret="app-secret")) as server:
        yield server


@pytest.fixture
def app_config(fake):
    return fake.app_config(TOKEN, AES_KEY)


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def xml(msg_type: str, msg_id: int | None = None, sender: str = OPENID, created: int | None = None, **fields) -> str:
    created = created or int(time.time())
    body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" if isinstance(v, str) else f"<{k}>{v}</{k}>" for k, v in fields.items())
    msg_id_xml = f"<MsgId>{msg_id}</MsgId>" if msg_id is not None else ""
    return (
        f"<xml><ToUserName><![CDATA[gh_city]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{body}{msg_id_xml}</xml>"
    )


def post(client, body: str, *, encrypted: bool = False, timestamp: str = "1700000000", nonce: str = "424242"):
    query = {"timestamp": timestamp, "nonce": nonce, "signature": sign(TOKEN, timestamp, nonce)}
    if encrypted:
        envelope = xmltodict.parse(WeChatCrypto(TOKEN, AES_KEY, APPID).encrypt_message(body, nonce, timestamp))["xml"]
        query |= {"encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]}
        body = f"<xml><ToUserName><![CDATA[gh_city]]></ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    return client.post("/wechat", query_string=query, data=body.encode(), content_type="text/xml")


def reply_text(response, *, encrypted: bool = False, timestamp: str = "1700000000", nonce: str = "424242") -> str:
    body = response.get_data(as_text=True)
    if encrypted:
        envelope = xmltodict.parse(body)["xml"]
        body = WeChatCrypto(TOKEN, AES_KEY, APPID).decrypt_message(
            body, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"]
        )
    return parse_message(body).content


def app_db(client):
    return client.application.extensions["tingjian"].db


def app_jobs(client):
    return client.application.extensions["tingjian"].jobs


def settle(client, session, clock=city_now) -> int:
    """Run the jobs the callback left (reading new tickets, media, messages),
    as the workers would, and let ``session`` see what they did."""
    ran = run_pending(app_db(client), app_jobs(client), clock)
    session.expire_all()
    return ran


def stored(session, model=Message) -> int:
    """Messages or tickets that came by WeChat (the demo has web tickets too)."""
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(model.channel == "wechat"))


# -- who may speak ---------------------------------------------------------


def test_verification_echoes_only_for_a_good_signature(client):
    good = {"signature": sign(TOKEN, "1", "2"), "timestamp": "1", "nonce": "2", "echostr": "hello-wechat"}
    assert client.get("/wechat", query_string=good).get_data(as_text=True) == "hello-wechat"
    assert client.get("/wechat", query_string=good | {"signature": "0" * 40}).status_code == 403
    assert client.get("/wechat", query_string={"echostr": "x"}).status_code == 403


def test_the_published_safe_mode_vector_decrypts_and_verifies(client, demo):
    # WeChat's own sample: token spamtest, its EncodingAESKey and AppID.
    encrypt = (
        "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2Ld"
        "JF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5"
        "VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpX"
        "gCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9"
        "GhglF2PE="
    )
    body = f"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    query = {
        "signature": "16120ec1b8dbb870f510d87ce6bc2463eae6ca1a",
        "msg_signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
        "timestamp": "1409735669",
        "nonce": "1320562132",
        "encrypt_type": "aes",
    }
    response = client.post("/wechat", query_string=query, data=body, content_type="text/xml")
    assert response.status_code == 200
    message = demo.scalar(select(Message).where(Message.external_id == "msg:6054768590064713728"))
    assert message.sender == "oyORnuP8q7ou2gfYjqLzSIWZf0rs" and message.payload["text"] == "abcdteT"
    reply = reply_text(response, encrypted=True)
    assert message.ticket.number in reply

    tampered = query | {"msg_signature": "0" * 40}
    assert client.post("/wechat", query_string=tampered, data=body, content_type="text/xml").status_code == 403


def test_a_bad_or_missing_signature_stores_nothing(client, demo):
    body = xml("text", 1, Content=COMPLAINT)
    assert client.post("/wechat", data=body, content_type="text/xml").status_code == 403
    bad = {"signature": "f" * 40, "timestamp": "1", "nonce": "2"}
    assert client.post("/wechat", query_string=bad, data=body, content_type="text/xml").status_code == 403
    assert stored(demo) == 0 and stored(demo, Ticket) == 0


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><xml><MsgType>text</MsgType><Content>&lol3;</Content></xml>'
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>9</MsgId></xml>"
)


@pytest.mark.parametrize("body", ["<xml><unclosed>", "not xml at all", BILLION_LAUGHS, XXE, "<xml><Content>x</Content></xml>", ""])
def test_malformed_bodies_and_entity_tricks_are_refused_and_store_nothing(client, demo, body):
    response = post(client, body)
    assert 400 <= response.status_code < 500
    assert stored(demo) == 0


def test_an_oversized_body_is_refused(client, demo):
    response = post(client, xml("text", 2, Content="长" * 200_000))
    assert response.status_code == 413
    assert stored(demo) == 0


def test_an_unknown_message_type_gets_a_polite_answer(client, demo):
    response = post(client, xml("miniprogrampage", 3, Title="小程序"))
    assert response.status_code == 200
    assert "暂不支持" in reply_text(response)
    assert stored(demo, Ticket) == 0


# -- exactly once -------------------------------------------------------------


@pytest.mark.parametrize("encrypted", [False, True])
def test_a_retried_delivery_creates_nothing_new_and_gets_the_same_answer(client, demo, encrypted):
    body = xml("text", 1001, Content=COMPLAINT)
    replies = [reply_text(post(client, body, encrypted=encrypted), encrypted=encrypted) for _ in range(3)]
    assert replies[0] == replies[1] == replies[2]
    assert stored(demo) == 1 and stored(demo, Ticket) == 1
    ticket = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    assert ticket.number in replies[0] and ticket.code in replies[0]
    assert "https://tingjian.test/status/" in replies[0]


def test_the_answer_comes_at_once_and_the_classifier_reads_the_ticket_in_a_job(client, demo):
    reply = reply_text(post(client, xml("text", 1501, Content=COMPLAINT)))
    ticket = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    # Numbered and acknowledged before anything slow happens.
    assert ticket.status is Status.RECEIVED and ticket.number in reply and ticket.code in reply
    assert ticket.topic is None and ticket.agency is None
    assert demo.scalar(select(Job.kind).where(Job.status == "queued")) == "intake.classify"

    assert settle(client, demo) == 1
    ticket = demo.get(Ticket, ticket.id)
    assert ticket.status is Status.ASSIGNED and ticket.topic and ticket.agency is not None
    assert (ticket.district.name, ticket.street.name) == ("拱墅区", "米市巷街道")
    assert [e.action for e in ticket.events] == ["create", "classify", "assign"]
    # A repeated run (a worker that died after the work, before marking it done) changes nothing.
    classify = app_jobs(client).handlers["intake.classify"]
    with app_db(client).Session() as session:
        classify(session, {"ticket_id": ticket.id}, city_now())
        session.commit()
    demo.expire_all()
    assert [e.action for e in demo.get(Ticket, ticket.id).events] == ["create", "classify", "assign"]


def test_a_ticket_left_unread_reaches_the_dispatcher(client, demo):
    from routing.reports.queues import CLASSIFY_GRACE, triage_queue

    post(client, xml("text", 1502, Content=COMPLAINT))
    ticket = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    # Its job failing again and again (say the model store is broken), the ticket
    # still shows in triage once the grace has passed; it is never invisible.
    assert ticket not in triage_queue(demo, ticket.created_at)
    assert ticket in triage_queue(demo, ticket.created_at + CLASSIFY_GRACE)


def test_simultaneous_deliveries_on_several_workers_make_one_message(app, demo):
    body = xml("text", 2002, Content=COMPLAINT)
    replies: list[str] = []
    barrier = threading.Barrier(4)

    def deliver():
        client = app.test_client()
        barrier.wait()
        response = post(client, body)
        replies.append(reply_text(response))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(replies) == 4 and len(set(replies)) == 1
    assert stored(demo) == 1 and stored(demo, Ticket) == 1


def test_events_are_kept_once_by_sender_and_time(client, demo):
    body = xml("event", None, created=1700000123, Event="subscribe")
    first, again = post(client, body), post(client, body)
    assert "欢迎关注" in reply_text(first) and reply_text(again) == reply_text(first)
    assert stored(demo) == 1
    assert post(client, xml("event", None, created=1700000124, Event="unsubscribe")).get_data(as_text=True) == "success"


def test_unrecognised_events_are_kept_by_sender_time_and_event(client, demo):
    # wechatpy reads an event it does not know as a message without MsgId (id 0).
    first = xml("event", None, sender="oFirst", created=1700000500, Event="subscribe_msg_popup_event")
    other = xml("event", None, sender="oSecond", created=1700000501, Event="publishjobfinish")
    same_moment = xml("event", None, sender="oFirst", created=1700000500, Event="publishjobfinish")
    for body in (first, other, same_moment, first):
        assert post(client, body).status_code == 200
    keys = demo.scalars(select(Message.external_id).where(Message.channel == "wechat").order_by(Message.id)).all()
    assert keys == [
        "event:oFirst:1700000500:subscribe_msg_popup_event",
        "event:oSecond:1700000501:publishjobfinish",
        "event:oFirst:1700000500:publishjobfinish",
    ]


def test_an_event_whose_key_would_outgrow_its_column_is_kept_once_by_its_hash(client, demo):
    sender, event = "o" * 128, "e" * 100
    body = xml("event", None, sender=sender, created=1700000600, Event=event)
    assert [post(client, body).status_code for _ in range(2)] == [200, 200]
    keys = demo.scalars(select(Message.external_id).where(Message.sender == sender)).all()
    assert len(keys) == 1 and len(keys[0]) <= 128 and keys[0].startswith("event#")


def accepted_on_wechat(client, demo, msg_id: int) -> tuple[Ticket, User]:
    """A WeChat resident's ticket just accepted, its notice due; and the agency's staff who accepted it."""
    post(client, xml("text", msg_id, Content=COMPLAINT))
    settle(client, demo)
    ticket = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    staff = demo.scalar(select(User).where(User.username == agency_login(demo, ticket.agency)))
    workflow.accept(demo, ticket, staff, city_now())
    demo.commit()
    return ticket, staff
