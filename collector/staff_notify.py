"""Sending staff notices (通知承办单位) on the channel each agency chose.

The jobs of ``routing.flow.staff_notices`` land here. Each message is the
job's effect (``jobs.effect``): its record — a ``StaffMessage`` with the
recipient masked, and an event on each ticket's timeline — commits with the
job's completion, and the occasion is unique, so a job run twice sends once.
A channel that fails raises and the job retries with back-off, without end;
a refusal for good is recorded as refused. Texts carry ticket numbers and
topics, never a resident's name or number.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from flask import Flask, current_app
from limits.storage import storage_from_string
from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.flow import staff_notices
from routing.flow.escalation import DEADLINE_LABELS
from routing.flow.steps import note
from routing.store.contacts import AgencyChannel, StaffMessage
from routing.store.jobs import Permanent, Registry, Retry, effect
from routing.store.oversight import AgencyDigest, Escalation, EscalationKind
from routing.store.privacy import mask_phone
from routing.store.tickets import Ticket, TicketEvent

from .outbound.base import Channel, OutboundMessage
from .outbound.registry import build_channels
from .outbound.robots import dingtalk_recipient
from .wechat.client import DatabaseStorage

EXTENSION = "tingjian.outbound"
NOTIFY_STAFF = "notify_staff"  # the timeline's action
TITLES = {
    "assigned": "新派单",
    "urgent": "紧急派单",
    "sent_back": "退回重办",
    "reminder": "催办",
    "notice": "通报",
    "digest": "每日简报",
    "test": "测试消息",
}


def mask(recipient: str) -> str:
    """The recipient as records show it: enough to recognise, not to reuse."""
    name, at, domain = recipient.partition("@")
    if at:
        return f"{name[:1]}***@{domain}"
    token = recipient.split(" ", 1)[0].rsplit("=", 1)[-1]
    if len(token) <= 4:
        return "***"
    # A mobile number is masked as everywhere else; a token keeps as much.
    return f"{token[:3]}***{token[-4:]}" if not token.isdigit() else mask_phone(token)


def _line(ticket: Ticket) -> str:
    topic = "/".join(filter(None, (ticket.topic, ticket.subtopic))) or "未分类"
    due = f"，签收时限 {ticket.accept_by:%m-%d %H:%M}" if ticket.accept_by else ""
    return f"工单 {ticket.number}（{topic}）{due}"


def assigned_text(tickets: list[Ticket], urgent: bool) -> str:
    if urgent:
        return f"【紧急】新派单：{_line(tickets[0])}，请立即签收办理。"
    return f"新派单 {len(tickets)} 件：\n" + "\n".join(_line(t) for t in tickets)


def sent_back_text(ticket: Ticket, reason: str | None) -> str:
    """审核退回: the answer must be made again; the reason is the centre's own words."""
    why = f"，理由：{reason[:200]}" if reason else ""
    due = f"，答复时限 {ticket.answer_by:%m-%d %H:%M}" if ticket.answer_by else ""
    topic = "/".join(filter(None, (ticket.topic, ticket.subtopic))) or "未分类"
    return f"答复被审核退回：工单 {ticket.number}（{topic}）{why}{due}，请修改后重新答复。"


def escalation_text(record: Escalation) -> str:
    if record.kind is EscalationKind.REMINDER:
        return f"催办：{_line(record.ticket)}，{record.text}"
    return f"通报：{record.text}"


def digest_text(digest: AgencyDigest) -> str:
    detail = digest.detail or {}
    text = (
        f"每日简报（{digest.day:%Y-%m-%d}）：新派单 {digest.new_tickets} 件，临期 {digest.due_soon} 件，"
        f"超期 {digest.overdue} 件，催办 {digest.reminders} 件，通报 {digest.notices} 件。"
    )
    overdue = detail.get("overdue") or []
    return f"{text}\n超期工单：{'、'.join(overdue[:20])}" if overdue else text


