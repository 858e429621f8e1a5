"""What every outbound channel (外发渠道) is: a small class built from the
settings, or not at all when the settings leave it unconfigured, that delivers
one message to one recipient.

The channels follow one interface, the way redash keeps its destinations, so
that the outbox's jobs, the administrators' channel page and the benchmarks
treat WeChat, SMS, WeCom, DingTalk and email alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class OutboundMessage:
    """One message to one recipient.

    ``text`` is what a free-text channel shows. Channels that may only send
    registered templates (SMS in China: 短信模板) send ``occasion``'s template
    with ``params`` instead, never ``text``. ``title`` and ``url`` are used by
    channels that show a card (WeCom's text card) or a link.
    """

    recipient: str
    text: str
    occasion: str = ""
    params: Mapping[str, str] = field(default_factory=dict)
    title: str = ""
    url: str = ""
    urgent: bool = False


class Channel:
    """An outbound channel. Subclasses set ``name`` (its code, stable: it is
    stored on jobs and events) and ``label`` (its Chinese name, for pages), and
    implement ``from_config`` and ``send``.

    ``send`` returns normally when the provider accepted the message; raises
    ``routing.store.jobs.Permanent`` with a reason a person can read when it can
    never succeed (an invalid number, a template not approved), and any other
    exception when it may succeed later (the job retries with back-off).
    """

    name: ClassVar[str]
    label: ClassVar[str]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Channel | None:
        """The channel built from the application's settings, or None when
        they leave it off."""
        raise NotImplementedError

    def send(self, message: OutboundMessage) -> None:
        raise NotImplementedError
