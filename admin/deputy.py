"""The deputy's portal (代表工作台, /deputy): submit on a phone, in text or a
voice note, and follow up everything raised; a liaison station's page."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import IntegerField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, NumberRange, Optional

from collector import deputies
from collector.context import db_session, services
from collector.submissions import SubmissionError
from collector.transcription import of_ticket
from collector.translate import error_text
from routing.clock import now
from routing.flow import ratings, steps, suggestions
from routing.store.access_log import ATTACHMENT, record_access
from routing.store.areas import Station
from routing.store.deputies import Deputy
from routing.store.people import Role
from routing.store.tickets import Kind

from .auth import current_staff, roles_required
from .transcribe import voice_note_response

bp = Blueprint("deputy", __name__, url_prefix="/deputy")


class DeputySubmissionForm(FlaskForm):
    mode = RadioField(
        _l("性质"),
        choices=[SelectChoice(value, _l(label)) for value, label in deputies.MODES.items()],
        default="complaint",
        validators=[InputRequired(_l("请选择性质。"))],
    )
    text = TextAreaField(_l("反映内容（文字，可与语音二选一）"), validators=[Optional()])
    voice = FileField(_l("语音（录音或上传 AMR、M4A、MP3、WAV、WebM、Ogg 文件）"))
    constituents = IntegerField(
        _l("反映群众人数"), default=1, validators=[InputRequired(_l("请填写人数。")), NumberRange(1, deputies.MAX_CONSTITUENTS, _l("人数应为 1 以上。"))]
    )
    place = StringField(_l("群众在哪里提出（选填）"), validators=[Optional()])
    station = SelectField(_l("联络站"), coerce=str, validators=[Optional()])


def _deputy() -> Deputy:
    deputy = deputies.deputy_of(db_session(), current_staff())
    if deputy is None:
        abort(403)
    return deputy


def _limits() -> deputies.Limits:
    config = current_app.config
    return deputies.Limits(max_seconds=config["VOICE_MAX_SECONDS"], max_bytes=config["VOICE_MAX_BYTES"])


def _input(form: DeputySubmissionForm) -> deputies.DeputyInput:
    upload = form.voice.data
    voice = None
    if upload is not None and getattr(upload, "filename", ""):
        voice = deputies.VoiceUpload(upload.read(), upload.filename)
    return deputies.DeputyInput(
        text=form.text.data or "",
        mode=form.mode.data,
        constituents=form.constituents.data,
        place=form.place.data or "",
        station_id=int(form.station.data) if form.station.data else None,
        voice=voice,
    )


@bp.route("/", methods=["GET", "POST"])
@roles_required(Role.DEPUTY)
def portal():
    deputy = _deputy()
    form = DeputySubmissionForm()
    form.station.choices = [SelectChoice("", _l("不在联络站"))] + [SelectChoice(str(s.id), s.name) for s in deputy.stations]
    if request.method == "GET" and len(deputy.stations) == 1:
        form.station.data = str(deputy.stations[0].id)
    if form.validate_on_submit():
        try:
            ticket = deputies.submit(db_session(), deputy, _input(form), services().reader(), now(), _limits())
        except SubmissionError as exc:
            db_session().rollback()
            getattr(form, exc.field.split(".")[0], form.text).errors = [error_text(exc)]
        else:
            flash(gettext("已提交，工单号 %(number)s。", number=ticket.number) + ("" if ticket.text else gettext("语音转写后会自动分类派单。")))
            return redirect(url_for("deputy.ticket", number=ticket.number))
    recent = deputies.submissions_of(db_session(), deputy)[:5]
    status = 400 if request.method == "POST" else 200
    return render_template(
        "deputy/portal.html", form=form, bind_form=BindForm(), deputy=deputy, recent=recent, now=now(),
        notices=deputies.unread_notices(db_session(), deputy),
        is_late=deputies.is_late, bind_minutes=deputies.BIND_MINUTES,
    ), status


class RatingForm(FlaskForm):
    """代表评价 of the answer to the deputy's suggestion."""

    rating = RadioField(
        _l("您对答复是否满意"),
        choices=[SelectChoice(value, _l(label)) for value, label in ratings.RATINGS.items()],
        validators=[InputRequired(_l("请选择评价。"))],
    )
    reason = TextAreaField(_l("理由（不满意时必填）"), validators=[Optional()])


class BindForm(FlaskForm):
    """绑定微信: only the button, and its CSRF token."""


