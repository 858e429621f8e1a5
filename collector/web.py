"""The liaison station's public pages (代表联络站网页): the form a resident
fills in on a phone, the receipt, the status lookup, and on the status page
the resident's rating and what they add (their answer to the agency's question)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from routing.clock import now
from routing.flow import ratings, steps
from routing.flow.answer_files import delivered_file
from routing.flow.inbound import Contact, Inbound, Location
from routing.flow.lookup import resident_status
from routing.flow.resident import stop_sms
from routing.store.areas import Station
from routing.store.tickets import Status
from routing.texts import N_

from .additions import Photo, add_on_status_page
from .answer_files import file_response
from .context import db_session, services
from .intake import submit
from .outbound.sms import mainland_mobile
from .submissions import MAX_LOCATION, MAX_NAME, MAX_TEXT, MIN_TEXT, SubmissionError, find_station
from .throttle import TooManyGuesses, find_with_code
from .translate import error_text

bp = Blueprint(
    "station",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)


class TextLength:
    """A resident's text, on the form and on the status page alike (see
    submissions.checked_text). Checked here and not by the browser: a
    ``maxlength`` would cut a long paste silently, and the resident would
    never know what was lost. The message says how much they wrote."""

    def __call__(self, form: FlaskForm, field: Any) -> None:
        n = len((field.data or "").strip())
        if n < MIN_TEXT:
            raise ValidationError(gettext("请至少写 %(min)s 个字，说清楚问题和地点。", min=MIN_TEXT))
        if n > MAX_TEXT:
            raise ValidationError(
                gettext("反映内容最多 %(max)s 字，您写了 %(n)s 字，请精简后再提交。", max=MAX_TEXT, n=n)
            )


TEXT_LENGTH = TextLength()


class SubmissionForm(FlaskForm):
    station = SelectField(_l("联络站"), coerce=str, validators=[Optional()])
    text = TextAreaField(_l("您要反映的问题"), validators=[DataRequired(_l("请填写反映内容。")), TEXT_LENGTH])
    location = StringField(_l("地点（选填）"), validators=[Optional(), Length(max=MAX_LOCATION)])
    name = StringField(_l("称呼（选填）"), validators=[Optional(), Length(max=MAX_NAME)])
    phone = StringField(
        _l("电话（选填，承办单位联系您、短信告知进展时使用）"),
        validators=[Optional(), Regexp(r"^\+?[0-9][0-9\- ]{4,30}$", message=_l("电话号码格式不对，请只填写数字。"))],
    )
    # Asked beside the phone, ticked unless the resident unticks it.
    sms_notice = BooleanField(_l("短信告知办理进展"), default=True)
    confidential = BooleanField(_l("我要求对承办单位保密个人信息"))


class RatingForm(FlaskForm):
    code = HiddenField()
    rating = RadioField(
        _l("您对答复满意吗？"),
        choices=[SelectChoice(value, _l(label)) for value, label in ratings.RATINGS.items()],
        validators=[DataRequired(_l("请选择满意程度。"))],
    )
    comment = TextAreaField(_l("意见（选填）"), validators=[Optional(), Length(max=500)])


class MoreForm(FlaskForm):
    """群众补充: the resident's answer to the agency's question, or more on an open ticket."""

    code = HiddenField()
    text = TextAreaField(_l("补充内容"), validators=[DataRequired(_l("请填写要补充的内容。")), TEXT_LENGTH])
    photo = FileField(_l("照片（选填）"))


class StopSmsForm(FlaskForm):
    """不再接收短信: only with the ticket's code, as the status page itself."""

    code = HiddenField()


class LookupForm(FlaskForm):
    class Meta:
        csrf = False  # a GET lookup changes nothing

    number = StringField(_l("工单号"), validators=[DataRequired(_l("请填写工单号。"))])
    code = StringField(_l("查询码"), validators=[DataRequired(_l("请填写查询码。"))])


def status_url(ticket) -> str:
    """The resident's link to the ticket: under PUBLIC_URL where it is set
    (behind a proxy the request's own host is an internal one), else from the
    request; a job with neither sends no link."""
    base = _public_url(current_app)
    if base:
        return _public_status_url(base, ticket)
    if has_request_context():
        return url_for("station.status", number=ticket.number, code=ticket.code, _external=True)
    return ""


