"""Photos on the ticket page (照片): what residents sent with their
messages — on the status page, or on WeChat once downloaded — shown to the
staff who may see the ticket, and to nobody else."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, abort, request
from sqlalchemy import select
from sqlalchemy.orm import undefer

from collector.answer_files import file_response
from collector.context import db_session
from collector.images import image_type
from routing.clock import now
from routing.flow import answer_files
from routing.store.access_log import ATTACHMENT, record_access
from routing.store.people import Role
from routing.store.tickets import Attachment, Ticket
from routing.texts import N_

from .auth import current_staff, roles_required
from .views import ticket_for

bp = Blueprint("photos", __name__, url_prefix="/photos")

STAFF = (Role.AGENCY, Role.DISPATCHER, Role.ADMIN)


def photos_of(ticket: Ticket) -> list[Attachment]:
    """The ticket's photos that are here to show (a WeChat one once its job fetched it), oldest first."""
    query = (
        select(Attachment)
        .where(Attachment.ticket_id == ticket.id, Attachment.kind == "image", Attachment.downloaded_at.is_not(None))
        .order_by(Attachment.id)
    )
    return list(db_session().scalars(query))


@bp.get("/<number>/<int:attachment_id>")
@roles_required(*STAFF)
def photo(number: str, attachment_id: int):
    """One photo, for the ticket page's <img>: only for staff who may see the
    ticket (``ticket_for``), never cached. Served as the type its bytes show,
    so nothing stored as a photo is ever opened as anything else."""
    ticket = ticket_for(current_staff(), number)
    attachment = db_session().scalar(
        select(Attachment)
        .where(Attachment.id == attachment_id, Attachment.ticket_id == ticket.id, Attachment.kind == "image")
        .options(undefer(Attachment.data))
    )
    content_type = image_type(attachment.data) if attachment is not None and attachment.data else None
    if content_type is None:
        abort(404, description=N_("没有这张照片。"))
    # A photo may show the resident or their home: each download is logged.
    record_access(db_session(), current_staff(), ATTACHMENT, at=now(), address=request.remote_addr, ticket=ticket,
                  attachment_id=attachment.id)
    db_session().commit()
    response = Response(attachment.data, mimetype=content_type)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/<number>/answer/<int:attachment_id>")
@roles_required(*STAFF)
def answer_file(number: str, attachment_id: int):
    """A photo or document the agency answered with, for staff who may see the ticket."""
    ticket = ticket_for(current_staff(), number)
    return file_response(answer_files.staff_file(db_session(), ticket, attachment_id))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # The ticket page is drawn by the desk's and the agency's views alike: both get the photos so.
    app.jinja_env.globals["ticket_photos"] = photos_of
    app.jinja_env.globals["ticket_answer_files"] = lambda ticket: answer_files.files_of(db_session(), ticket)