@bp.post("/wechat")
@roles_required(Role.DEPUTY)
def bind_wechat():
    """A one-time code to send to the official account (绑定 123456)."""
    if BindForm().validate_on_submit():
        deputies.new_bind_code(db_session(), _deputy(), now())
    return redirect(url_for("deputy.portal"))


@bp.get("/tickets")
@roles_required(Role.DEPUTY)
def tickets():
    deputy = _deputy()
    submissions = deputies.submissions_of(db_session(), deputy)
    today = now()
    late = [s for s in submissions if deputies.is_late(s.ticket, today)]
    return render_template(
        "deputy/tickets.html", deputy=deputy, submissions=submissions, late=late, now=today, is_late=deputies.is_late
    )


@bp.get("/tickets/<number>")
@roles_required(Role.DEPUTY)
def ticket(number: str):
    deputy = _deputy()
    submission = deputies.submission_of_ticket(db_session(), deputy, number)
    if submission is None:
        abort(404, description=gettext("没有找到您提交的这张工单。"))
    deputies.mark_read(db_session(), deputy, submission.ticket, now())
    return _ticket_page(submission, RatingForm())


@bp.get("/tickets/<number>/voice/<int:attachment_id>")
@roles_required(Role.DEPUTY)
def voice(number: str, attachment_id: int):
    """The deputy plays back their own voice note (回放录音); anyone else's is not there."""
    deputy = _deputy()
    submission = deputies.submission_of_ticket(db_session(), deputy, number)
    note = deputies.voice_note(db_session(), submission.ticket, attachment_id) if submission else None
    if note is not None:
        # What a resident told the deputy may be on the recording: each playback is logged, as a photo's is.
        record_access(db_session(), current_staff(), ATTACHMENT, at=now(), address=request.remote_addr,
                      ticket=submission.ticket, attachment_id=note.id)
        db_session().commit()
    return voice_note_response(note)


def _ticket_page(submission, rating_form: RatingForm, status: int = 200):
    return render_template(
        "deputy/ticket.html",
        rating_form=rating_form,
        may_rate=steps.awaiting_rating(submission.ticket) and submission.ticket.kind is Kind.DEPUTY_SUGGESTION,
        submission=submission,
        ticket=submission.ticket,
        agency=steps.answering_agency(submission.ticket),
        transcriptions=of_ticket(db_session(), submission.ticket_id),
        voice_notes=deputies.voice_notes(db_session(), submission.ticket),
        now=now(),
        is_late=deputies.is_late,
        modes=deputies.MODES,
        consultations=suggestions.consultations(submission.ticket),
        grade=suggestions.answer_grade(submission.ticket),
        grades=suggestions.SUGGESTION_GRADES,
    ), status


@bp.post("/tickets/<number>/rate")
@roles_required(Role.DEPUTY)
def rate(number: str):
    """满意 / 基本满意 close the suggestion; 不满意 sends it back for a month."""
    deputy = _deputy()
    session = db_session()
    submission = deputies.submission_of_ticket(session, deputy, number)
    if submission is None:
        abort(404, description=gettext("没有找到您提交的这张工单。"))
    form = RatingForm()
    if form.validate_on_submit():
        try:
            ratings.rate_by_deputy(session, submission.ticket, current_staff(), now(), form.rating.data, form.reason.data,
                                   redo_escalation=current_app.config["REDO_ESCALATION"])
        except steps.WorkflowError as exc:
            session.rollback()
            form.reason.errors = [error_text(exc)]
        else:
            session.commit()
            flash(gettext("已重新交办，承办单位须在一个月内再次答复。") if form.rating.data == "unsatisfied" else gettext("感谢评价，工单已办结。"))
            return redirect(url_for("deputy.ticket", number=number))
    return _ticket_page(submission, form, 400)


@bp.get("/stations/<int:station_id>")
@roles_required(Role.DEPUTY, Role.DISPATCHER, Role.ADMIN)
def station(station_id: int):
    """What came through a liaison station: for its deputies and dispatchers."""
    session = db_session()
    station = session.get(Station, station_id)
    if station is None:
        abort(404, description=gettext("没有这个联络站。"))
    user = current_staff()
    if user.role is Role.DEPUTY and not deputies.serves(deputies.deputy_of(session, user), station):
        abort(403)
    today = now()
    return render_template(
        "deputy/station.html",
        station=station,
        submissions=deputies.station_submissions(session, station),
        now=today,
        is_late=deputies.is_late,
        modes=deputies.MODES,
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
