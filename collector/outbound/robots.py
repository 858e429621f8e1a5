"""Group robots (群机器人) of WeCom and DingTalk: a message posted to a group's
webhook. An agency that works in a group chat names its robot; the channel
only knows the provider's address (a setting, so tests point it at a fake).

Both providers allow a robot 20 messages a minute. The count is kept in the
rate-limit storage the application already shares between its processes
(``RATELIMIT_STORAGE_URI``): a message over the limit is deferred — its job
runs again a little later — never dropped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import requests
from limits import parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from collector.outbound.base import Channel, OutboundMessage
from routing.store.jobs import Permanent
from routing.texts import N_

WECOM_ROBOT_BASE = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
DINGTALK_ROBOT_BASE = "https://oapi.dingtalk.com/robot/send"
ROBOT_RATE = parse("20 per minute")
TIMEOUT = 5.0


class RateLimited(Exception):
    """The robot has sent its 20 messages this minute: try again later."""


def robot_limiter(config: Mapping[str, Any], storage: Storage | None = None) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(storage or storage_from_string(config.get("RATELIMIT_STORAGE_URI") or "memory://"))


def webhook_token(recipient: str, name: str) -> str:
    """The robot's key from a pasted webhook address, or the key itself."""
    if recipient.startswith(("http://", "https://")):
        values = parse_qs(urlsplit(recipient).query).get(name)
        if not values or not values[0]:
            raise Permanent(f"机器人地址里没有 {name}")
        return values[0]
    return recipient.strip()


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """加签: HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret, in base64
    (requests URL-encodes it as a query parameter)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def dingtalk_recipient(webhook: str, secret: str = "") -> str:
    """How a DingTalk robot is named as a recipient: its access token, and
    after a space its signing secret (加签密钥, ``SEC…``) when it has one."""
    token = webhook_token(webhook, "access_token")
    return f"{token} {secret.strip()}" if secret.strip() else token


class _Robot(Channel):
    token_name: ClassVar[str]
    default_base: ClassVar[str]
    base_setting: ClassVar[str]
    required_settings: ClassVar[tuple[str, ...]] = ()
    # Answers that mean the robot is gone or misconfigured: no retry helps.
    refusals: ClassVar[dict[int, str]]
    too_fast: ClassVar[set[int]]

    def __init__(
        self,
        base: str,
        limiter: MovingWindowRateLimiter,
        *,
        http: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base = base
        self.limiter = limiter
        self.http = http or requests.Session()
        self.clock = clock

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], *, limiter_storage: Storage | None = None, **_runtime: Any
    ) -> _Robot:
        # Always on: each agency names its own robot.
        return cls(config.get(cls.base_setting) or cls.default_base, robot_limiter(config, limiter_storage))

    def _post(self, params: dict[str, str], body: dict[str, Any]) -> None:
        if not self.limiter.hit(ROBOT_RATE, self.name, params[self.token_name]):
            raise RateLimited(f"{self.label}每分钟最多 20 条，稍后再发")
        try:
            response = self.http.post(self.base, params=params, json=body, timeout=TIMEOUT)
            response.raise_for_status()
            result = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ConnectionError(f"{self.label}未应答：{exc}") from exc
        errcode = int(result.get("errcode", 0))
        if errcode in self.too_fast:
            raise RateLimited(f"{self.label}限流（{errcode}）：{result.get('errmsg')}")
        if errcode in self.refusals:
            raise Permanent(f"{self.label}拒绝发送（{errcode}，{self.refusals[errcode]}）：{result.get('errmsg')}")
        if errcode:
            raise RuntimeError(f"{self.label}发送失败（{errcode}）：{result.get('errmsg')}")


def _text(message: OutboundMessage) -> str:
    text = f"{message.title}\n{message.text}" if message.title else message.text
    return f"{text}\n{message.url}" if message.url else text


class WeComRobotChannel(_Robot):
    """``recipient``: the robot's key, or its webhook address."""

    name: ClassVar[str] = "wecom_robot"
    label: ClassVar[str] = N_("企业微信群机器人")
    token_name: ClassVar[str] = "key"
    default_base: ClassVar[str] = WECOM_ROBOT_BASE
    base_setting: ClassVar[str] = "WECOM_ROBOT_API_BASE"
    refusals: ClassVar[dict[int, str]] = {93000: "机器人地址无效", 93008: "机器人已被移出群聊"}
    too_fast: ClassVar[set[int]] = {45009}

    def send(self, message: OutboundMessage) -> None:
        key = webhook_token(message.recipient, "key")
        self._post({"key": key}, {"msgtype": "text", "text": {"content": _text(message)}})


class DingTalkRobotChannel(_Robot):
    """``recipient``: as ``dingtalk_recipient`` makes it. A robot with a
    secret signs each message with the time (DingTalk refuses a signature
    more than an hour off)."""

    name: ClassVar[str] = "dingtalk_robot"
    label: ClassVar[str] = N_("钉钉群机器人")
    token_name: ClassVar[str] = "access_token"
    default_base: ClassVar[str] = DINGTALK_ROBOT_BASE
    base_setting: ClassVar[str] = "DINGTALK_ROBOT_API_BASE"
    refusals: ClassVar[dict[int, str]] = {
        300001: "机器人 access_token 无效",
        310000: "签名、关键词或 IP 校验未通过",
        400102: "机器人已停用",
    }
    too_fast: ClassVar[set[int]] = {130101}

    def send(self, message: OutboundMessage) -> None:
        token, _, secret = message.recipient.strip().partition(" ")
        params = {"access_token": webhook_token(token, "access_token")}
        if secret:
            timestamp = int(self.clock() * 1000)
            params |= {"timestamp": str(timestamp), "sign": dingtalk_sign(secret.strip(), timestamp)}
        self._post(params, {"msgtype": "text", "text": {"content": _text(message)}})
