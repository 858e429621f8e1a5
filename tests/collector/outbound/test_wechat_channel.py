"""WeChat customer-service messages as the registry's channel: off until the
account's AppID and secret are set, a text to a follower through wechatpy
against a fake WeChat that checks the token, the token shared through the
database, WeChat's refusals for good told apart from failures that pass; on
the administrators' channel page with a test message."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from collector.outbound.base import OutboundMessage
from collector.outbound.registry import build_channels, channel_classes
from collector.outbound.wechat import WeChatChannel
from collector.wechat.client import DatabaseStorage
from routing.store.configuration import SharedValue
from routing.store.contacts import StaffMessage
from routing.store.jobs import Permanent
from tests.collector.fake_wechat import FakeWeChat, FakeWeChatServer
from tests.conftest import post_form

OPENID = "oFollower0001"


@pytest.fixture
def wechat():
    with FakeWeChatServer(FakeWeChat(appid="wx-channel", secret="channel-secret")) as server:
        yield server


def settings(server: FakeWeChatServer) -> dict:
    return {
        "WECHAT_APPID": server.fake.appid,
        "WECHAT_APPSECRET": server.fake.secret,
        "WECHAT_API_BASE_URL": server.base_url,
    }


@pytest.fixture
def app_config(wechat) -> dict:
    return settings(wechat)


def test_off_until_the_appid_and_secret_are_set(wechat):
    assert WeChatChannel in channel_classes()
    assert WeChatChannel.from_config({}) is None
    assert "wechat" not in build_channels(settings(wechat) | {"WECHAT_APPSECRET": ""})
    assert isinstance(build_channels(settings(wechat))["wechat"], WeChatChannel)


def test_a_text_reaches_the_follower_with_the_token_kept_in_the_database(app, wechat):
    storage = DatabaseStorage(app.extensions["tingjian"].db)
    WeChatChannel.from_config(settings(wechat), storage=storage).send(OutboundMessage(OPENID, "您的工单已签收。"))
    WeChatChannel.from_config(settings(wechat), storage=storage).send(OutboundMessage(OPENID, "已答复。"))
    assert [(m["touser"], m["msgtype"], m["text"]["content"]) for m in wechat.fake.sent] == [
        (OPENID, "text", "您的工单已签收。"),
        (OPENID, "text", "已答复。"),
    ]
    assert wechat.fake.tokens_issued == 1
    with app.extensions["tingjian"].db.Session() as session:
        assert session.scalar(select(SharedValue.value).where(SharedValue.key.like("wx-channel_%"))) == "TOKEN-1"


def test_a_follower_who_unsubscribed_is_refused_for_good(wechat):
    wechat.fake.refuse = 43004
    with pytest.raises(Permanent, match="43004，对方未关注公众号"):
        WeChatChannel.from_config(settings(wechat)).send(OutboundMessage(OPENID, "一"))


def test_wechat_failing_is_a_failure_that_retries(wechat):
    wechat.fake.fail_next["send"] = 1
    channel = WeChatChannel.from_config(settings(wechat))
    with pytest.raises(Exception) as raised:
        channel.send(OutboundMessage(OPENID, "一"))
    assert not isinstance(raised.value, Permanent)
    channel.send(OutboundMessage(OPENID, "一"))
    assert len(wechat.fake.sent) == 1


def test_the_channel_page_shows_it_on_and_sends_a_test_message(client, auth, demo, wechat):
    auth.login("admin")
    page = client.get("/admin/channels/").get_data(as_text=True)
    assert "微信公众号客服消息" in page
    answer = post_form(
        client,
        "/admin/channels/test",
        {"channel": "wechat", "recipient": OPENID},
        page="/admin/channels/",
        follow_redirects=True,
    )
    assert "测试消息已发出" in answer.get_data(as_text=True)
    assert wechat.fake.sent[-1]["touser"] == OPENID
    demo.expire_all()
    record = demo.scalar(select(StaffMessage).where(StaffMessage.channel == "wechat"))
    assert record.result == "sent" and OPENID not in record.recipient
