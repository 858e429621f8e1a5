"""WeCom application messages through wechatpy's enterprise client, against a
fake WeCom that checks the token, the agent id and each message's fields."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from collector.outbound.base import OutboundMessage
from collector.outbound.wecom import WeComChannel
from collector.wechat.client import DatabaseStorage
from routing.store.configuration import SharedValue
from routing.store.jobs import Permanent
from tests.collector.fake_staff_channels import FakeServer, FakeWeCom


@pytest.fixture
def wecom():
    with FakeServer(FakeWeCom()) as server:
        yield server


def settings(server: FakeServer) -> dict:
    fake = server.fake
    return {
        "WECOM_CORP_ID": fake.corp_id,
        "WECOM_AGENT_ID": str(fake.agent_id),
        "WECOM_SECRET": fake.secret,
        "WECOM_API_BASE": f"{server.url}/cgi-bin/",
    }


def test_off_until_the_corp_agent_and_secret_are_set(wecom):
    assert WeComChannel.from_config({}) is None
    assert WeComChannel.from_config(settings(wecom) | {"WECOM_SECRET": ""}) is None
    assert WeComChannel.from_config(settings(wecom)) is not None


def test_a_text_card_reaches_the_member_with_a_fresh_token(wecom):
    channel = WeComChannel.from_config(settings(wecom))
    channel.send(OutboundMessage("zhangsan", "工单 T1 新派单：道路破损", title="新派单", url="https://tj.test/a/1"))
    [sent] = wecom.fake.sent
    assert sent["touser"] == "zhangsan" and sent["msgtype"] == "textcard"
    assert sent["textcard"]["description"] == "工单 T1 新派单：道路破损"
    assert wecom.fake.tokens_issued == 1


def test_the_token_is_shared_by_every_process_through_the_database(app, wecom):
    storage = DatabaseStorage(app.extensions["tingjian"].db)
    first = WeComChannel.from_config(settings(wecom), storage=storage)
    second = WeComChannel.from_config(settings(wecom), storage=storage)
    first.send(OutboundMessage("zhangsan", "一"))
    second.send(OutboundMessage("lisi", "二"))
    assert wecom.fake.tokens_issued == 1
    with app.extensions["tingjian"].db.Session() as session:
        assert session.scalar(select(SharedValue.value).where(SharedValue.key.like("ww-test-corp_%"))) == "WECOM-1"


def test_an_expired_token_42001_is_fetched_anew_and_the_message_sent_once(wecom):
    channel = WeComChannel.from_config(settings(wecom))
    channel.send(OutboundMessage("zhangsan", "一"))
    wecom.fake.expire_all()
    channel.send(OutboundMessage("zhangsan", "二"))
    assert [m["text"]["content"] for m in wecom.fake.sent] == ["一", "二"]
    assert wecom.fake.tokens_issued == 2


def test_a_member_wecom_does_not_know_is_refused_for_good(wecom):
    channel = WeComChannel.from_config(settings(wecom))
    with pytest.raises(Permanent, match="81013"):
        channel.send(OutboundMessage("nobody", "一"))
    assert wecom.fake.sent == []


def test_a_wrong_agent_id_is_refused_for_good(wecom):
    channel = WeComChannel.from_config(settings(wecom) | {"WECOM_AGENT_ID": "42"})
    with pytest.raises(Permanent, match="40056"):
        channel.send(OutboundMessage("zhangsan", "一"))


def test_wecom_unreachable_is_a_failure_that_retries(wecom):
    channel = WeComChannel.from_config(settings(wecom) | {"WECOM_API_BASE": "http://127.0.0.1:9/cgi-bin/"})
    with pytest.raises(Exception) as raised:
        channel.send(OutboundMessage("zhangsan", "一"))
    assert not isinstance(raised.value, Permanent)
