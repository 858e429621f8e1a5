"""WeChat intake: one parsed message in, one stored message and a reply out.

Exactly once: a message is keyed by its MsgId, an event by its sender and
time. A repeated delivery finds its first delivery and gets the same reply,
stored with it. Messages from one sender close together join one ticket.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import DateTime, Select, String, bindparam, exists, literal, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from classifier import Classifier
from classifier.similar import fingerprint
from routing.flow import ratings, steps, workflow
from routing.dispatch import rules
from routing.store.jobs import enqueue
from routing.dispatch.matters import index_ticket
from routing.store.tickets import Attachment, Message, Status, Ticket
from routing.store.deputies import Deputy
from routing.flow.inbound import Inbound, Labels, Location
from routing.flow.received import Received, TicketIds, open_received, received_values, received_when
from routing.flow.tickets import add_message, locate, open_ticket, relabel
from routing.flow.lookup import tickets_of_sender

from ..deputies import BIND_COMMAND, bind_wechat, deputy_of_wechat, record_wechat_submission
from ..intake import CLASSIFY, read, read_later, with_place_of_location

CHANNEL = "wechat"
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
        return f"event:{msg.source}:{msg.time}:{getattr(msg, 'event', '')}"
    if "MsgId" not in msg._data:
        # An event wechatpy does not know (or a message without MsgId) is an
        # UnknownMessage whose id reads 0: keyed by that, every such delivery
        # from anyone would be taken for a repeat of the first one.
        kind = msg._data.get("Event") or msg._data.get("MsgType") or ""
        return f"event:{msg.source}:{msg.time}:{kind.lower()}"
    return f"msg:{msg.id}"


# How often one delivery is handled before its error is let through. Each
# round lost means another writer got on (a twin stored, a join or a job
# committed), so rounds run out only under a storm of writes to one ticket.
ATTEMPTS = 5


def receive(session: Session, msg: Any, classifier: Classifier, now: datetime, settings: Settings) -> Outcome:
    """Handle one message; commits. Safe to call again with the same message.

    A round lost to a race — the same delivery stored by another worker, the
    ticket changed since it was read (its version check), a connection that
    died with its answer — is rolled back and the message handled again on
    what is stored now: a stored delivery gets its first reply, anything
    else is read afresh."""
    key = delivery_key(msg)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with _statements(session) as connection:
                outcome = answer_at_once(connection, msg, now, settings)
            if outcome is None:
                outcome = _handle(session, msg, key, classifier, now, settings, contended=attempt > 1)
            outcome.session = session
            session.commit()
            return outcome
        except (DBAPIError, StaleDataError) as exc:
            if not lost_round(exc):
                raise
            session.rollback()
            stored = _stored(session, key)
            if stored is not None:
                return _repeated(session, (stored.payload, stored.ticket_id))
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


def lost_round(exc: BaseException) -> bool:
    """Whether a round that raised ``exc`` was lost to something other than
    the work itself: another writer came first, or the connection died
    (whether the work was stored is then read again, not guessed)."""
    if isinstance(exc, (IntegrityError, StaleDataError)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def answer_at_once(connection: Connection, msg: Any, now: datetime, settings: Settings) -> Outcome | None:
    """The answer, where it needs neither the ORM nor the classifier: a
    repeated delivery gets its first reply; a fresh sender's new matter in
    text is stored (``open_received``). None where the general path must
    decide. On PostgreSQL the asking and the storing are one statement on
    ``connection`` (autocommit will do); on SQLite the caller commits."""
    key = delivery_key(msg)
    text = _new_matter_text(msg)
    if text is not None and connection.dialect.name == "postgresql":
        return _new_matter_at_once(connection, msg, key, text, now, settings)
    probe = _probe(connection, key, msg.source, now - settings.window, text is not None)
    if probe.stored is not None:
        return _repeated(None, probe.stored)
    if text is not None and probe.fresh:
        return _quick_matter(connection, msg, key, text, now, settings)
    return None


@contextmanager
def _statements(session: Session) -> Iterator[Connection]:
    """Where ``answer_at_once`` runs. On PostgreSQL, a connection of its own
    in autocommit: its one statement is atomic by itself, so neither BEGIN
    nor COMMIT costs a round trip. On SQLite, the session's own transaction,
    which the caller commits."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        yield session.connection()
        return
    with bind.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


