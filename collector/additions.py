"""The resident's answer on the status page (群众补充): for a resident
without WeChat, the page with their ticket's code is where they answer the
agency's question (请群众补充) or add more while the ticket is open.

Checked before anything is stored — the text as the station form takes it,
a photo by its contents — then kept the way WeChat keeps a reply: a message
on the ticket (``routing.flow.resident.said_more``), which resumes a ticket
waiting on the resident, and the photo as an attachment in the database,
where every process sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from routing.flow.inbound import Inbound, Labels
from routing.flow.resident import said_more
from routing.store.tickets import Attachment, Message, Ticket

from . import images
from .intake import read_again
from .submissions import SubmissionError, checked_text

CHANNEL = "web"
# What the message and its event say of where it came from.
SOURCE = "status_page"


@dataclass(frozen=True)
class Photo:
    data: bytes
    filename: str | None = None


def add_on_status_page(
    session: Session,
    ticket: Ticket,
    text: str,
    photo: Photo | None,
    reader: Callable[[str, str | None], Labels],
    now: datetime,
    *,
    max_photo_bytes: int,
) -> Message:
    """Keep what the resident added on the status page; the caller commits.

    Bad input raises ``SubmissionError`` (naming the field), a ticket no
    longer open ``WorkflowError``; either way nothing is written."""
    text = checked_text(text)
    content_type = None
    if photo is not None:
        try:
            content_type = images.inspect(photo.data, max_bytes=max_photo_bytes)
        except images.ImageError as exc:
            raise SubmissionError("photo", exc.template, **exc.values) from exc
    had_text = bool(ticket.text.strip())
    inbound = Inbound(channel=CHANNEL, text=text, payload={"source": SOURCE, "photo": photo is not None})
    message = said_more(session, ticket, inbound, now)
    read_again(session, ticket, had_text, reader, now)
    if photo is not None:
        session.flush()  # the message's id
        session.add(
            Attachment(
                ticket_id=ticket.id, message_id=message.id, kind="image", content_type=content_type,
                title=(photo.filename or "")[:200] or None, data=photo.data, size=len(photo.data),
                created_at=now, downloaded_at=now,
            )
        )
    return message
