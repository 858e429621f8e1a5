"""The transcription queue (人工转写, /desk/transcribe): staff play a voice
note in the page and type what they hear; the ticket is then read and routed."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import undefer
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from collector import audio, transcription
from collector.context import db_session, services
from routing.clock import now
from routing.store.people import Role
from routing.store.tickets import Attachment, Transcription
from routing.texts import N_

from .auth import current_staff, roles_required

bp = Blueprint("transcribe", __name__, url_prefix="/desk/transcribe")

DISPATCH = (Role.DISPATCHER, Role.ADMIN)


class TranscriptForm(FlaskForm):
    text = TextAreaField(
        "听到的内容",
        validators=[DataRequired("请填写听到的内容。"), Length(max=transcription.MAX_TEXT)],
    )


@bp.get("/")
@roles_required(*DISPATCH)
def queue():
    return render_template("transcribe/queue.html", items=transcription.queue(db_session()), now=now())


def _open(transcription_id: int) -> Transcription:
    item = db_session().get(Transcription, transcription_id)
    if item is None:
        abort(404, description="没有这条语音。")
    return item


@bp.route("/<int:transcription_id>", methods=["GET", "POST"])
@roles_required(*DISPATCH)
def transcribe(transcription_id: int):
    item = _open(transcription_id)
    form = TranscriptForm()
    if item.status != transcription.DONE and form.validate_on_submit():
        session = db_session()
        transcription.apply_text(session, item, form.text.data, "person", current_staff(), now(), services().reader())
        session.commit()
        flash(f"已转写，工单 {item.ticket.number} 当前状态：{item.ticket.status.label}。")
        return redirect(url_for("transcribe.queue"))
    if item.status == transcription.DONE and form.is_submitted():
        flash("这条语音已经转写过了。", "error")
    return render_template("transcribe/item.html", item=item, form=form), 400 if form.errors else 200


@bp.get("/audio/<int:attachment_id>")
@roles_required(*DISPATCH)
def play(attachment_id: int):
    """The voice note for the page's <audio>: only for staff logged in, never cached."""
    attachment = db_session().scalar(
        select(Attachment).where(Attachment.id == attachment_id).options(undefer(Attachment.data))
    )
    return voice_note_response(attachment)


def voice_note_response(attachment: Attachment | None) -> Response:
    """A voice note as the browser can play it (AMR becomes WAV), never cached;
    404 when there is none to play. The caller has checked who may hear it."""
    if attachment is None or attachment.kind != "voice" or not attachment.data:
        abort(404, description=N_("这条语音还没有下载。"))
    try:
        data, content_type = audio.playable(attachment.data, attachment.content_type)
    except audio.AudioError:
        abort(404, description=N_("这条语音无法播放。"))
    response = Response(data, mimetype=content_type)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