@dataclass(frozen=True)
class Probe:
    """What one query tells before a message is handled."""

    stored: tuple[dict[str, Any], int | None] | None  # the first delivery's payload and ticket
    fresh: bool  # the sender has no current matter and is no bound deputy


def _probe(connection: Connection, key: str, sender: str, since: datetime, new_matter: bool) -> Probe:
    """One round trip: was this delivery stored already, and — for a text
    that would open a new matter — could anything make it more than that: a
    message of the sender's within the window (a join, or 新问题), a ticket
    waiting on them (待补充), or a deputy's bound account."""
    row = connection.execute(_probe_statement(new_matter), {"key": key, "sender": sender, "since": since}).one()
    payload, ticket_id = row[0], row[1]
    if payload is not None:
        return Probe((payload, ticket_id), False)
    return Probe(None, new_matter and not row[2])


@lru_cache(maxsize=2)
def _probe_statement(new_matter: bool) -> Select:
    """Built once per shape: building a statement costs more than running it.

    The first delivery, if any, is outer-joined to a one-row anchor, so that
    the row comes back either way; the sender's state is three EXISTS on
    indexed columns."""
    first = aliased(Message, name="first")
    anchor = select(literal(1).label("one")).subquery("anchor")
    columns = [first.payload.label("payload"), first.ticket_id.label("ticket_id")]
    if new_matter:
        theirs = (Message.channel == CHANNEL) & (Message.sender == bindparam("sender", type_=String))
        busy = or_(
            exists().where(theirs, Message.received_at >= bindparam("since", type_=DateTime)),
            exists().where(theirs, Message.ticket_id == Ticket.id, Ticket.status == Status.WAITING),
            exists().where(Deputy.wechat_openid == bindparam("sender", type_=String)),
        )
        columns.append(busy.label("busy"))
    # The sender too, though the key alone finds the delivery: whichever of
    # the two indexes the planner takes — and on statistics gathered before
    # the channel had messages it took the sender's — only the sender's own
    # messages are read, never all the channel's. A retry comes from the
    # same sender; were a key ever reused by another, the INSERT's unique
    # constraint would still refuse it.
    same_delivery = (
        (first.channel == CHANNEL)
        & (first.sender == bindparam("sender", type_=String))
        & (first.external_id == bindparam("key", type_=String))
    )
    return select(*columns).select_from(anchor.outerjoin(first, same_delivery))


@lru_cache(maxsize=1)
def _new_matter_statement() -> Select:
    """The probe and ``open_received``'s INSERTs in one statement: the rows
    are written only for an unstored message from a fresh sender.
    MATERIALIZED: the probe runs once, not again in each INSERT."""
    answers = _probe_statement(True).cte("answers").prefix_with("MATERIALIZED", dialect="postgresql")
    return received_when(answers, answers.c.payload.is_(None) & ~answers.c.busy)


def _new_matter_at_once(
    connection: Connection, msg: Any, key: str, text: str, now: datetime, settings: Settings
) -> Outcome | None:
    """A text that opens a new matter unless the sender has a current one
    (PostgreSQL). The ticket's id is drawn before, so that the reply naming
    its number is stored with the message in the same statement; an id
    certainly not used goes back."""
    ids = settings.ticket_ids
    ticket_id = ids.take(connection)
    try:
        received, values = received_values(
            _inbound(msg, key, text), now, CLASSIFY, _new_matter_reply(msg, text, settings), ticket_id
        )
    except BaseException:
        ids.give_back(ticket_id)  # nothing was sent
        raise
    try:
        row = connection.execute(
            _new_matter_statement(), values | {"key": key, "sender": msg.source, "since": now - settings.window}
        ).one()
    except BaseException as failure:
        # Once sent, the statement may have committed though its answer was lost.
        ids.failed(ticket_id, failure)
        raise
    payload, stored_ticket, busy = row
    if payload is not None or busy:
        ids.give_back(ticket_id)
        return _repeated(None, (payload, stored_ticket)) if payload is not None else None
    return Outcome(values["payload"]["reply"], received.id, created=True, jobs=[CLASSIFY])


def _repeated(session: Session | None, stored: tuple[dict[str, Any], int | None]) -> Outcome:
    payload, ticket_id = stored
    return Outcome(payload.get("reply"), ticket_id, repeated=True, session=session)