def status_url_outside_flask(app: Flask, environ: dict[str, Any]) -> Callable[[Any], str]:
    """``status_url`` for a request that Flask does not handle (the WeChat
    quick lane): the same link, built from the request's own environ."""
    base = _public_url(app)
    if base:
        return partial(_public_status_url, base)
    adapter = app.url_map.bind_to_environ(environ, server_name=app.config.get("SERVER_NAME"))
    return lambda ticket: adapter.build(
        "station.status", {"number": ticket.number, "code": ticket.code}, force_external=True
    )


def _public_url(app: Flask) -> str:
    return (app.config.get("PUBLIC_URL") or "").rstrip("/")


def _public_status_url(base: str, ticket: Any) -> str:
    return f"{base}/status/{quote(ticket.number)}?code={quote(ticket.code)}"


# The steps of the resident's timeline as the status page says them (the
# public ones and the resident's own: ``routing.flow.lookup``).
TIMELINE_LABELS = {
    "create": N_("已受理"), "assign": N_("已派至承办单位"), "reassign": N_("已转办"), "accept": N_("承办单位已签收"),
    "answer": N_("承办单位已答复"), "approve_answer": N_("承办单位已答复"), "return": N_("重新确定承办单位"),
    "triage": N_("人工分拣中"), "ask_resident": N_("承办单位请您补充情况"), "add_message": N_("您补充的情况"),
    "resume": N_("恢复办理"), "approve_extension": N_("延期办理"), "answer_merged": N_("已随同一事项答复"),
    "merge": N_("合并办理"), "rate": N_("您的评价"), "close": N_("已办结"), "reopen": N_("重新办理"),
    "invalidate": N_("不予受理"), "stop_sms": N_("您已停止接收短信"),
}


def _stations() -> list[Station]:
    query = select(Station).where(Station.active.is_(True)).order_by(Station.district_id, Station.name)
    return list(db_session().scalars(query))


def _submission_form() -> SubmissionForm:
    form = SubmissionForm()
    form.station.choices = [("", gettext("不指定联络站"))] + [
        (str(s.id), f"{s.district.name} · {s.name}") for s in _stations()
    ]
    return form


def submit_page_over_limit(message: str):
    """The form again with what the resident typed, when the address has
    submitted too often: they wait and send it, instead of typing it again."""
    return render_template("station/submit.html", form=_submission_form(), over_limit=message, max_text=MAX_TEXT), 429


@bp.route("/", methods=["GET", "POST"])
def submit_form():
    form = _submission_form()
    if request.method == "GET" and request.args.get("station"):
        form.station.data = request.args["station"]
    if form.validate_on_submit():
        db = db_session()
        inbound = Inbound(
            channel="web",
            text=form.text.data.strip(),
            station=find_station(db, form.station.data or None),
            contact=Contact(
                name=form.name.data or None, phone=form.phone.data or None, sms_notice=bool(form.sms_notice.data),
                confidential=bool(form.confidential.data),
            ),
            location=Location(text=form.location.data or None),
        )
        app_services = services()
        receipt = submit(
            db, inbound, app_services.classifier.current(), now(),
            threshold=app_services.threshold, agency_threshold=app_services.agency_threshold,
        )
        # The code is shown once, on the receipt; it is not put in the URL.
        session["receipt"] = {"number": receipt.ticket.number, "code": receipt.ticket.code}
        return redirect(url_for("station.receipt"))
    return render_template("station/submit.html", form=form, max_text=MAX_TEXT), 400 if form.errors else 200


@bp.get("/receipt")
def receipt():
    data = session.get("receipt")
    if not data:
        return redirect(url_for("station.lookup"))
    link = url_for("station.status", number=data["number"], code=data["code"], _external=True)
    return render_template("station/receipt.html", number=data["number"], code=data["code"], status_url=link)


@bp.get("/status")
def lookup():
    form = LookupForm(request.args)
    # Only a number (a link back from a wrong code) fills the form in, without errors.
    if "code" in request.args and form.validate():
        return redirect(url_for("station.status", number=form.number.data.strip(), code=form.code.data.strip()))
    return render_template("station/lookup.html", form=form)


def _find_with_code(session_, number: str, code: str | None):
    """The ticket with this code, or 404; a wrong code counts against the
    ticket (``find_with_code``) on every route that takes one, so no form
    posted to is a way around the limit on guessing."""
    try:
        ticket = find_with_code(session_, number, code)
    except TooManyGuesses as exc:
        abort(429, description=exc.message)
    if ticket is None:
        abort(404, description="没有找到这张工单，请核对工单号和查询码。")
    return ticket


@bp.get("/status/<number>")
def status(number: str):
    code = request.args.get("code")
    return _status_page(_find_with_code(db_session(), number, code), code)


