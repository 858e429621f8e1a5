"""The resident says more (群众补充): an answer to the agency's question, or
more on the matter while it is open — by WeChat or on the status page.

Either way it is one thing: a message kept with the ticket (``add_message``,
an event on the timeline) and, for a ticket that waits on the resident
(待群众补充), the system's resume step, which restarts the answer clock and
moves the deadline by the working days it stood still. Every channel takes
this path, so a reply on the status page counts exactly as one on WeChat.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from routing.dispatch.rules import OPEN
from routing.flow import workflow
from routing.flow.inbound import Inbound
from routing.flow.steps import WorkflowError, record
from routing.flow.tickets import add_message
from routing.store.tickets import Message, Status, Ticket, TicketEvent
from routing.texts import N_, Label

# The resume step's reason when the resident's reply restarts the clock.
RESUMED = "群众已补充"


def said_more(session: Session, ticket: Ticket, inbound: Inbound, now: datetime) -> Message:
    """群众补充: keep what the resident added to an open ticket, without
    changing its state — but a ticket waiting on them goes on (``resume_waiting``).
    A ticket no longer open (answered, closed, merged, invalid) takes nothing:
    ``WorkflowError``, and nothing is written."""
    if ticket.status not in OPEN:
        raise WorkflowError(N_("工单当前状态为“%(status)s”，不能再补充情况。"), status=Label(ticket.status.label))
    message = add_message(session, ticket, inbound, now)
    resume_waiting(session, ticket, now)
    return message


def resume_waiting(session: Session, ticket: Ticket, now: datetime) -> None:
    """The resident has answered: a ticket waiting on them (待群众补充) is
    resumed by the system, as if the agency had said 补充完毕."""
    if ticket.status is Status.WAITING:
        workflow.resume(session, ticket, None, now, reason=RESUMED)


# The timeline's action when the resident stops the SMS (不再接收短信).
STOP_SMS = "stop_sms"


def stop_sms(session: Session, ticket: Ticket, now: datetime) -> TicketEvent:
    """不再接收短信: the resident, with the ticket's code, asks for no more
    SMS about this ticket. An event on its timeline, and from then on no SMS
    goes to its number for it (``collector.sms_notices`` reads the flag when it
    sends, so notices already queued are held back too). Asked twice, the
    second is refused and changes nothing."""
    if not ticket.sms_notice:
        raise WorkflowError(N_("这张工单已不再发送短信。"))
    ticket.sms_notice = False
    return record(session, ticket, STOP_SMS, None, now, from_status=ticket.status)
