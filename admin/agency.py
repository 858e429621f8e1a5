"""The agency's pages (承办单位): its own queue; accept, ask the resident,
ask for more time, answer, return."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Flask, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import DateField, TextAreaField
from wtforms.validators import DataRequired, Length

from collector.context import db_session
from routing import workflow
from routing.calendar import WorkingHours
from routing.clock import now
from routing.models import Role
from routing.tickets import agency_queue

from .auth import current_staff, roles_required
from .views import carry_out, flash_errors, ticket_for

bp = Blueprint("agency", __name__, url_prefix="/agency")


class AnswerForm(FlaskForm):
    answer = TextAreaField("答复内容", validators=[DataRequired("请填写答复内容。"), Length(max=5000)])


class ReturnForm(FlaskForm):
    reason = TextAreaField("退回理由", validators=[DataRequired("请填写退回理由。"), Length(max=1000)])


class AskForm(FlaskForm):
    question = TextAreaField("需要群众补充什么", validators=[DataRequired("请写明需要群众补充的内容。"), Length(max=1000)])


class ExtensionForm(FlaskForm):
    until = DateField("延期至", validators=[DataRequired("请选择延期后的答复日期。")])
    reason = TextAreaField("延期理由", validators=[DataRequired("请填写延期理由。"), Length(max=500)])


class EmptyForm(FlaskForm):
    """Only the CSRF token: for one-click steps such as accepting."""


@bp.get("/")
@roles_required(Role.AGENCY)
def queue():
    user = current_staff()
    tickets = agency_queue(db_session(), user.agency_id)
    return render_template("agency/queue.html", tickets=tickets, agency=user.agency, now=now())


@bp.get("/tickets/<number>")
@roles_required(Role.AGENCY)
def ticket(number: str):
    ticket = ticket_for(current_staff(), number)
    return render_template(
        "ticket/detail.html",
        ticket=ticket,
        now=now(),
        accept_form=EmptyForm(),
        answer_form=AnswerForm(),
        return_form=ReturnForm(),
        ask_form=AskForm(),
        extension_form=ExtensionForm(),
        back=url_for("agency.queue"),
    )


@bp.post("/tickets/<number>/accept")
@roles_required(Role.AGENCY)
def accept(number: str):
    user = current_staff()
    ticket = ticket_for(user, number)
    if EmptyForm().validate_on_submit():
        carry_out(workflow.accept, ticket, user, done="已签收。")
    return redirect(url_for("agency.ticket", number=number))


@bp.post("/tickets/<number>/answer")
@roles_required(Role.AGENCY)
def answer(number: str):
    user = current_staff()
    ticket = ticket_for(user, number)
    form = AnswerForm()
    if form.validate_on_submit():
        carry_out(workflow.answer, ticket, user, text=form.answer.data, done="已答复，群众可以看到答复。")
    else:
        flash_errors(form)
    return redirect(url_for("agency.ticket", number=number))


@bp.post("/tickets/<number>/return")
@roles_required(Role.AGENCY)
def return_ticket(number: str):
    user = current_staff()
    ticket = ticket_for(user, number)
    form = ReturnForm()
    if form.validate_on_submit():
        if carry_out(workflow.return_ticket, ticket, user, reason=form.reason.data, done="已退回分拨中心。"):
            return redirect(url_for("agency.queue"))
    else:
        flash_errors(form)
    return redirect(url_for("agency.ticket", number=number))


@bp.post("/tickets/<number>/ask")
@roles_required(Role.AGENCY)
def ask_resident(number: str):
    user = current_staff()
    ticket = ticket_for(user, number)
    form = AskForm()
    if form.validate_on_submit():
        carry_out(workflow.ask_resident, ticket, user, question=form.question.data,
                  done="已请群众补充，办理时限暂停计算。")
    else:
        flash_errors(form)
    return redirect(url_for("agency.ticket", number=number))


@bp.post("/tickets/<number>/resume")
@roles_required(Role.AGENCY)
def resume(number: str):
    user = current_staff()
    ticket = ticket_for(user, number)
    if EmptyForm().validate_on_submit():
        carry_out(workflow.resume, ticket, user, reason="承办单位继续办理", done="已恢复办理，答复时限已顺延。")
    return redirect(url_for("agency.ticket", number=number))


@bp.post("/tickets/<number>/extension")
@roles_required(Role.AGENCY)
def request_extension(number: str):
    user = current_staff()
    ticket = ticket_for(user, number)
    form = ExtensionForm()
    if form.validate_on_submit():
        until = datetime.combine(form.until.data, WorkingHours().end)
        carry_out(workflow.request_extension, ticket, user, until=until, reason=form.reason.data,
                  done="延期申请已提交，等待分拨中心审批。")
    else:
        flash_errors(form)
    return redirect(url_for("agency.ticket", number=number))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
