"""Photos and documents an agency answers with (答复附件): the repaired
street lamp, the cleared pavement, the notice it cites — so the resident sees
what was done, not only reads that it was.

The caller has checked each file's bytes (``collector.answer_files``); here
they are kept with the ticket, named in the answer's event, and shown to the
resident only once the answer has reached them (given, approved after review,
or passed on to a ticket merged into this one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from routing.flow.steps import WorkflowError
from routing.store.tickets import Attachment, Ticket
from routing.texts import N_

KIND = "answer"
MAX_FILES = 3
NAME_LENGTH = 200
# An answer reaches the resident in these events; one waiting for review (submit_answer) has not.
DELIVERED = {"answer", "approve_answer", "answer_merged"}


@dataclass(frozen=True)
class AnswerFile:
    data: bytes
    content_type: str
    name: str


def keep(session: Session, ticket: Ticket, now: datetime, files: list[AnswerFile]) -> list[dict[str, Any]]:
    """Store the files with the ticket; what the answer's event names them by."""
    if len(files) > MAX_FILES:
        raise WorkflowError(N_("答复最多附 %(count)s 个照片或文件。"), count=MAX_FILES)
    kept = [
        Attachment(
            ticket_id=ticket.id, kind=KIND, content_type=f.content_type, title=(f.name or "").strip()[:NAME_LENGTH] or None,
            data=f.data, size=len(f.data), created_at=now, downloaded_at=now,
        )
        for f in files
    ]
    session.add_all(kept)
    session.flush()
    return [{"id": a.id, "name": a.title, "type": a.content_type} for a in kept]


def delivered_file(session: Session, ticket: Ticket, file_id: int) -> Attachment | None:
    """The file, with its bytes, if an answer that reached this ticket's
    resident names it — a merged ticket's resident sees the files of the
    answer it was given; None for anything else (one still in review included)."""
    named = {
        f.get("id")
        for e in ticket.events
        if e.action in DELIVERED
        for f in (e.detail or {}).get("files") or []
    }
    if file_id not in named:
        return None
    return session.scalar(
        select(Attachment).where(Attachment.id == file_id, Attachment.kind == KIND).options(undefer(Attachment.data))
    )


def files_of(session: Session, ticket: Ticket) -> list[Attachment]:
    """The files the ticket's own answers came with, oldest first, for staff (bytes unloaded)."""
    return list(
        session.scalars(
            select(Attachment).where(Attachment.ticket_id == ticket.id, Attachment.kind == KIND).order_by(Attachment.id)
        )
    )


def staff_file(session: Session, ticket: Ticket, file_id: int) -> Attachment | None:
    """One of the ticket's answer files with its bytes, for staff who may see the ticket."""
    return session.scalar(
        select(Attachment)
        .where(Attachment.id == file_id, Attachment.ticket_id == ticket.id, Attachment.kind == KIND)
        .options(undefer(Attachment.data))
    )
