"""Telling residents (回复群众): the outbox's deliveries, by channel.

Runs as a job: a channel that fails raises, and the job runs again later.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.escalation import DEADLINE_LABELS, DEADLINE_VERBS
from routing.models import DeputyNotice, DeputySubmission, Ticket
from routing.workflow import SUGGESTION_GRADES, answer_grade, answering_agency, record

MESSAGES = {
    "accept": "您反映的问题（工单 {number}）已由{agency}签收办理，答复时限 {answer_by}。",
    "answer": "您反映的问题（工单 {number}）{agency}已答复：\n{answer}\n请回复“满意”“基本满意”或“不满意”评价答复。",
    "ask": "您反映的问题（工单 {number}），{agency}需要您补充：{question}\n请直接回复补充内容。",
    "extend": "您反映的问题（工单 {number}）经批准延期办理，新的答复时限为 {answer_by}。",
}


def _question(ticket: Ticket) -> str:
    asked = [e for e in ticket.events if e.action == "ask_resident"]
    return asked[-1].reason or "" if asked else ""


def agency_name(ticket: Ticket) -> str:
    """Who answers, as the resident or deputy is told: for a merged ticket,
    the agency of the ticket it joined."""
    agency = answering_agency(ticket)
    return agency.name if agency else "承办单位"


def notice(ticket: Ticket, action: str, status_url: str = "") -> str:
    text = MESSAGES[action].format(
        number=ticket.number,
        agency=agency_name(ticket),
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


# -- telling deputies (代表通知) -------------------------------------------------

DEPUTY_MESSAGES = {
    "answer": "您提交的工单 {number}，{agency}已答复：\n{answer}{grade}\n请在代表工作台查看并评价。",
    "overdue": "您提交的工单 {number}，{deadline}（{due}）已过，{agency}尚未{verb}，已催办。",
}


def deputy_notice(ticket: Ticket, payload: dict[str, Any]) -> str:
    grade = answer_grade(ticket) if payload["event"] == "answer" else None
    deadline = payload.get("deadline", "")
    due = payload.get("due", "")
    return DEPUTY_MESSAGES[payload["event"]].format(
        number=ticket.number,
        agency=agency_name(ticket),
        answer=ticket.answer or "",
        grade=f"\n（{SUGGESTION_GRADES[grade]}）" if grade else "",
        deadline=DEADLINE_LABELS.get(deadline, "时限"),
        verb=DEADLINE_VERBS.get(deadline, "办理"),
        due=due[:16].replace("T", " "),
    )


def _told_as_resident(ticket: Ticket, openid: str, event: str) -> bool:
    """A deputy who raised the ticket on WeChat already hears its answer there as its resident."""
    return event == "answer" and ticket.channel == "wechat" and resident_of(ticket) == openid


def make_deputy_notify_handler(
    senders: dict[str, Callable[[str, str], None]], ticket_url: Callable[[Ticket], str]
) -> Callable[[Session, dict[str, Any], datetime], None]:
    """The deputy's notice: always in the portal, and on WeChat when bound.
    The notice row is the record that the deputy was told: a job run again
    finds it and sends nothing twice."""

    def notify_deputy(session: Session, payload: dict[str, Any], now: datetime) -> None:
        ticket = session.get(Ticket, payload["ticket_id"])
        submission = session.scalar(select(DeputySubmission).where(DeputySubmission.ticket_id == payload["ticket_id"]))
        if ticket is None or submission is None:
            return
        event, stamp = payload["event"], payload["stamp"]
        known = select(DeputyNotice.id).where(
            DeputyNotice.deputy_id == submission.deputy_id, DeputyNotice.ticket_id == ticket.id,
            DeputyNotice.event == event, DeputyNotice.stamp == stamp,
        )
        if session.scalar(known) is not None:
            return
        text = deputy_notice(ticket, payload)
        channels = ["portal"]
        openid = submission.deputy.wechat_openid
        send = senders.get("wechat")
        # Sent before this job writes anything: the WeChat client may store a
        # fresh access token on its own connection, which on SQLite must not
        # wait behind this transaction's lock.
        if send is not None and openid and not _told_as_resident(ticket, openid, event):
            link = ticket_url(ticket)
            send(openid, f"{text}\n查看详情：{link}" if link else text)
            channels.append("wechat")
        session.add(DeputyNotice(deputy_id=submission.deputy_id, ticket_id=ticket.id, event=event, stamp=stamp,
                                 text=text, created_at=now))
        record(session, ticket, "notify_deputy", None, now,
               detail={"deputy": submission.deputy.name, "event": event, "channels": channels})
        session.commit()

    return notify_deputy
