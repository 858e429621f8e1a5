"""WeChat customer-service messages (微信公众号客服消息) to residents and
deputies, by their openid: the official account's own channel.

The same wechatpy client the callback's media downloads use, its access
token in the ``shared_value`` table every process reads; every call, the
token fetch included, goes to ``WECHAT_API_BASE_URL`` with a timeout.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage
from wechatpy.session.memorystorage import MemoryStorage

from collector.outbound.base import Channel, OutboundMessage
from collector.wechat.client import DEFAULT_API_BASE, CityWeChatClient
from routing.store.jobs import Permanent
from routing.texts import N_

# WeChat's answers that no retry can change: the message fails at once, saying why.
REFUSALS = {
    40003: "openid 无效",
    43004: "对方未关注公众号",
    43019: "对方已将公众号拉黑",
    45015: "超过 48 小时回复时限",
    45047: "客服消息条数超过上限",
}


def official_account_client(config: Mapping[str, Any], storage: SessionStorage) -> CityWeChatClient:
    return CityWeChatClient(
        config.get("WECHAT_APPID") or "",
        config.get("WECHAT_APPSECRET") or "",
        storage=storage,
        api_base_url=config.get("WECHAT_API_BASE_URL") or DEFAULT_API_BASE,
    )


class WeChatChannel(Channel):
    """A text message (客服消息) to one follower: ``recipient`` is their
    openid. WeChat takes these only within 48 hours of the follower's last
    message (45015, refused for good)."""

    name: ClassVar[str] = "wechat"
    label: ClassVar[str] = N_("微信公众号客服消息")
    required_settings: ClassVar[tuple[str, ...]] = ("WECHAT_APPID", "WECHAT_APPSECRET")

    def __init__(self, client: CityWeChatClient) -> None:
        self.client = client

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], *, storage: SessionStorage | None = None, **_runtime: Any
    ) -> WeChatChannel | None:
        if not all(config.get(name) for name in cls.required_settings):
            return None
        return cls(official_account_client(config, storage if storage is not None else MemoryStorage()))

    def send(self, message: OutboundMessage) -> None:
        try:
            self.client.message.send_text(message.recipient, message.text)
        except WeChatClientException as exc:
            if exc.errcode in REFUSALS:
                raise Permanent(f"微信拒绝发送（{exc.errcode}，{REFUSALS[exc.errcode]}）：{exc.errmsg}") from exc
            raise
