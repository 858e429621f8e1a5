"""WeChat intake: one parsed message in, one stored message and a reply out.

Exactly once: a message is keyed by its MsgId, an event by its sender and
time (``delivery``). A repeated delivery finds its first delivery and gets
the same reply, stored with it. Messages from one sender close together join
one ticket. What can be answered at once, before the ORM, is in ``quick``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from classifier import Classifier
from routing.dispatch import rules
from routing.flow import ratings, steps
from routing.flow.inbound import Inbound, Labels, Location
from routing.flow.lookup import tickets_of_sender
from routing.flow.resident import resume_waiting
from routing.flow.tickets import add_message, locate, open_ticket
from routing.store.jobs import enqueue
from routing.store.tickets import Attachment, Message, Status, Ticket

from ..deputies import BIND_COMMAND, bind_wechat, deputy_of_wechat, record_wechat_submission
from ..intake import CLASSIFY, read, read_again, read_later, with_place_of_location
from .delivery import (
    CHANNEL,
    MEDIA_TYPES,
    RATING_WORDS,
    TICKET_NUMBER,
    WELCOME,
    Outcome,
    Settings,
    command_of,
    delivery_key,
    lost_round,
    matter_reply,
    raw_payload,
    repeated,
    stored_delivery,
)
from .quick import answer_at_once, statements

MARK_CONFIDENTIAL = "mark_confidential"  # the timeline's action: the resident sent 保密

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
            with statements(session) as connection:
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
            stored = stored_delivery(session, key)
            if stored is not None:
                return repeated(session, (stored.payload, stored.ticket_id))
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


def _keep(session: Session, msg: Any, key: str, now: datetime, reply: str | None, command: str | None = None) -> Message:
    """Store a message that makes no ticket (events, commands, queries)."""
    message = Message(
        channel=CHANNEL,
        external_id=key,
        sender=msg.source,
        payload={"type": msg.type, "raw": raw_payload(msg), "reply": reply, "command": command},
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
        command = command_of(content)
        if command == "bind":
            reply = _bind(session, BIND_COMMAND.match(content).group(1), msg.source, now)
            _keep(session, msg, key, now, reply)
            return Outcome(reply)
        if command == "new":
            reply = "好的，请发送您要反映的新问题（文字或语音）。"
            _keep(session, msg, key, now, reply, command="new")
            return Outcome(reply)
        if command == "rate":
            reply = _rate(session, msg.source, RATING_WORDS[content], now, settings.redo_escalation)
            _keep(session, msg, key, now, reply)
            return Outcome(reply)
        if command == "query":
            reply = _status_reply(session, msg.source, content, settings)
            _keep(session, msg, key, now, reply)
            return Outcome(reply)
        if command == "confidential":
            ticket = current_matter(session, msg.source, now, settings.window)
            reply = _confidential(session, ticket, now)
            _keep(session, msg, key, now, reply)
            return Outcome(reply, ticket.id if ticket else None)
        return _matter(session, msg, key, content, classifier, now, settings, contended)
    if msg.type == "voice":
        return _matter(session, msg, key, (msg.recognition or "").strip(), classifier, now, settings, contended)
    if msg.type in {"image", "location", "link", "video", "shortvideo"}:
        return _matter(session, msg, key, "", classifier, now, settings, contended)
    reply = "暂不支持这类消息。请发送文字、语音、图片或位置。"
    _keep(session, msg, key, now, reply)
    return Outcome(reply)


def _bind(session: Session, code: str, openid: str, now: datetime) -> str:
    """绑定 123456: a deputy binds this WeChat account with the portal's one-time code."""
    deputy = bind_wechat(session, code, openid, now)
    if deputy is None:
        return "绑定码不对或已过期。请在代表工作台重新获取绑定码。"
    return f"{deputy.name}，您的微信已绑定。此后在这里发送的问题会作为您的代表反映，可在代表工作台查看办理进度。"


def _confidential(session: Session, ticket: Ticket | None, now: datetime) -> str:
    """保密 on the resident's current matter: the agency no longer sees who they are."""
    if ticket is None:
        return "请先发送您要反映的问题，再发送“保密”，我们将对承办单位保密您的个人信息。"
    if not ticket.confidential:
        ticket.confidential = True
        steps.note(session, ticket, MARK_CONFIDENTIAL, now)
    return f"好的，工单 {ticket.number} 将对承办单位保密您的个人信息，需要联系您时由分拣中心转达。"


def _rate(session: Session, sender: str, rating: str, now: datetime, redo_escalation: int) -> str:
    """满意 / 基本满意 / 不满意 sent on WeChat rates the sender's latest answered ticket."""
    ticket = next((t for t in tickets_of_sender(session, CHANNEL, sender) if steps.awaiting_rating(t)), None)
    if ticket is None:
        return "您没有等待评价的工单。发送“查询”可以查看您反映的问题。"
    ratings.rate(session, ticket, now, rating, redo_escalation=redo_escalation)
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
    payload: dict[str, Any] = {"type": msg.type, "raw": raw_payload(msg)}
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
        resume_waiting(session, ticket, now)
        if text:
            read_again(
                session, ticket, had_text,
                lambda words, place: read(classifier, words, place, settings.threshold, settings.agency_threshold), now,
            )
    if deputy is not None:
        record_wechat_submission(session, deputy, ticket, now)
    jobs += _attach(session, msg, ticket, message, now)
    reply = matter_reply(ticket, created, msg.type, text, settings)
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
