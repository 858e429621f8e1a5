"""Erasure on request (应群众要求删除个人信息): a resident who gives their
ticket's number and lookup code has its personal data removed at once — the
same anonymiser the retention job runs, on one ticket and every class — once
the ticket is closed. Recorded on the timeline (``erase``) and in the access
log, with who did it and why.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.flow.lookup import find_for_resident
from routing.flow.retention import anonymise_tickets
from routing.flow.steps import WorkflowError, actor_label
from routing.store.access_log import ERASE, record_access
from routing.store.people import User
from routing.store.retention import CONTACT, MEDIA
from routing.store.tickets import Attachment, Status, Ticket
from routing.texts import N_

ERASE_ACTION = "erase"  # the timeline's action
NOT_FOUND = N_("工单编号或查询码不对，请核对群众提供的编号和查询码。")
STILL_OPEN = N_("工单 %(number)s 尚未办结，办结后才能删除个人信息。")
ALREADY = N_("工单 %(number)s 的个人信息已经删除，无需再删。")
NO_REASON = N_("请填写删除依据，例如群众来电申请的时间。")
ENDED = (Status.CLOSED, Status.INVALID)


def erase_personal_data(
    session: Session, number: str, code: str, user: User | None, reason: str, now: datetime, *,
    address: str | None = None, role: str | None = None,
) -> Ticket:
    """Erase the personal data of the ticket ``number`` whose lookup code is
    ``code``; refused (nothing changed) when the number or code is wrong, the
    ticket is still open, or there is nothing left to erase. ``user`` None:
    the command line (``role`` says so in the log). The caller commits."""
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(NO_REASON)
    ticket = find_for_resident(session, (number or "").strip(), (code or "").strip().upper())
    if ticket is None:
        raise WorkflowError(NOT_FOUND)
    if ticket.status not in ENDED:
        raise WorkflowError(STILL_OPEN, number=ticket.number)
    media_left = session.scalar(
        select(Attachment.id).where(
            Attachment.ticket_id == ticket.id,
            (Attachment.data.is_not(None)) | (Attachment.url.is_not(None)) | (Attachment.media_id.is_not(None)),
        ).limit(1)
    )
    if ticket.anonymised_at is not None and media_left is None:
        raise WorkflowError(ALREADY, number=ticket.number)
    anonymise_tickets(
        session, [ticket.id], now, [CONTACT, MEDIA], action=ERASE_ACTION,
        actor=(user.id if user else None, actor_label(user)), reason=reason[:500],
    )
    record_access(session, user, ERASE, at=now, address=address, ticket=ticket, role=role, reason=reason[:500])
    session.expire(ticket)
    return ticket