def recipient_of(contact: AgencyChannel) -> str:
    if contact.kind == "dingtalk_robot":
        return dingtalk_recipient(contact.address, contact.secret or "")
    return contact.address


def deliver(
    session: Session,
    channels: Mapping[str, Channel],
    agency_id: int,
    occasion: str,
    template: str,
    text: str,
    tickets: list[Ticket],
    now: datetime,
    params: Mapping[str, str] | None = None,
) -> StaffMessage | None:
    """Send ``text`` to the agency on its channel, once per ``occasion``.
    None: already sent, or the agency chose no channel."""
    # No flush before the send: on SQLite a write would hold the database's lock through it.
    with session.no_autoflush:
        if session.scalar(select(StaffMessage.id).where(StaffMessage.occasion == occasion)) is not None:
            return None
        contact = session.get(AgencyChannel, agency_id)
    if contact is None:
        return None  # it reads its queue in Tingjian
    channel = channels.get(contact.kind)
    recipient = recipient_of(contact)
    message = OutboundMessage(
        recipient,
        text,
        occasion=f"staff_{template}",
        title=TITLES[template],
        params=dict(params or {}),
        urgent=template == "urgent",
    )
    detail = {"tickets": [t.number for t in tickets][:200]}
    record = StaffMessage(
        occasion=occasion[:160],
        template=template,
        agency_id=agency_id,
        channel=contact.kind,
        recipient=mask(recipient),
        ticket_count=len(tickets),
        detail=detail,
        created_at=now,
        result="sent" if channel is not None else "refused",
        error=None if channel is not None else "渠道未开启",
    )
    session.add(record)
    events = [
        note(
            session,
            t,
            NOTIFY_STAFF,
            now,
            detail={"channel": contact.kind, "to": record.recipient, "template": template, "result": record.result},
        )
        for t in tickets
    ]
    if channel is not None:
        effect(session, lambda: _send(channel, message, record, events))
    return record


def _send(channel: Channel, message: OutboundMessage, record: StaffMessage, events: list) -> None:
    try:
        channel.send(message)
    except Permanent as refusal:
        record.result, record.error = "refused", str(refusal)[:500]
        for event in events:
            event.detail = {**event.detail, "result": "refused"}


def make_handlers(channels: Callable[[], Mapping[str, Channel]], every: timedelta) -> dict[str, Callable]:
    def urgent(session: Session, payload: dict[str, Any], now: datetime) -> None:
        ticket = session.get(Ticket, payload["ticket_id"])
        if ticket is None or ticket.agency_id != payload["agency_id"]:
            return  # moved on before the job ran: the new agency hears of it
        deliver(
            session,
            channels(),
            ticket.agency_id,
            f"staff:urgent:{ticket.id}:{payload['assigned_at']}",
            "urgent",
            assigned_text([ticket], True),
            [ticket],
            now,
            {"number": ticket.number},
        )

    def bundle(session: Session, payload: dict[str, Any], now: datetime) -> None:
        start, end = datetime.fromisoformat(payload["start"]), datetime.fromisoformat(payload["end"])
        for agency_id, tickets in staff_notices.assigned_in(session, start, end).items():
            deliver(
                session,
                channels(),
                agency_id,
                f"staff:assigned:{agency_id}:{end:%Y%m%d%H%M%S}",
                "assigned",
                assigned_text(tickets, False),
                tickets,
                now,
                {"count": str(len(tickets))},
            )
        staff_notices.schedule_bundles(session, now, every)

    def sent_back(session: Session, payload: dict[str, Any], now: datetime) -> None:
        ticket = session.get(Ticket, payload["ticket_id"])
        event = session.get(TicketEvent, payload["event_id"])
        if ticket is None or event is None or ticket.agency_id != payload["agency_id"]:
            return  # moved on before the job ran: the new agency hears of it
        deliver(
            session,
            channels(),
            ticket.agency_id,
            f"staff:sent_back:{event.id}",
            "sent_back",
            sent_back_text(ticket, event.reason),
            [ticket],
            now,
            {"number": ticket.number},
        )

    def escalation(session: Session, payload: dict[str, Any], now: datetime) -> None:
        record = session.get(Escalation, payload["escalation_id"])
        if record is None:
            return
        template = "reminder" if record.kind is EscalationKind.REMINDER else "notice"
        deliver(
            session,
            channels(),
            payload["agency_id"],
            f"staff:{template}:{record.id}",
            template,
            escalation_text(record),
            [record.ticket],
            now,
            {"number": record.ticket.number, "deadline": DEADLINE_LABELS.get(record.deadline, "时限")},
        )

    def digest(session: Session, payload: dict[str, Any], now: datetime) -> None:
        made = session.get(AgencyDigest, payload["digest_id"])
        if made is None:
            return
        deliver(
            session,
            channels(),
            made.agency_id,
            f"staff:digest:{made.agency_id}:{made.day.isoformat()}",
            "digest",
            digest_text(made),
            [],
            now,
            {"day": made.day.isoformat(), "overdue": str(made.overdue)},
        )

    return {
        staff_notices.STAFF_ASSIGNED: urgent,
        staff_notices.STAFF_BUNDLE: bundle,
        staff_notices.STAFF_SENT_BACK: sent_back,
        staff_notices.STAFF_ESCALATION: escalation,
        staff_notices.STAFF_DIGEST: digest,
    }


