"""What an agency may answer with besides words (答复附件): photos in the
formats every browser shows, and PDF documents — checked by their bytes,
never by a name or a type the browser claims, since residents open them."""

from __future__ import annotations

from flask import Response, abort

from routing.flow.answer_files import AnswerFile
from routing.store.tickets import Attachment
from routing.texts import N_, DomainError

from .images import ACCEPTED_NAMES, image_type
from .uploads import check_size

PDF = "application/pdf"


class AnswerFileError(DomainError):
    """A file an answer cannot carry; the message says what to do."""


def file_type(data: bytes) -> str | None:
    """The type to keep and serve ``data`` as: an image's, PDF, or None."""
    if data.startswith(b"%PDF-"):
        return PDF
    return image_type(data)


def checked(data: bytes, name: str, *, max_bytes: int) -> AnswerFile:
    """``data`` as a file to answer with; ``AnswerFileError`` if it is empty,
    too large, or neither a photo nor a PDF."""
    check_size(
        data, max_bytes, AnswerFileError,
        empty=N_("附件是空文件，请重新选择。"),
        too_large=N_("附件太大（%(size)s MB），请选择 %(limit)s MB 以内的文件。"),
    )
    content_type = file_type(data)
    if content_type is None:
        raise AnswerFileError(N_("答复只能附照片（%(formats)s）或 PDF 文件，请重新选择。"), formats=ACCEPTED_NAMES)
    return AnswerFile(data=data, content_type=content_type, name=name)


def file_response(attachment: Attachment | None) -> Response:
    """The stored answer file, served as the type its bytes show (checked
    again: nothing kept as a photo is ever opened as anything else), never
    cached; a PDF downloads under its name. 404 when there is none."""
    content_type = file_type(attachment.data) if attachment is not None and attachment.data else None
    if content_type is None:
        abort(404, description=N_("没有这个答复附件。"))
    response = Response(attachment.data, mimetype=content_type)
    if content_type == PDF:
        # Werkzeug writes a Chinese name as RFC 5987's filename*.
        response.headers.set("Content-Disposition", "attachment", filename=attachment.title or "answer.pdf")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response

