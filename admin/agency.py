"""The agency's pages (承办单位): its own queue, accept, answer, return."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from collector.context import db_session
from routing import workflow
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


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
