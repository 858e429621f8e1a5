"""Telling residents (回复群众): the outbox's deliveries, by channel.

Runs as a job: a channel that fails raises, and the job runs again later; a
refusal for good (``jobs.Permanent``) ends it. The send is the job's effect
(``jobs.effect``): the notice's record on the timeline commits with the job's
completion, so a notice recorded is never sent again, and only a crash
between the send and that commit sends it twice (at least once, never lost).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.outbound.base import Channel, OutboundMessage
from collector.outbound.sms import mainland_mobile, masked
from collector.sms_notices import notify_by_sms
from routing.flow.escalation import DEADLINE_LABELS, DEADLINE_VERBS
from routing.flow.steps import NOTIFY_DEPUTY, NOTIFY_RESIDENT, answering_agency, note
from routing.flow.suggestions import SUGGESTION_GRADES, answer_grade
from routing.store.deputies import DeputyNotice, DeputySubmission
from routing.store.jobs import QUEUED, Job, Permanent, effect
from routing.store.tickets import Ticket, TicketEvent

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
    senders: dict[str, Callable[[str, str], None]],
    status_url: Callable[[Ticket], str],
    sms: Channel | None = None,
    quiet: tuple[time, time] | None = None,
) -> Callable[[Session, dict[str, Any], datetime], None]:
    """``senders`` maps a channel to a function (recipient, text) that delivers;
    a resident without one (the form, the API, Open311) who gave a mobile
    number is told by ``sms`` when it is configured."""

    def notify_resident(session: Session, payload: dict[str, Any], now: datetime) -> None:
        ticket = session.get(Ticket, payload["ticket_id"])
        if ticket is None:
            return
        action = payload["action"]
        send = senders.get(ticket.channel)
        recipient = resident_of(ticket)
        if send is None or recipient is None:
            if sms is not None:
                notify_by_sms(session, ticket, payload, now, sms, status_url, quiet)
            return  # without SMS, web and API residents read the status page
        if action not in MESSAGES:
            return  # the receipt: a WeChat resident got it in the conversation
        text = notice(ticket, action, status_url(ticket))
        effect(session, lambda: send(recipient, text))
        note(session, ticket, "notify", now, detail={"channel": ticket.channel, "action": action})

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
    senders: dict[str, Callable[[str, str], None]],
    ticket_url: Callable[[Ticket], str],
    sms: Channel | None = None,
) -> Callable[[Session, dict[str, Any], datetime], None]:
    """The deputy's notice: always in the portal, and on WeChat when bound;
    a deputy who has not bound WeChat gets it by ``sms`` at their account's
    mobile number, as the ``deputy_notice`` template. The notice row is the
    record that the deputy was told: a job run again finds it and sends
    nothing twice."""

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
        openid = submission.deputy.wechat_openid
        send = senders.get("wechat")
        # Read all that needs the database before adding anything: a query's
        # autoflush would write now and, on SQLite, hold the lock through the send.
        message = None
        on_wechat = send is not None and bool(openid)
        if on_wechat and not _told_as_resident(ticket, openid, event):
            link = ticket_url(ticket)
            message = f"{text}\n查看详情：{link}" if link else text
        texted = None if on_wechat else deputy_sms(sms, ticket, submission.deputy.user.mobile, ticket_url)
        deputy = submission.deputy.name
        session.add(DeputyNotice(deputy_id=submission.deputy_id, ticket_id=ticket.id, event=event, stamp=stamp,
                                 text=text, created_at=now))
        detail = {"deputy": deputy, "event": event, "channels": ["portal"]}
        if texted is not None:
            detail |= {"recipient": masked(texted.recipient), "template": sms.templates[texted.occasion]}
        told = note(session, ticket, "notify_deputy", now, detail=detail)
        if message is not None:
            effect(session, lambda: _send_beside_the_portal(told, lambda: send(openid, message)))
        elif texted is not None:
            effect(session, lambda: _send_beside_the_portal(told, lambda: sms.send(texted), "sms"))

    return notify_deputy


def deputy_sms(
    sms: Channel | None, ticket: Ticket, mobile: str | None, ticket_url: Callable[[Ticket], str]
) -> OutboundMessage | None:
    """The SMS copy of a deputy's notice, or None: no SMS channel, no mobile
    number on the deputy's account, or no ``deputy_notice`` template."""
    number = mainland_mobile(mobile or "")
    if sms is None or number is None or DEPUTY_OCCASION not in getattr(sms, "templates", {}):
        return None
    params = {"number": ticket.number, "link": ticket_url(ticket)}
    return OutboundMessage(recipient=number, text="", occasion=DEPUTY_OCCASION, params=params)


DEPUTY_OCCASION = "deputy_notice"


def _send_beside_the_portal(told: TicketEvent, send: Callable[[], None], channel: str = "wechat") -> None:
    """The WeChat (or SMS) copy of a deputy's notice. The portal notice stands
    on its own: the channel refusing for good (the deputy unfollowed, the
    number is invalid) is noted beside it instead of failing it; a failure
    that may pass still retries the job."""
    try:
        send()
    except Permanent as refusal:
        told.detail = {**told.detail, f"{channel}_refused": str(refusal)}
        return
    told.detail = {**told.detail, "channels": ["portal", channel]}


# -- what is waiting (待发通知) ---------------------------------------------------


@dataclass(frozen=True)
class PendingNotice:
    job: Job
    ticket: Ticket | None
    to_deputy: bool

    @property
    def channel(self) -> str:
        return "wechat" if self.to_deputy or self.ticket is None else self.ticket.channel


def pending_notices(session: Session, status: str, limit: int = 200) -> list[PendingNotice]:
    """Notices not delivered: ``QUEUED`` (waiting, the longest waiting first)
    or ``FAILED`` (refused for good, the latest first), with their tickets."""
    order = Job.created_at if status == QUEUED else Job.finished_at.desc()
    jobs = session.scalars(
        select(Job).where(Job.kind.in_((NOTIFY_RESIDENT, NOTIFY_DEPUTY)), Job.status == status)
        .order_by(order, Job.id).limit(limit)
    ).all()
    ids = {job.payload.get("ticket_id") for job in jobs}
    tickets = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids)))}
    return [PendingNotice(job, tickets.get(job.payload.get("ticket_id")), job.kind == NOTIFY_DEPUTY) for job in jobs]
