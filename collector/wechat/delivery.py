"""A WeChat delivery (投递) and its reply: the key WeChat's retries share, the
words residents use for commands, the settings, the outcome a view sends back,
and the replies both the quick lane and intake give.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from routing.flow import ratings
from routing.flow.inbound import Inbound
from routing.flow.received import Received, TicketIds
from routing.flow.redo import REDO_ESCALATION
from routing.store.tickets import Message, Ticket

from ..deputies import BIND_COMMAND

CHANNEL = "wechat"
# Message.external_id's length.
MAX_KEY = 128
NEW_MATTER = {"新问题", "新的问题", "另一个问题", "新建"}
QUERY = {"查询", "查进度", "进度", "我的工单"}
RATING_WORDS = {label: rating for rating, label in ratings.RATINGS.items()}
TICKET_NUMBER = re.compile(r"^\s*(\d{14,})\s*$")
MEDIA_TYPES = {"image", "voice", "video", "shortvideo"}
WELCOME = (
    "您好，欢迎关注！这里是人大代表联络站的“听见”服务。\n"
    "· 直接发送文字或语音，说清楚问题和地点，我们会交给负责的部门办理；\n"
    "· 可以接着发图片、位置作补充（{window} 分钟内会合并到同一个问题）；\n"
    "· 发送“新问题”开始反映另一件事；\n"
    "· 发送“查询”查看办理进度。"
)


@dataclass(frozen=True)
class Settings:
    window: timedelta = timedelta(minutes=10)
    threshold: float = 0.5
    agency_threshold: float = 0.8
    status_url: Callable[[Ticket | Received], str] = lambda t: ""
    # The setting REDO_ESCALATION, for a 不满意 sent on WeChat.
    redo_escalation: int = REDO_ESCALATION
    # One per process: the ids drawn ahead for new tickets (PostgreSQL).
    ticket_ids: TicketIds = field(default_factory=TicketIds)


@dataclass
class Outcome:
    reply: str | None
    ticket_id: int | None = None
    created: bool = False
    repeated: bool = False
    jobs: list[str] = field(default_factory=list)
    session: Session | None = field(default=None, repr=False)

    @property
    def ticket(self) -> Ticket | None:
        """The ticket, loaded when asked for: the callback needs only the reply."""
        if self.ticket_id is None or self.session is None:
            return None
        return self.session.get(Ticket, self.ticket_id)


def delivery_key(msg: Any) -> str:
    """The idempotency key WeChat's retries share: a message's MsgId; for an
    event, which has none, its sender, CreateTime and event, as WeChat advises."""
    if msg.type == "event":
        return _event_key(msg.source, msg.time, getattr(msg, "event", ""))
    if "MsgId" not in msg._data:
        # An event wechatpy does not know (or a message without MsgId) is an
        # UnknownMessage whose id reads 0: keyed by that, every such delivery
        # from anyone would be taken for a repeat of the first one.
        kind = msg._data.get("Event") or msg._data.get("MsgType") or ""
        return _event_key(msg.source, msg.time, kind.lower())
    return f"msg:{msg.id}"


def _event_key(sender: str, time: Any, event: str) -> str:
    """An event's key, within the column that keeps it: a sender and an event
    name as long as a signed body may carry make a longer key, kept as its hash."""
    key = f"event:{sender}:{time}:{event}"
    if len(key) <= MAX_KEY:
        return key
    return "event#" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def lost_round(exc: BaseException) -> bool:
    """Whether a round that raised ``exc`` was lost to something other than
    the work itself: another writer came first, or the connection died
    (whether the work was stored is then read again, not guessed)."""
    if isinstance(exc, (IntegrityError, StaleDataError)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def repeated(session: Session | None, stored: tuple[dict[str, Any], int | None]) -> Outcome:
    payload, ticket_id = stored
    return Outcome(payload.get("reply"), ticket_id, repeated=True, session=session)


def stored_delivery(session: Session, key: str) -> Message | None:
    return session.scalar(select(Message).where(Message.channel == CHANNEL, Message.external_id == key))


def raw_payload(msg: Any) -> dict[str, Any]:
    return {k: v for k, v in msg._data.items() if k not in {"ToUserName"}}


# 保密: sent after a matter, the resident asks that the agency not see who they are.
CONFIDENTIAL = frozenset({"保密", "要求保密", "请保密"})


def command_of(content: str) -> str | None:
    """Which command a text is, if any: 绑定, 新问题, a rating, a query, or 保密."""
    if BIND_COMMAND.match(content):
        return "bind"
    if content in NEW_MATTER:
        return "new"
    if content in RATING_WORDS:
        return "rate"
    if content in QUERY or TICKET_NUMBER.match(content):
        return "query"
    if content in CONFIDENTIAL:
        return "confidential"
    return None


def is_new_matter(msg: Any) -> bool:
    """A text that opens a new matter unless its sender has a current one."""
    return new_matter_text(msg) is not None


def new_matter_text(msg: Any) -> str | None:
    """The text of a message that opens a new matter unless the sender has a
    current one: a text that is no command. Anything else (media, events,
    commands, voice with its download job) takes the general path."""
    if msg.type != "text":
        return None
    content = (msg.content or "").strip()
    return content if content and command_of(content) is None else None


def inbound_of(msg: Any, key: str, text: str) -> Inbound:
    return Inbound(
        channel=CHANNEL, text=text, payload={"type": msg.type, "raw": raw_payload(msg)}, external_id=key, sender=msg.source
    )


def matter_reply(ticket: Ticket | Received, created: bool, kind: str, text: str, settings: Settings) -> str:
    link = settings.status_url(ticket)
    if created:
        lines = [f"已收到您反映的问题，工单号 {ticket.number}，查询码 {ticket.code}。"]
        if not text:
            lines.append("请再发一段文字或语音，说明问题和地点，我们会合并到这张工单。")
        lines.append(f"查看办理进度：{link}" if link else "发送“查询”可查看办理进度。")
        return "\n".join(lines)
    added = {"image": "图片", "location": "位置", "voice": "语音", "video": "视频", "shortvideo": "视频", "link": "链接"}
    return f"已将{added.get(kind, '补充内容')}补充到工单 {ticket.number}。发送“新问题”可反映另一件事。"