def register(registry: Registry, channels: Callable[[], Mapping[str, Channel]], every: timedelta, retry: Retry) -> None:
    handlers = make_handlers(channels, every)
    for kind, handler in handlers.items():
        if kind == staff_notices.STAFF_BUNDLE:
            registry.register_periodic(
                kind, handler, lambda session, now: staff_notices.schedule_bundles(session, now, every)
            )
            registry.retries[kind] = retry
        else:
            registry.register(kind, handler, retry=retry)


def send_test(
    session: Session, channels: Mapping[str, Channel], name: str, recipient: str, secret: str, now: datetime
) -> StaffMessage:
    """The administrators' test message, sent at once (not queued: the page
    says at once whether the channel works) and recorded like any other."""
    channel = channels.get(name)
    if channel is None:
        raise ValueError(f"渠道“{name}”未开启。")
    if not recipient.strip():
        raise ValueError("请填写接收人。")
    address = dingtalk_recipient(recipient, secret) if name == "dingtalk_robot" else recipient.strip()
    record = StaffMessage(
        occasion=f"test:{uuid.uuid4().hex}",
        template="test",
        agency_id=None,
        channel=name,
        recipient=mask(address),
        result="sent",
        ticket_count=0,
        detail={},
        created_at=now,
    )
    try:
        channel.send(
            OutboundMessage(
                address, "这是一条测试消息，收到即说明渠道已接通。", occasion="staff_test", title=TITLES["test"]
            )
        )
    except Exception as exc:  # noqa: BLE001 -- the page shows any failure, in the provider's words
        record.result, record.error = "refused", str(exc)[:500]
    session.add(record)
    return record


def install_channels(app: Flask, services: Any) -> Callable[[], Mapping[str, Channel]]:
    """The registry's channels the settings turn on, built once per process
    on first use: WeCom's token in the database every process shares, the
    robots' counts in the shared rate-limit storage."""

    @lru_cache(maxsize=1)
    def built() -> dict[str, Channel]:
        return build_channels(
            app.config,
            storage=DatabaseStorage(services.db),
            limiter_storage=storage_from_string(app.config.get("RATELIMIT_STORAGE_URI") or "memory://"),
        )

    app.extensions[EXTENSION] = built
    return built


def active_channels() -> Mapping[str, Channel]:
    return current_app.extensions[EXTENSION]()
