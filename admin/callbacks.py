"""Callbacks on the pages (回访): the desk's queue of answered tickets to call
back, where a dispatcher records each try. The domain is ``routing.flow.callbacks``."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from collector.context import db_session
from routing.flow import callbacks
from routing.flow.callback_rules import CallbackRule
from routing.store.people import Role
from routing.texts import N_

from .auth import current_staff, roles_required
from .views import carry_out, flash_errors, ticket_for

bp = Blueprint("callbacks", __name__)

DISPATCH = (Role.DISPATCHER, Role.ADMIN)
YES_NO = [SelectChoice("yes", _l("是")), SelectChoice("no", _l("否"))]


class CallbackForm(FlaskForm):
    reached = RadioField(
        _l("是否联系上群众"),
        choices=[SelectChoice("yes", _l("联系上")), SelectChoice("no", _l("未联系上"))],
        validators=[DataRequired(message=_l("请选择是否联系上群众。"))],
    )
    # Required once reached: the workflow says so, in its own words.
    solved = RadioField(_l("问题是否解决"), choices=YES_NO, validators=[Optional()])
    satisfied = RadioField(_l("是否满意"), choices=YES_NO, validators=[Optional()])
    said = TextAreaField(_l("群众意见"), validators=[Optional(), Length(max=callbacks.SAID_LENGTH)])


def _answer(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


@bp.get("/desk/callbacks")
@roles_required(*DISPATCH)
def queue():
    """待回访: the longest waiting first."""
    rule = CallbackRule.from_config(current_app.config)
    return render_template(
        "desk/callbacks.html", waiting=callbacks.queue(db_session()), form=CallbackForm(), attempts=rule.attempts
    )


@bp.post("/desk/tickets/<number>/callback")
@roles_required(*DISPATCH)
def record(number: str):
    user = current_staff()
    ticket = ticket_for(user, number)
    form = CallbackForm()
    if not form.validate_on_submit():
        flash_errors(form)
    else:
        carry_out(
            callbacks.record_try,
            ticket,
            user,
            reached=form.reached.data == "yes",
            solved=_answer(form.solved.data),
            satisfied=_answer(form.satisfied.data),
            said=form.said.data or None,
            rule=CallbackRule.from_config(current_app.config),
            done=N_("已记录回访结果。"),
        )
    return redirect(url_for("callbacks.queue"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
