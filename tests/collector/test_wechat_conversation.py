"""A resident's conversation with the official account: messages close together
make one ticket, places, voice and links, asking back, replying to the
agency's question, rating on WeChat, and the notices that come back."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from wechatpy import parse_message

from routing.clock import now as city_now
from routing.flow import workflow
from routing.store.jobs import Job
from routing.store.people import User
from routing.store.tickets import Attachment, Status, Ticket
from routing.store.workers import run_pending

from ..helpers import agency_login
from .test_wechat import (  # noqa: F401 - fixtures
    APPID,
    COMPLAINT,
    OPENID,
    accepted_on_wechat,
    app_config,
    app_db,
    app_jobs,
    fake,
    post,
    reply_text,
    settle,
    stored,
    xml,
)

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
    from collector.wechat.delivery import Settings
    from collector.wechat.intake import receive

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
    from collector.wechat.delivery import Settings
    from collector.wechat.intake import receive

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
    assert run_pending(app_db(client), app_jobs(client), lambda: start + timedelta(days=3, minutes=1)) >= 1
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
