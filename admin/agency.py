"""The agency's pages (承办单位): its own queue; accept, ask the resident,
ask for more time, answer, return (disputing an assignment: ``disputes``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from collector.context import db_session
from routing.clock import now
from collector.answer_files import AnswerFileError, checked
from collector.translate import error_text
from routing.flow import answer_files, answer_setup, answers, steps, suggestions, workflow
from routing.flow.calendar import WorkingHours
from routing.flow.callback_rules import CallbackRule
from routing.flow.escalation import latest_digests, open_escalations
from routing.reports.queues import AGENCY_OPEN, QUEUE_ORDERS, agency_counts, agency_queue, assisting_queue, reopened
from routing.store.answering import AnswerTemplate
from routing.store.people import Role
from routing.store.tickets import Status
from routing.texts import N_

from .auth import current_staff, roles_required
from .disputes import agency_forms
from .knowledge import agency_box
from .privacy import page_contact
from .views import carry_out, flash_errors, ticket_for

bp = Blueprint("agency", __name__, url_prefix="/agency")


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("答复内容"), validators=[DataRequired(_l("请填写答复内容。")), Length(max=5000)])
    # Only a deputy's suggestion is answered with its result class; the workflow insists.
    grade = RadioField(
        _l("办理结果分类（代表建议）"),
        choices=[SelectChoice(value, label) for value, label in suggestions.SUGGESTION_GRADES.items()],
        validators=[Optional()],
    )
    citation = StringField(_l("答复依据（法规政策，选填）"), validators=[Optional(), Length(max=answers.CITATION_LENGTH)])
    signed_by = StringField(_l("签发人"), validators=[Optional(), Length(max=answers.SIGNER_LENGTH)])
    files = MultipleFileField(_l("照片或文件（选填，群众可以看到；照片或 PDF，最多 %(n)s 个）", n=answer_files.MAX_FILES))


class ConsultForm(FlaskForm):
    held_on = DateField(_l("面商日期"), validators=[DataRequired(_l("请选择面商日期。"))])
    way = SelectField(_l("面商方式"), choices=[SelectChoice(w, w) for w in suggestions.CONSULT_WAYS])
    note = TextAreaField(_l("面商情况"), validators=[DataRequired(_l("请填写面商情况。")), Length(max=2000)])


class ReturnForm(FlaskForm):
    # Without it (an older page, a script) a return is 其他, as before there were classes.
    reason_class = SelectField(
        _l("退回原因"), choices=[SelectChoice(value, _l(label)) for value, label in workflow.RETURN_REASONS.items()],
        default="other",
    )
    reason = TextAreaField(_l("退回理由"), validators=[DataRequired(_l("请填写退回理由。")), Length(max=1000)])


class AskForm(FlaskForm):
    question = TextAreaField(_l("需要群众补充什么"), validators=[DataRequired(_l("请写明需要群众补充的内容。")), Length(max=1000)])


class ExtensionForm(FlaskForm):
    until = DateField(_l("延期至"), validators=[DataRequired(_l("请选择延期后的答复日期。"))])
    reason = TextAreaField(_l("延期理由"), validators=[DataRequired(_l("请填写延期理由。")), Length(max=500)])


class OpinionForm(FlaskForm):
    opinion = TextAreaField(_l("协办意见"), validators=[DataRequired(_l("请填写协办意见。")), Length(max=2000)])


class EmptyForm(FlaskForm):
    """Only the CSRF token: for one-click steps such as accepting."""


@bp.get("/")
@roles_required(Role.AGENCY)
def queue():
    user = current_staff()
    session = db_session()
    digests = latest_digests(session, user.agency_id, limit=1)
    state = request.args.get("state", "")
    status = Status(state) if state in {s.value for s in AGENCY_OPEN} else None
    order = request.args.get("sort", "answer_by")
    order = order if order in QUEUE_ORDERS else "answer_by"
    tickets = agency_queue(session, user.agency_id, status=status, order=order)
    return render_template(
        "agency/queue.html",
        tickets=tickets,
        reopened=reopened(session, tickets),
        counts=agency_counts(session, user.agency_id),
        state=status.value if status else "",
        order=order,
        assisting=assisting_queue(session, user.agency_id),
        escalations=open_escalations(session, agency_id=user.agency_id),
        digest=digests[0] if digests else None,
        agency=user.agency,
        now=now(),
    )


@bp.get("/digests")
@roles_required(Role.AGENCY)
def digests():
    """每日简报: the agency's digests, the newest first."""
    user = current_staff()
    return render_template("agency/digests.html", digests=latest_digests(db_session(), user.agency_id),
                           agency=user.agency)