def _status_page(ticket, code: str | None, more_form: MoreForm | None = None, http_status: int = 200):
    view = resident_status(ticket)
    rating_form = RatingForm(code=code) if steps.awaiting_rating(ticket) else None
    # Only an open ticket takes more: an answered one is rated, a closed one is done.
    if view["open"]:
        more_form = more_form or MoreForm(code=code)
    else:
        more_form = None
    # The stop link only where there is something to stop: a mobile number still texted.
    stop_form = StopSmsForm(code=code) if ticket.sms_notice and mainland_mobile(ticket.contact_phone or "") else None
    return render_template(
        "station/status.html", status=view, code=code, rating_form=rating_form, more_form=more_form,
        stop_form=stop_form, timeline_labels=TIMELINE_LABELS,
    ), http_status


@bp.get("/status/<number>/files/<int:file_id>")
def answer_file(number: str, file_id: int):
    """A photo or document the answer came with (答复附件), with the ticket's code."""
    session_ = db_session()
    ticket = _find_with_code(session_, number, request.args.get("code"))
    return file_response(delivered_file(session_, ticket, file_id))


@bp.post("/status/<number>/more")
def add_more(number: str):
    """群众补充: with the ticket's code, the resident answers the agency's
    question (the ticket then goes on, as after a WeChat reply) or adds
    more to an open ticket; text, and a photo if they like."""
    form = MoreForm()
    session_ = db_session()
    ticket = _find_with_code(session_, number, form.code.data)
    if not form.validate_on_submit():
        return _status_page(ticket, form.code.data, form, 400)
    upload = form.photo.data
    photo = Photo(upload.read(), upload.filename) if upload and upload.filename else None
    waiting = ticket.status is Status.WAITING
    try:
        add_on_status_page(
            session_, ticket, form.text.data, photo, services().reader(), now(),
            max_photo_bytes=current_app.config["PHOTO_MAX_BYTES"],
        )
        session_.commit()
    except SubmissionError as exc:
        session_.rollback()
        field = form[exc.field] if exc.field in form else form.text
        field.errors = [*field.errors, error_text(exc)]
        return _status_page(ticket, form.code.data, form, 400)
    except steps.WorkflowError as exc:
        # No longer open (answered or closed meanwhile): the page says so, and offers no form.
        session_.rollback()
        flash(error_text(exc), "error")
        return _status_page(ticket, form.code.data, form, 400)
    except StaleDataError:
        # Staff changed the ticket meanwhile: nothing of this was kept.
        session_.rollback()
        flash(gettext("工单刚刚有了变化，您的补充没有保存，请重新提交。"), "error")
        return _status_page(ticket, form.code.data, form, 409)
    flash(gettext(ANSWERED if waiting else ADDED))
    return redirect(url_for("station.status", number=number, code=form.code.data))


ANSWERED = N_("已收到您的回复，承办单位将继续办理，答复时限相应顺延。")
ADDED = N_("已收到您补充的情况，承办单位会看到。")


@bp.post("/status/<number>/rating")
def rate(number: str):
    """满意度评价: only with the ticket's code, as the status page itself."""
    form = RatingForm()
    session_ = db_session()
    ticket = _find_with_code(session_, number, form.code.data)
    if form.validate_on_submit():
        try:
            ratings.rate(session_, ticket, now(), form.rating.data, form.comment.data,
                         redo_escalation=current_app.config["REDO_ESCALATION"])
            session_.commit()
            flash("感谢您的评价。" if form.rating.data != "unsatisfied" else "已收到您的意见，承办单位将重新办理。")
        except steps.WorkflowError as exc:
            session_.rollback()
            flash(str(exc), "error")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    return redirect(url_for("station.status", number=number, code=form.code.data))


@bp.post("/status/<number>/sms-stop")
def stop_sms_notices(number: str):
    """不再接收短信: with the ticket's code, the resident stops the SMS about
    this ticket; an event on its timeline."""
    form = StopSmsForm()
    session_ = db_session()
    ticket = _find_with_code(session_, number, form.code.data)
    if not form.validate_on_submit():
        abort(400, description=gettext("页面已过期，请刷新后重试。"))
    try:
        stop_sms(session_, ticket, now())
        session_.commit()
        flash(gettext("已为这张工单停止发送短信，您仍可在本页查看办理进展。"))
    except steps.WorkflowError as exc:
        session_.rollback()
        flash(error_text(exc), "error")
    except StaleDataError:
        session_.rollback()
        flash(gettext("工单刚刚有了变化，请重新操作。"), "error")
    return redirect(url_for("station.status", number=number, code=form.code.data))