def _stored(session: Session, key: str) -> Message | None:
    return session.scalar(select(Message).where(Message.channel == CHANNEL, Message.external_id == key))


def _raw(msg: Any) -> dict[str, Any]:
    return {k: v for k, v in msg._data.items() if k not in {"ToUserName"}}


def _keep(session: Session, msg: Any, key: str, now: datetime, reply: str | None, command: str | None = None) -> Message:
    """Store a message that makes no ticket (events, commands, queries)."""
    message = Message(
        channel=CHANNEL,
        external_id=key,
        sender=msg.source,
        payload={"type": msg.type, "raw": _raw(msg), "reply": reply, "command": command},
        received_at=now,
    )
    session.add(message)
    session.flush()
    return message


def _handle(
    session: Session, msg: Any, key: str, classifier: Classifier, now: datetime, settings: Settings,
    contended: bool = False,
) -> Outcome:
    """What ``msg`` means, stored; ``contended`` after a round lost to
    another writer (a join then claims its ticket first)."""
    if msg.type == "event":
        return _event(session, msg, key, now, settings)
    if msg.type == "text":
        content = (msg.content or "").strip()
        command = _command(content)
        if command == "bind":
            reply = _bind(session, BIND_COMMAND.match(content).group(1), msg.source, now)
            _keep(session, msg, key, now, reply)
            return Outcome(reply)
        if command == "new":
            reply = "好的，请发送您要反映的新问题（文字或语音）。"
            _keep(session, msg, key, now, reply, command="new")
            return Outcome(reply)
        if command == "rate":
            reply = _rate(session, msg.source, RATING_WORDS[content], now)
            _keep(session, msg, key, now, reply)
            return Outcome(reply)
        if command == "query":
            reply = _status_reply(session, msg.source, content, settings)
            _keep(session, msg, key, now, reply)
            return Outcome(reply)
        return _matter(session, msg, key, content, classifier, now, settings, contended)
    if msg.type == "voice":
        return _matter(session, msg, key, (msg.recognition or "").strip(), classifier, now, settings, contended)
    if msg.type in {"image", "location", "link", "video", "shortvideo"}:
        return _matter(session, msg, key, "", classifier, now, settings, contended)
    reply = "暂不支持这类消息。请发送文字、语音、图片或位置。"
    _keep(session, msg, key, now, reply)
    return Outcome(reply)


def _command(content: str) -> str | None:
    """Which command a text is, if any: 绑定, 新问题, a rating, or a query."""
    if BIND_COMMAND.match(content):
        return "bind"
    if content in NEW_MATTER:
        return "new"
    if content in RATING_WORDS:
        return "rate"
    if content in QUERY or TICKET_NUMBER.match(content):
        return "query"
    return None


def is_new_matter(msg: Any) -> bool:
    """A text that opens a new matter unless its sender has a current one."""
    return _new_matter_text(msg) is not None


def _new_matter_text(msg: Any) -> str | None:
    """The text of a message that opens a new matter unless the sender has a
    current one: a text that is no command. Anything else (media, events,
    commands, voice with its download job) takes the general path."""
    if msg.type != "text":
        return None
    content = (msg.content or "").strip()
    return content if content and _command(content) is None else None


def _quick_matter(connection: Connection, msg: Any, key: str, text: str, now: datetime, settings: Settings) -> Outcome:
    """A new matter from a sender with none current (SQLite): the ticket, its
    message with the reply, its 'create' event and its classify job in plain
    INSERTs (what ``_matter`` does through the ORM for this case)."""
    reply = _new_matter_reply(msg, text, settings)
    received = open_received(connection, _inbound(msg, key, text), now, CLASSIFY, reply)
    return Outcome(reply(received), received.id, created=True, jobs=[CLASSIFY])


def _new_matter_reply(msg: Any, text: str, settings: Settings) -> Callable[[Received], str]:
    """The reply to a new matter, once its ticket is numbered."""
    return lambda ticket: _matter_reply(ticket, True, msg.type, text, settings)


def _inbound(msg: Any, key: str, text: str) -> Inbound:
    return Inbound(
        channel=CHANNEL, text=text, payload={"type": msg.type, "raw": _raw(msg)}, external_id=key, sender=msg.source
    )


