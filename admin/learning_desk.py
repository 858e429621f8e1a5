"""The learning page (模型学习, ``/desk/learning``): what the last retrainings
changed, the versions to roll back to, a retraining on demand, and the
corrections that contradict each other, for a dispatcher to settle."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import HiddenField, IntegerField
from wtforms.validators import DataRequired, Length

from collector.context import EXTENSION, db_session
from collector.translate import error_text
from routing.clock import now
from routing.dispatch.contradictions import settle
from routing.store.retraining import MANUAL, OUTCOME_LABELS, TRIGGER_LABELS, recent_retrainings
from routing.texts import DomainError, N_

from . import learning
from .auth import current_staff, roles_required
from .desk import DISPATCH

bp = Blueprint("learning", __name__, url_prefix="/desk/learning")
FIELD_LABELS = {"version": N_("模型版本")}


class ActionForm(FlaskForm):
    """A button that only needs its CSRF token (retrain now)."""


class ActivateForm(FlaskForm):
    version = HiddenField(validators=[DataRequired(), Length(max=32)])


class SettleForm(FlaskForm):
    correction = IntegerField(validators=[DataRequired()])
    label = HiddenField(validators=[DataRequired(), Length(max=80)])


def _learning() -> learning.Learning:
    return current_app.extensions["tingjian.learning"]


@bp.get("/")
@roles_required(*DISPATCH)
def page():
    session = db_session()
    state = learning.overview(session, _learning(), recent_retrainings(session))
    return render_template(
        "desk/learning.html", state=state, schedule=_learning().schedule, form=ActionForm(),
        triggers=TRIGGER_LABELS, outcomes=OUTCOME_LABELS, field_labels=FIELD_LABELS,
    )


@bp.post("/retrain")
@roles_required(*DISPATCH)
def retrain_now():
    session = db_session()
    if ActionForm().validate_on_submit():
        if learning.request_retraining(session, now(), MANUAL, current_staff()):
            session.commit()
            flash(gettext("已安排重新训练，完成后结果会显示在本页。"))
        else:
            session.rollback()
            flash(gettext("已有一次重新训练在排队或进行中，请等它完成。"), "error")
    return redirect(url_for("learning.page"))


def _ruling(form: FlaskForm, work: Callable[[Session], str], missing: str):
    """Validate the form, do the work on the request's session and commit it,
    or say why not and change nothing; back to the page either way."""
    session = db_session()
    if not form.validate_on_submit():
        flash(missing, "error")
        return redirect(url_for("learning.page"))
    try:
        done = work(session)
        session.commit()
    except DomainError as exc:
        session.rollback()
        flash(error_text(exc), "error")
    else:
        flash(done)
    return redirect(url_for("learning.page"))


@bp.post("/activate")
@roles_required(*DISPATCH)
def activate():
    form = ActivateForm()

    def work(session: Session) -> str:
        learning.activate_version(session, _learning().store, form.version.data, current_staff(), now(),
                                  summary="在模型学习页启用")
        return gettext("已启用模型版本 %(version)s，运行中的进程将在几秒内改用它。", version=form.version.data)

    return _ruling(form, work, gettext("请选择要启用的模型版本。"))


@bp.post("/settle")
@roles_required(*DISPATCH)
def settle_disagreement():
    form = SettleForm()

    def work(session: Session) -> str:
        settle(session, form.correction.data, form.label.data, current_staff(), now())
        return gettext("已裁定为“%(label)s”，其余纠错不再用于训练。", label=form.label.data)

    return _ruling(form, work, gettext("请选择正确的结果。"))


def init_app(app: Flask) -> None:
    schedule = learning.Schedule(app.config["RETRAIN_EVERY_DAYS"], app.config["RETRAIN_AFTER_CORRECTIONS"])
    state = learning.Learning(app.extensions["tingjian.models"], schedule)
    app.extensions["tingjian.learning"] = state
    learning.register_jobs(app.extensions[EXTENSION].jobs, state)
    app.register_blueprint(bp)
