"""Residents told by SMS (短信通知群众): the outbox's notice for a resident
who gave a mobile number and has no WeChat conversation.

The send is the job's effect, recorded on the ticket's timeline in the same
commit as the job's completion (channel, masked number, template, result), so
a job run twice sends once. In the quiet hours a non-urgent notice is handed
to a job that waits until they end, under a key so that it is queued once:
deferred, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from sqlalchemy.orm import Session

from collector.outbound.base import Channel, OutboundMessage
from collector.outbound.sms import mainland_mobile, masked, quiet_until
from routing.flow.steps import NOTIFY_RESIDENT, note
from routing.store.jobs import Permanent, effect, enqueue
from routing.store.tickets import Ticket, TicketEvent

# The resident's notices and the SMS occasion each one is sent as.
OCCASION_OF = {"receipt": "receipt", "ask": "ask", "extend": "extend", "answer": "answer", "reopen": "reopen"}


def sms_params(ticket: Ticket, link: str) -> dict[str, str]:
    return {
        "number": ticket.number,
        "code": ticket.code,
        "link": link,
        "date": f"{ticket.answer_by:%Y-%m-%d}" if ticket.answer_by else "",
    }


def notify_by_sms(
    session: Session,
    ticket: Ticket,
    payload: dict[str, Any],
    now: datetime,
    sms: Channel,
    status_url: Callable[[Ticket], str],
    quiet: tuple[time, time] | None,
) -> None:
    occasion = OCCASION_OF.get(payload["action"])
    mobile = mainland_mobile(ticket.contact_phone or "")
    if occasion is None or mobile is None or occasion not in getattr(sms, "templates", {occasion: ""}):
        return  # no SMS for this notice: no mobile number, or no template for it
    if not ticket.sms_notice:
        return  # the resident said no, on the form or since with 不再接收短信: read when sending, so queued ones are not sent either
    until = None if payload.get("deferred") else quiet_until(now, quiet)
    if until is not None:
        enqueue(
            session,
            NOTIFY_RESIDENT,
            {**payload, "deferred": True},
            now,
            key=f"sms-quiet:{ticket.id}:{occasion}:{ticket.version}",
            delay=until - now,
        )
        return
    message = OutboundMessage(
        recipient=mobile, text="", occasion=occasion, params=sms_params(ticket, status_url(ticket))
    )
    told = note(
        session,
        ticket,
        "notify",
        now,
        detail={
            "channel": sms.name,
            "action": payload["action"],
            "recipient": masked(mobile),
            "template": sms.templates.get(occasion, ""),
            "result": "sent",
        },
    )
    effect(session, lambda: _send_or_note_refusal(told, lambda: sms.send(message)))


def _send_or_note_refusal(told: TicketEvent, send: Callable[[], None]) -> None:
    """A refusal for good (an invalid number, a template not approved) is
    recorded on the timeline as the result, visible to staff; anything else
    raises and the job retries with back-off."""
    try:
        send()
    except Permanent as refusal:
        told.detail = {**told.detail, "result": f"refused: {refusal}"}