def _bind(session: Session, code: str, openid: str, now: datetime) -> str:
    """绑定 123456: a deputy binds this WeChat account with the portal's one-time code."""
    deputy = bind_wechat(session, code, openid, now)
    if deputy is None:
        return "绑定码不对或已过期。请在代表工作台重新获取绑定码。"
    return f"{deputy.name}，您的微信已绑定。此后在这里发送的问题会作为您的代表反映，可在代表工作台查看办理进度。"


def _rate(session: Session, sender: str, rating: str, now: datetime) -> str:
    """满意 / 基本满意 / 不满意 sent on WeChat rates the sender's latest answered ticket."""
    ticket = next((t for t in tickets_of_sender(session, CHANNEL, sender) if steps.awaiting_rating(t)), None)
    if ticket is None:
        return "您没有等待评价的工单。发送“查询”可以查看您反映的问题。"
    ratings.rate(session, ticket, now, rating)
    if rating == "unsatisfied":
        return f"已收到您的意见，工单 {ticket.number} 将由{ticket.agency.name}重新办理。"
    return f"感谢您对工单 {ticket.number} 的评价。"


def _event(session: Session, msg: Any, key: str, now: datetime, settings: Settings) -> Outcome:
    event = getattr(msg, "event", "")
    reply = None
    if event in {"subscribe", "subscribe_scan"}:
        reply = WELCOME.format(window=int(settings.window.total_seconds() // 60))
    elif event == "click" and (getattr(msg, "key", "") or "").upper() == "QUERY":
        reply = _status_reply(session, msg.source, "查询", settings)
    _keep(session, msg, key, now, reply)
    return Outcome(reply)


def current_matter(session: Session, sender: str, now: datetime, window: timedelta) -> Ticket | None:
    """The sender's open ticket that a message now would join: their last
    message on a ticket came within the window, and they have not since asked
    for a new one. A ticket whose agency waits on this resident (待补充)
    takes their next message whenever it comes."""
    waiting = session.scalar(
        select(Ticket)
        .join(Message, Message.ticket_id == Ticket.id)
        .where(Message.channel == CHANNEL, Message.sender == sender, Ticket.status == Status.WAITING)
        .order_by(Ticket.id.desc())
        .limit(1)
    )
    if waiting is not None:
        return waiting
    recent = session.scalars(
        select(Message)
        .where(Message.channel == CHANNEL, Message.sender == sender, Message.received_at >= now - window)
        .order_by(Message.received_at.desc(), Message.id.desc())
        .limit(20)
    )
    for message in recent:
        if message.payload.get("command") == "new":
            return None
        if message.ticket is not None:
            return message.ticket if message.ticket.status in rules.OPEN else None
    return None  # only events and queries lately


def _matter(
    session: Session, msg: Any, key: str, text: str, classifier: Classifier, now: datetime, settings: Settings,
    contended: bool = False,
) -> Outcome:
    """A message about a matter: a new ticket, or more on the current one."""
    location = Location()
    payload: dict[str, Any] = {"type": msg.type, "raw": _raw(msg)}
    if msg.type == "location":
        latitude, longitude = msg.location
        location = Location(text=msg.label or None, latitude=float(latitude), longitude=float(longitude))
    inbound = Inbound(channel=CHANNEL, text=text, payload=payload, external_id=key, sender=msg.source, location=location)

    ticket = current_matter(session, msg.source, now, settings.window)
    if ticket is not None and contended:
        ticket = _claimed(session, ticket, msg.source, now, settings.window)
    created = ticket is None
    # Asked before anything is written, so the message is written once, with its reply.
    deputy = deputy_of_wechat(session, msg.source) if created else None
    jobs = []
    if ticket is None and text:
        # Numbered now, read by the classifier in a job: the answer stays fast.
        ticket = open_ticket(session, inbound, None, now)
        read_later(session, ticket, now)
        jobs.append(CLASSIFY)
        message = ticket.messages[0]
    elif ticket is None:
        waiting = "语音待转写" if msg.type == "voice" else "等待群众补充文字说明"
        labels = Labels(needs_triage=True, triage_reason=waiting)
        ticket = open_ticket(session, inbound, with_place_of_location(labels, classifier, location.text), now)
        message = ticket.messages[0]
    else:
        had_text = bool(ticket.text.strip())
        message = add_message(session, ticket, inbound, now)
        if location.text:
            place = classifier.gazetteer.find(location.text)
            locate(session, ticket, place.district, place.street, now)
        if ticket.status is Status.WAITING:
            workflow.resume(session, ticket, None, now, reason="群众已补充")
        if text and not had_text:
            relabel(
                session, ticket,
                read(classifier, ticket.text, ticket.location_text, settings.threshold, settings.agency_threshold), now,
            )
        elif text:
            # More words on the matter: later tickets look for it by all of them.
            index_ticket(session, ticket, fingerprint(ticket.text))
    if deputy is not None:
        record_wechat_submission(session, deputy, ticket, now)
    jobs += _attach(session, msg, ticket, message, now)
    reply = _matter_reply(ticket, created, msg.type, text, settings)
    message.payload = {**message.payload, "reply": reply}
    return Outcome(reply, ticket.id, created=created, jobs=jobs)


def _claimed(session: Session, ticket: Ticket, sender: str, now: datetime, window: timedelta) -> Ticket | None:
    """The sender's current matter, read again once ``ticket``'s row is this
    transaction's: a join that lost a round to another writer of the ticket
    (the photos of one burst, the classify job) must not lose the next. An
    UPDATE that changes nothing takes the row's lock on PostgreSQL and the
    write lock on SQLite, so whoever else would write the ticket waits until
    this commits, and what is read after it is the latest. Not on the first
    round: a join that races nobody pays no extra round trip."""
    tickets = Ticket.__table__
    session.execute(update(tickets).where(tickets.c.id == ticket.id).values(version=tickets.c.version))
    session.expire_all()
    return current_matter(session, sender, now, window)


def _attach(session: Session, msg: Any, ticket: Ticket, message: Message, now: datetime) -> list[str]:
    """Keep what came with the message; media are fetched by a job, because
    WeChat wants its answer within five seconds."""
    if msg.type not in MEDIA_TYPES | {"link"}:
        return []
    session.flush()  # the message's id
    if msg.type == "link":
        session.add(
            Attachment(ticket_id=ticket.id, message_id=message.id, kind="link", url=msg.url, title=msg.title, created_at=now)
        )
        return []
    attachment = Attachment(
        ticket_id=ticket.id,
        message_id=message.id,
        kind="video" if msg.type == "shortvideo" else msg.type,
        media_id=msg.media_id,
        url=getattr(msg, "image", None),
        created_at=now,
    )
    session.add(attachment)
    session.flush()
    enqueue(session, "wechat.download_media", {"attachment_id": attachment.id}, now, key=f"media:{msg.media_id}")
    return ["wechat.download_media"]


def _matter_reply(ticket: Ticket | Received, created: bool, kind: str, text: str, settings: Settings) -> str:
    link = settings.status_url(ticket)
    if created:
        lines = [f"已收到您反映的问题，工单号 {ticket.number}，查询码 {ticket.code}。"]
        if not text:
            lines.append("请再发一段文字或语音，说明问题和地点，我们会合并到这张工单。")
        lines.append(f"查看办理进度：{link}" if link else "发送“查询”可查看办理进度。")
        return "\n".join(lines)
    added = {"image": "图片", "location": "位置", "voice": "语音", "video": "视频", "shortvideo": "视频", "link": "链接"}
    return f"已将{added.get(kind, '补充内容')}补充到工单 {ticket.number}。发送“新问题”可反映另一件事。"


def _status_reply(session: Session, sender: str, content: str, settings: Settings) -> str:
    tickets = tickets_of_sender(session, CHANNEL, sender)
    match = TICKET_NUMBER.match(content)
    if match:
        tickets = [t for t in tickets if t.number == match.group(1)]
        if not tickets:
            return "没有找到您的这张工单，请核对工单号。发送“查询”可查看您的全部工单。"
    if not tickets:
        return "您还没有反映过问题。直接发送文字或语音即可反映。"
    lines = ["您的工单："]
    for t in tickets:
        line = f"· {t.number}  {t.status.label}"
        if agency := steps.answering_agency(t):
            line += f"  {agency.name}"
        if t.answer:
            line += f"\n  答复：{t.answer[:120]}"
        link = settings.status_url(t)
        if link:
            line += f"\n  {link}"
        lines.append(line)
    return "\n".join(lines)
