"""Telling residents (回复群众): the outbox's deliveries, by channel.

Runs as a job: a channel that fails raises, and the job runs again later.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from routing.models import Ticket
from routing.workflow import record

MESSAGES = {
    "accept": "您反映的问题（工单 {number}）已由{agency}签收办理，答复时限 {answer_by}。",
    "answer": "您反映的问题（工单 {number}）{agency}已答复：\n{answer}\n请回复“满意”“基本满意”或“不满意”评价答复。",
    "ask": "您反映的问题（工单 {number}），{agency}需要您补充：{question}\n请直接回复补充内容。",
    "extend": "您反映的问题（工单 {number}）经批准延期办理，新的答复时限为 {answer_by}。",
}


def _question(ticket: Ticket) -> str:
    asked = [e for e in ticket.events if e.action == "ask_resident"]
    return asked[-1].reason or "" if asked else ""


def notice(ticket: Ticket, action: str, status_url: str = "") -> str:
    text = MESSAGES[action].format(
        number=ticket.number,
        agency=ticket.agency.name if ticket.agency else "承办单位",
        answer_by=f"{ticket.answer_by:%Y-%m-%d}" if ticket.answer_by else "—",
        answer=ticket.answer or "",
        question=_question(ticket) if action == "ask" else "",
    )
    return f"{text}\n查看详情：{status_url}" if status_url else text


def resident_of(ticket: Ticket) -> str | None:
    """Who raised it on its channel (a WeChat openid), from its first message."""
    return ticket.messages[0].sender if ticket.messages else None


def make_notify_handler(
    senders: dict[str, Callable[[str, str], None]], status_url: Callable[[Ticket], str]
) -> Callable[[Session, dict[str, Any], datetime], None]:
    """``senders`` maps a channel to a function (recipient, text) that delivers."""

    def notify_resident(session: Session, payload: dict[str, Any], now: datetime) -> None:
        ticket = session.get(Ticket, payload["ticket_id"])
        if ticket is None:
            return
        send = senders.get(ticket.channel)
        recipient = resident_of(ticket)
        if send is None or recipient is None:
            return  # web and API residents read the status page
        send(recipient, notice(ticket, payload["action"], status_url(ticket)))
        record(session, ticket, "notify", None, now, detail={"channel": ticket.channel, "action": payload["action"]})
        session.commit()

    return notify_resident
