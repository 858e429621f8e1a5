"""The outbound channels (外发渠道) Tingjian knows, in one list: the outbox's
jobs, the administrators' channel page and the benchmarks find them here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from collector.outbound.base import Channel

# Channel classes, one import per module.
from collector.outbound.email import EmailChannel
from collector.outbound.robots import DingTalkRobotChannel, WeComRobotChannel
from collector.outbound.sms import SmsChannel
from collector.outbound.wechat import WeChatChannel
from collector.outbound.wecom import WeComChannel

CHANNELS: list[type[Channel]] = [
    # One line per channel class.
    WeChatChannel,
    SmsChannel,
    WeComChannel,
    WeComRobotChannel,
    DingTalkRobotChannel,
    EmailChannel,
]


def channel_classes() -> list[type[Channel]]:
    return list(CHANNELS)


def build_channels(config: Mapping[str, Any], **runtime: Any) -> dict[str, Channel]:
    """The channels the settings turn on, by name; an unconfigured one is absent."""
    built = {}
    for cls in CHANNELS:
        channel = cls.from_config(config, **runtime) if runtime else cls.from_config(config)
        if channel is not None:
            built[cls.name] = channel
    return built
