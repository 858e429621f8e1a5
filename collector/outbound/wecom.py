"""WeCom application messages (企业微信应用消息) to staff, by their WeCom user id.

wechatpy's enterprise client, its access token in the ``shared_value`` table
that every process reads (as the official account's token is): one worker's
refresh does not invalidate the others'. Every call, the token fetch included,
goes to ``WECOM_API_BASE`` with a timeout.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

import requests
from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage
from wechatpy.session.memorystorage import MemoryStorage

from collector.outbound.base import Channel, OutboundMessage
from routing.store.jobs import Permanent
from routing.texts import N_

DEFAULT_API_BASE = "https://qyapi.weixin.qq.com/cgi-bin/"
# The token was refused (invalid 40014, expired 42001, 40001 another secret's): fetch anew, try once more.
TOKEN_REFUSED = {40001, 40014, 42001}
# Answers no retry can change.
REFUSALS = {
    40003: "成员 UserID 无效",
    60111: "成员 UserID 不存在",
    81013: "成员、部门、标签全部无效",
    40056: "应用 AgentID 无效",
    301002: "无权限操作指定的应用",
    82001: "发送对象不在应用可见范围",
}


class WeComClient(WeChatClient):
    """wechatpy's enterprise client with its token fetch at ``api_base`` and
    a timeout, and without its own retry on a refused token (which repeats
    without end when the new token is refused too): the channel retries once."""

    def __init__(self, corp_id: str, secret: str, *, storage: SessionStorage, api_base: str, timeout: float = 5.0):
        super().__init__(corp_id, secret, session=storage, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = api_base if api_base.endswith("/") else api_base + "/"

    def fetch_access_token(self):
        try:
            res = self._http.get(
                self.API_BASE_URL + "gettoken",
                params={"corpid": self.corp_id, "corpsecret": self.secret},
                timeout=self.timeout,
            )
            res.raise_for_status()
        except requests.RequestException as exc:
            raise WeChatClientException(None, f"token fetch failed: {exc}", client=self) from exc
        result = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg"), client=self, response=res)
        expires_in = int(result.get("expires_in", 7200))
        self.session.set(self.access_token_key, result["access_token"], expires_in)
        self.expires_at = int(time.time()) + expires_in
        return result

    @property
    def access_token(self):
        # The shared store decides: another worker may have refreshed it.
        token = self.session.get(self.access_token_key)
        if token:
            return token
        self.fetch_access_token()
        return self.session.get(self.access_token_key)


class WeComChannel(Channel):
    """To one or more WeCom members: ``recipient`` is their UserIDs joined by ``|``.
    A message with a ``url`` is a text card (文本卡片), else plain text."""

    name: ClassVar[str] = "wecom"
    label: ClassVar[str] = N_("企业微信应用消息")
    required_settings: ClassVar[tuple[str, ...]] = ("WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET")

    def __init__(self, client: WeComClient, agent_id: int) -> None:
        self.client = client
        self.agent_id = agent_id

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], *, storage: SessionStorage | None = None, **_runtime: Any
    ) -> WeComChannel | None:
        if not all(config.get(name) for name in cls.required_settings):
            return None
        client = WeComClient(
            str(config["WECOM_CORP_ID"]),
            str(config["WECOM_SECRET"]),
            storage=storage if storage is not None else MemoryStorage(),
            api_base=config.get("WECOM_API_BASE") or DEFAULT_API_BASE,
        )
        return cls(client, int(config["WECOM_AGENT_ID"]))

    def _send_once(self, message: OutboundMessage) -> dict[str, Any]:
        if message.url:
            return self.client.message.send_text_card(
                self.agent_id, message.recipient, message.title or message.text[:32], message.text, message.url
            )
        return self.client.message.send_text(self.agent_id, message.recipient, message.text)

    def send(self, message: OutboundMessage) -> None:
        try:
            try:
                result = self._send_once(message)
            except WeChatClientException as exc:
                if exc.errcode not in TOKEN_REFUSED:
                    raise
                # Refused by WeCom, so stale for every process: drop it from the shared store.
                self.client.session.delete(self.client.access_token_key)
                result = self._send_once(message)
        except WeChatClientException as exc:
            if exc.errcode in REFUSALS:
                raise Permanent(f"企业微信拒绝发送（{exc.errcode}，{REFUSALS[exc.errcode]}）：{exc.errmsg}") from exc
            raise
        invalid = (result or {}).get("invaliduser") if isinstance(result, dict) else None
        if invalid and set(invalid.split("|")) >= set(message.recipient.split("|")):
            raise Permanent(f"企业微信拒绝发送：成员 {invalid} 无效或不在应用可见范围")
