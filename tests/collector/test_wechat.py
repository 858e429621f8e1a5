"""The WeChat channel through the real callback, with WeChat's servers faked
on loopback: signatures, safe mode, exactly-once, every message type, and
the loop closing on WeChat."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import datetime, timedelta

import pytest
import xmltodict
from sqlalchemy import func, select
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto

from routing.flow import workflow
from routing.clock import now as city_now
from routing.store.jobs import Job
from routing.store.workers import run_pending
from routing.store.tickets import Attachment, Message, Status, Ticket
from routing.store.people import User

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


# -- every message type, one matter -------------------------------------------


def test_text_photo_and_location_close_together_are_one_ticket(client, demo, fake):
    fake.fake.media["photo-1"] = (b"\xff\xd8jpeg-bytes", "image/jpeg")
    post(client, xml("text", 11, Content=COMPLAINT))
    photo = reply_text(post(client, xml("image", 12, PicUrl="http://example.invalid/p.jpg", MediaId="photo-1")))
    place = reply_text(
        post(client, xml("location", 13, Location_X=30.2741, Location_Y=120.1551, Scale=15, Label="拱墅区米市巷街道"))
    )
    assert stored(demo, Ticket) == 1
    ticket = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    assert "图片" in photo and "位置" in place and ticket.number in photo
    assert (ticket.latitude, ticket.longitude, ticket.location_text) == (30.2741, 120.1551, "拱墅区米市巷街道")
    assert [e.action for e in ticket.events if e.action == "add_message"] == ["add_message", "add_message"]

    # The photo is fetched by a job, from WeChat's (fake) media API.
    attachment = demo.scalar(select(Attachment))
    assert attachment.kind == "image" and attachment.downloaded_at is None
    run_pending(app_db(client), app_jobs(client), city_now)
    demo.expire_all()
    assert demo.get(Attachment, attachment.id).data == b"\xff\xd8jpeg-bytes"
    assert fake.fake.tokens_issued == 1


def test_a_location_gives_the_place_a_text_did_not_name(client, demo):
    post(client, xml("text", 17, Content="门口的路灯坏了两个星期，晚上一片漆黑，老人出门很不安全。"))
    ticket = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    assert ticket.district is None
    post(client, xml("location", 18, Location_X=30.28, Location_Y=120.13, Scale=15,
                     Label="浙江省杭州市西湖区文新街道学院路77号"))
    demo.expire_all()
    ticket = demo.get(Ticket, ticket.id)
    assert (ticket.district.name, ticket.street.name) == ("西湖区", "文新街道")
    assert ticket.events[-1].action == "locate"


def test_new_problem_starts_a_new_ticket(client, demo):
    post(client, xml("text", 21, Content=COMPLAINT))
    assert "新问题" in reply_text(post(client, xml("text", 22, Content="新问题")))
    post(client, xml("text", 23, Content="滨江区长河街道有工地每天夜里十二点以后还在打桩，噪音吵得人睡不着。"))
    assert stored(demo, Ticket) == 2


def test_voice_with_recognition_becomes_the_tickets_text(client, demo):
    post(client, xml("voice", 31, MediaId="voice-1", Format="amr", Recognition=COMPLAINT))
    settle(client, demo)
    ticket = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    assert ticket.text == COMPLAINT and ticket.status is Status.ASSIGNED
    assert demo.scalar(select(Attachment)).kind == "voice"
    assert demo.scalar(select(Job).where(Job.kind == "wechat.download_media")) is not None


def test_voice_without_recognition_waits_for_transcription_and_is_never_lost(client, demo):
    reply = reply_text(post(client, xml("voice", 41, MediaId="voice-2", Format="speex")))
    ticket = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    assert ticket.status is Status.TRIAGE and ticket.events[-1].reason == "语音待转写"
    assert ticket.number in reply
    # When text follows, the ticket is classified and routed.
    post(client, xml("text", 42, Content=COMPLAINT))
    demo.expire_all()
    ticket = demo.get(Ticket, ticket.id)
    assert ticket.status is Status.ASSIGNED and ticket.topic


def test_links_and_videos_are_attached(client, demo):
    post(client, xml("text", 51, Content=COMPLAINT))
    post(client, xml("link", 52, Title="现场情况", Description="说明", Url="https://example.invalid/a"))
    post(client, xml("shortvideo", 53, MediaId="video-1", ThumbMediaId="thumb-1"))
    kinds = sorted(a.kind for a in demo.scalars(select(Attachment)))
    assert kinds == ["link", "video"] and stored(demo, Ticket) == 1


def test_asking_back_lists_the_residents_own_tickets(client, demo):
    post(client, xml("text", 61, Content=COMPLAINT))
    ticket = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    listing = reply_text(post(client, xml("text", 62, Content="查询")))
    assert ticket.number in listing and ticket.status.label in listing
    by_number = reply_text(post(client, xml("text", 63, Content=ticket.number)))
    assert ticket.number in by_number
    stranger = reply_text(post(client, xml("text", 64, sender="oSomeoneElse", Content=ticket.number)))
    assert "没有找到" in stranger
    menu = reply_text(post(client, xml("event", None, created=1700000999, Event="CLICK", EventKey="QUERY")))
    assert ticket.number in menu


def test_messages_after_the_window_start_a_new_ticket(app, demo):
    from classifier import Classifier
    from collector.wechat.intake import Settings, receive

    classifier = app.extensions["tingjian"].classifier.current()
    settings = Settings(window=timedelta(minutes=10))
    start = datetime(2026, 11, 2, 9, 0)
    first = receive(demo, parse_message(xml("text", 71, Content=COMPLAINT)), classifier, start, settings)
    later = receive(demo, parse_message(xml("text", 72, Content="补充：路灯杆也歪了")), classifier, start + timedelta(minutes=9), settings)
    next_day = receive(demo, parse_message(xml("text", 73, Content=COMPLAINT)), classifier, start + timedelta(days=1), settings)
    assert first.created and not later.created and later.ticket.id == first.ticket.id
    assert next_day.created and next_day.ticket.id != first.ticket.id
    assert isinstance(classifier, Classifier)


def test_a_reply_to_the_agencys_question_joins_the_waiting_ticket_and_restarts_its_clock(app, client, demo, fake):
    from collector.wechat.intake import Settings, receive

    classifier = app.extensions["tingjian"].classifier.current()
    settings = Settings(window=timedelta(minutes=10))
    start = datetime(2026, 11, 2, 9, 0)
    first = receive(demo, parse_message(xml("text", 75, Content=COMPLAINT)), classifier, start, settings)
    settle(client, demo, lambda: start)
    ticket = demo.get(Ticket, first.ticket.id)
    staff = demo.scalar(select(User).where(User.username == agency_login(demo, ticket.agency)))
    workflow.accept(demo, ticket, staff, start)
    workflow.ask_resident(demo, ticket, staff, start, "请告诉我们是哪一根路灯杆，附近有什么标志？")
    demo.commit()
    answer_by = ticket.answer_by

    # Three days later — long after the window — the resident answers.
    reply = receive(demo, parse_message(xml("text", 76, Content="在3号楼门口，垃圾亭旁边那根。")), classifier,
                    start + timedelta(days=3), settings)
    demo.commit()
    assert not reply.created and reply.ticket.id == ticket.id
    assert ticket.status is Status.ACCEPTED and ticket.paused_at is None
    assert ticket.answer_by > answer_by
    assert [e.action for e in ticket.events][-2:] == ["add_message", "resume"]
    # The question reached the resident on WeChat.
    assert run_pending(app_db(client), app_jobs(client), city_now) >= 1
    assert any("哪一根路灯杆" in m["text"]["content"] for m in fake.fake.sent)


def test_a_resident_rates_the_answer_by_replying_on_wechat(client, demo):
    post(client, xml("text", 77, Content=COMPLAINT))
    settle(client, demo)
    ticket = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    assert "没有等待评价" in reply_text(post(client, xml("text", 78, Content="满意")))
    staff = demo.scalar(select(User).where(User.username == agency_login(demo, ticket.agency)))
    workflow.accept(demo, ticket, staff, city_now())
    workflow.answer(demo, ticket, staff, city_now(), "路灯已修复。")
    demo.commit()
    assert "感谢您" in reply_text(post(client, xml("text", 79, Content="满意")))
    demo.expire_all()
    ticket = demo.get(Ticket, ticket.id)
    assert ticket.status is Status.CLOSED and ticket.rating == "satisfied"


# -- the loop closes on WeChat ------------------------------------------------


def test_the_resident_hears_on_wechat_when_the_agency_accepts_and_answers(client, demo, fake):
    post(client, xml("text", 81, Content=COMPLAINT))
    settle(client, demo)
    ticket = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    staff = demo.scalar(select(User).where(User.username == agency_login(demo, ticket.agency)))
    now = city_now()
    workflow.accept(demo, ticket, staff, now)
    workflow.answer(demo, ticket, staff, now, "路灯已于今日修复。")
    demo.commit()

    assert run_pending(app_db(client), app_jobs(client), city_now) == 2
    assert [m["touser"] for m in fake.fake.sent] == [OPENID, OPENID]
    assert "签收" in fake.fake.sent[0]["text"]["content"]
    assert "路灯已于今日修复" in fake.fake.sent[1]["text"]["content"]
    demo.expire_all()
    assert [e.action for e in demo.get(Ticket, ticket.id).events].count("notify") == 2


def accepted_on_wechat(client, demo, msg_id: int) -> tuple[Ticket, User]:
    """A WeChat resident's ticket just accepted, its notice due; and the agency's staff who accepted it."""
    post(client, xml("text", msg_id, Content=COMPLAINT))
    settle(client, demo)
    ticket = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    staff = demo.scalar(select(User).where(User.username == agency_login(demo, ticket.agency)))
    workflow.accept(demo, ticket, staff, city_now())
    demo.commit()
    return ticket, staff


def test_a_failing_wechat_delays_a_notification_and_never_loses_it(client, demo, fake):
    accepted_on_wechat(client, demo, 91)

    fake.fake.fail_next["send"] = 1
    run_pending(app_db(client), app_jobs(client), city_now)
    job = demo.scalar(select(Job).where(Job.kind == "notify.resident"))
    assert job.status == "queued" and job.attempts == 1 and "502" in job.last_error
    assert fake.fake.sent == []

    later = lambda: city_now() + timedelta(minutes=5)  # noqa: E731 - the clock after the backoff
    run_pending(app_db(client), app_jobs(client), later)
    demo.expire_all()
    assert demo.get(Job, job.id).status == "done"
    assert len(fake.fake.sent) == 1


def test_the_access_token_is_shared_and_refreshed_when_revoked(client, demo, fake):
    from collector.wechat.client import CityWeChatClient, DatabaseStorage

    def new_process_client():
        return CityWeChatClient(APPID, "app-secret", storage=DatabaseStorage(app_db(client)), api_base_url=fake.base_url)

    first, second = new_process_client(), new_process_client()
    first.message.send_text(OPENID, "一")
    second.message.send_text(OPENID, "二")
    assert fake.fake.tokens_issued == 1  # the second "process" used the stored token

    fake.fake.revoked.add("TOKEN-1")  # expired on WeChat's side (40001)
    second.message.send_text(OPENID, "三")
    assert fake.fake.tokens_issued == 2
    assert [m["text"]["content"] for m in fake.fake.sent] == ["一", "二", "三"]
