"""A deputy binds their WeChat account with a one-time code shown in the
portal; their messages on the official account then arrive as deputy submissions."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from sqlalchemy import select
from wechatpy import parse_message

from collector.wechat.delivery import Settings
from collector.wechat.intake import receive
from routing.clock import now as city_now
from routing.store.deputies import Deputy, DeputySubmission
from routing.store.tickets import Ticket

from ..conftest import post_form

DEPUTY_OPENID = "oDeputyWang01"
COMPLAINT = "西湖区文新街道某小区门口的路灯坏了两个星期，晚上一片漆黑，老人出门很不安全。"


def text(msg_id: int, content: str, sender: str = DEPUTY_OPENID):
    return parse_message(
        f"<xml><ToUserName><![CDATA[gh_city]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def bind_code(client, auth) -> str:
    auth.login("deputy")
    response = post_form(client, "/deputy/wechat", {}, page="/deputy/")
    assert response.status_code == 302
    page = client.get("/deputy/").get_data(as_text=True)
    return re.search(r"绑定 (\d{6})", page).group(1)


def test_a_deputy_binds_wechat_and_their_messages_become_their_submissions(app, client, auth, demo):
    classifier = app.extensions["tingjian"].classifier.current()
    settings = Settings()
    code = bind_code(client, auth)
    reply = receive(demo, text(1, f"绑定 {code}"), classifier, city_now(), settings)
    assert "王代表" in reply.reply and "已绑定" in reply.reply
    deputy = demo.scalar(select(Deputy))
    assert deputy.wechat_openid == DEPUTY_OPENID and deputy.bind_code is None
    # The code works once.
    again = receive(demo, text(2, f"绑定 {code}", sender="oSomeoneElse"), classifier, city_now(), settings)
    assert "不对或已过期" in again.reply

    outcome = receive(demo, text(3, COMPLAINT), classifier, city_now(), settings)
    submission = demo.scalar(select(DeputySubmission))
    assert submission.ticket_id == outcome.ticket.id and submission.deputy_id == deputy.id
    assert outcome.ticket.contact_name == "王代表" and outcome.ticket.channel == "wechat"
    assert outcome.ticket.number in client.get("/deputy/tickets").get_data(as_text=True)
    # A resident's message is no deputy's.
    receive(demo, text(4, COMPLAINT, sender="oResident0002"), classifier, city_now(), settings)
    assert len(demo.scalars(select(DeputySubmission)).all()) == 1
    assert "已绑定微信" in client.get("/deputy/").get_data(as_text=True)


def test_an_expired_or_wrong_code_binds_nothing(app, client, auth, demo):
    classifier = app.extensions["tingjian"].classifier.current()
    code = bind_code(client, auth)
    late = city_now() + timedelta(minutes=11)
    assert "不对或已过期" in receive(demo, text(5, f"绑定 {code}"), classifier, late, Settings()).reply
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert "不对或已过期" in receive(demo, text(6, f"绑定{wrong}"), classifier, city_now(), Settings()).reply
    demo.expire_all()
    assert demo.scalar(select(Deputy)).wechat_openid is None
    assert demo.scalar(select(Ticket).where(Ticket.channel == "wechat")) is None
