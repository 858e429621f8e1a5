"""Group robots of WeCom and DingTalk through their webhooks, against fakes
that check the key, DingTalk's signature and its time."""

from __future__ import annotations

import time

import pytest
from limits.storage import MemoryStorage

from collector.outbound.base import OutboundMessage
from collector.outbound.robots import (
    DingTalkRobotChannel,
    RateLimited,
    WeComRobotChannel,
    dingtalk_recipient,
)
from routing.store.jobs import Permanent
from tests.collector.fake_staff_channels import FakeRobots, FakeServer


@pytest.fixture
def robots():
    with FakeServer(FakeRobots()) as server:
        yield server


def settings(server: FakeServer) -> dict:
    return {
        "WECOM_ROBOT_API_BASE": f"{server.url}/cgi-bin/webhook/send",
        "DINGTALK_ROBOT_API_BASE": f"{server.url}/robot/send",
    }


def test_a_signed_dingtalk_robot_posts_the_text(robots):
    channel = DingTalkRobotChannel.from_config(settings(robots))
    channel.send(
        OutboundMessage(
            dingtalk_recipient("https://oapi.dingtalk.com/robot/send?access_token=ding-token", "SECding-secret"),
            "工单 T1 已催办",
            title="催办",
        )
    )
    assert robots.fake.dingtalk_sent == [{"msgtype": "text", "text": {"content": "催办\n工单 T1 已催办"}}]


def test_a_wrong_secret_is_refused_for_good(robots):
    channel = DingTalkRobotChannel.from_config(settings(robots))
    with pytest.raises(Permanent, match="310000"):
        channel.send(OutboundMessage(dingtalk_recipient("ding-token", "SECwrong"), "一"))
    assert robots.fake.dingtalk_sent == []


def test_a_signature_an_hour_old_is_refused(robots):
    channel = DingTalkRobotChannel.from_config(settings(robots))
    channel.clock = lambda: time.time() - 2 * 3600
    with pytest.raises(Permanent, match="310000"):
        channel.send(OutboundMessage(dingtalk_recipient("ding-token", "SECding-secret"), "一"))


def test_an_unsigned_robot_needs_no_secret(robots):
    DingTalkRobotChannel.from_config(settings(robots)).send(OutboundMessage("plain", "一"))
    assert len(robots.fake.dingtalk_sent) == 1


def test_a_wecom_robot_is_named_by_its_key_or_its_webhook(robots):
    channel = WeComRobotChannel.from_config(settings(robots))
    channel.send(OutboundMessage("wecom-robot-key", "一"))
    channel.send(OutboundMessage("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-robot-key", "二"))
    assert [m["text"]["content"] for m in robots.fake.wecom_sent] == ["一", "二"]
    with pytest.raises(Permanent, match="93000"):
        channel.send(OutboundMessage("unknown-key", "三"))


def test_twenty_messages_a_minute_per_robot_then_the_rest_wait(robots):
    storage = MemoryStorage()  # one storage: as every process shares RATELIMIT_STORAGE_URI
    first = DingTalkRobotChannel.from_config(settings(robots), limiter_storage=storage)
    second = DingTalkRobotChannel.from_config(settings(robots), limiter_storage=storage)
    for n in range(20):
        (first if n % 2 else second).send(OutboundMessage("plain", f"第{n}条"))
    with pytest.raises(RateLimited):
        first.send(OutboundMessage("plain", "第21条"))
    assert len(robots.fake.dingtalk_sent) == 20
    # Another robot has its own twenty.
    second.send(OutboundMessage(dingtalk_recipient("ding-token", "SECding-secret"), "另一个群"))
    assert len(robots.fake.dingtalk_sent) == 21


def test_a_rate_limited_message_is_not_refused_for_good():
    assert not issubclass(RateLimited, Permanent)