@bp.get("/tickets/<number>")
@roles_required(Role.AGENCY)
def ticket(number: str):
    user = current_staff()
    ticket = ticket_for(user, number)
    if not steps.is_lead(user, ticket):
        # 协办: read only, and an opinion for the lead agency.
        return render_template(
            "ticket/detail.html", ticket=ticket, now=now(), opinion_form=OpinionForm(), back=url_for("agency.queue"),
            current_agency=user.agency,
        )
    return render_template(
        "ticket/detail.html",
        ticket=ticket,
        now=now(),
        contact=page_contact(current_staff(), ticket),
        accept_form=EmptyForm(),
        answer_form=_answer_form(user.agency_id),
        answer_templates=answer_setup.templates_of(db_session(), user.agency_id),
        return_form=ReturnForm(),
        ask_form=AskForm(),
        extension_form=ExtensionForm(),
        consult_form=ConsultForm(),
        consultations=suggestions.consultations(ticket),
        back=url_for("agency.queue"),
        **agency_forms(ticket),
        **agency_box(user, ticket),
    )


def _answer_form(agency_id: int) -> AnswerForm:
    """The answer form, filled from one of the agency's own templates when the page asks (?template=)."""
    chosen = request.args.get("template", type=int)
    template = db_session().get(AnswerTemplate, chosen) if chosen else None
    if template is None or template.agency_id != agency_id or not template.active:
        return AnswerForm()
    return AnswerForm(data={"answer": template.text, "citation": template.citation or ""})


def _act(number: str, form: FlaskForm, step: Callable[..., object], done: str,
         arguments: Callable[[FlaskForm], dict] = lambda form: {}) -> bool:
    """One workflow step from a posted form, on the agency's own ticket."""
    user = current_staff()
    ticket = ticket_for(user, number)
    if not form.validate_on_submit():
        flash_errors(form)
        return False
    return carry_out(step, ticket, user, done=done, **arguments(form))


def _back(number: str):
    return redirect(url_for("agency.ticket", number=number))


@bp.post("/tickets/<number>/accept")
@roles_required(Role.AGENCY)
def accept(number: str):
    _act(number, EmptyForm(), workflow.accept, N_("已签收。"))
    return _back(number)


@bp.post("/tickets/<number>/answer")
@roles_required(Role.AGENCY)
def answer(number: str):
    rule = answers.review_rule_for(db_session(), ticket_for(current_staff(), number))
    done = N_("答复已提交分拨中心审核，审核通过后群众才能看到。") if rule and rule.review else N_("已答复，群众可以看到答复。")
    form = AnswerForm()
    try:
        files = [checked(f.read(), f.filename, max_bytes=current_app.config["PHOTO_MAX_BYTES"])
                 for f in form.files.data or [] if f and f.filename]
    except AnswerFileError as exc:
        flash(error_text(exc), "error")  # nothing is kept, the answer neither
        return _back(number)
    _act(number, form, workflow.answer, done,
         lambda f: {"text": f.answer.data, "grade": f.grade.data or None,
                    "citation": f.citation.data or None, "signed_by": f.signed_by.data or None,
                    "callbacks": CallbackRule.from_config(current_app.config), "files": files})
    return _back(number)


@bp.post("/tickets/<number>/consult")
@roles_required(Role.AGENCY)
def consult(number: str):
    _act(number, ConsultForm(), suggestions.consult, N_("已记录面商情况。"),
         lambda f: {"held_on": f.held_on.data, "way": f.way.data, "note": f.note.data})
    return _back(number)


@bp.post("/tickets/<number>/return")
@roles_required(Role.AGENCY)
def return_ticket(number: str):
    if _act(number, ReturnForm(), workflow.return_ticket, N_("已退回分拨中心。"),
            lambda f: {"reason": f.reason.data, "reason_class": f.reason_class.data}):
        return redirect(url_for("agency.queue"))
    return _back(number)


@bp.post("/tickets/<number>/ask")
@roles_required(Role.AGENCY)
def ask_resident(number: str):
    _act(number, AskForm(), workflow.ask_resident, N_("已请群众补充，办理时限暂停计算。"),
         lambda f: {"question": f.question.data})
    return _back(number)


@bp.post("/tickets/<number>/resume")
@roles_required(Role.AGENCY)
def resume(number: str):
    _act(number, EmptyForm(), workflow.resume, N_("已恢复办理，答复时限已顺延。"), lambda f: {"reason": "承办单位继续办理"})
    return _back(number)


@bp.post("/tickets/<number>/extension")
@roles_required(Role.AGENCY)
def request_extension(number: str):
    _act(number, ExtensionForm(), workflow.request_extension, N_("延期申请已提交，等待分拨中心审批。"),
         lambda f: {"until": datetime.combine(f.until.data, WorkingHours().end), "reason": f.reason.data})
    return _back(number)


@bp.post("/tickets/<number>/opinion")
@roles_required(Role.AGENCY)
def opinion(number: str):
    _act(number, OpinionForm(), workflow.add_opinion, N_("协办意见已记录，主办单位可以看到。"), lambda f: {"text": f.opinion.data})
    return _back(number)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
