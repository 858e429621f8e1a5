"""Deadline policies (时限规则) and the working-day calendar (工作日历):
editable by dispatchers and administrators, each change audited. The calendar
page calls the same functions as ``flask --app admin calendar``."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from collector.context import db_session
from collector.translate import error_text
from routing.clock import now
from routing.flow.deadlines import (
    PolicyError,
    Terms,
    calendar_entries,
    day_range,
    package_knows,
    policy_table,
    remove_calendar_day,
    set_calendar_days,
    update_policy,
)
from routing.store.audit import changes
from routing.store.tickets import Kind, Urgency
from routing.texts import N_

from .agency import EmptyForm
from .auth import current_staff, roles_required
from .desk import DISPATCH
from .params import whole_number
from .views import flash_errors

bp = Blueprint("policies", __name__, url_prefix="/desk")

WHOLE = _l("请填写 0 或正整数。")


class PolicyForm(FlaskForm):
    accept_days = IntegerField(_l("签收（工作日）"), validators=[InputRequired(WHOLE), NumberRange(0, None, WHOLE)])
    answer_days = IntegerField(_l("答复（工作日）"), validators=[Optional(), NumberRange(0, None, WHOLE)])
    answer_hours = IntegerField(_l("或答复（小时）"), validators=[Optional(), NumberRange(0, None, WHOLE)])
    answer_months = IntegerField(_l("或答复（月）"), validators=[Optional(), NumberRange(0, None, WHOLE)])


class CalendarForm(FlaskForm):
    first = DateField(_l("开始日期"), validators=[DataRequired(_l("请选择开始日期。"))])
    last = DateField(_l("结束日期（单日可不填）"), validators=[Optional()])
    is_workday = SelectField(_l("类型"), choices=[SelectChoice("0", _l("放假")), SelectChoice("1", _l("调休上班"))], default="0")
    note = StringField(_l("说明（如：春节、国庆调休）"), validators=[Optional(), Length(max=64)])


POLICY_FIELDS = {
    "accept_days": N_("签收工作日"), "answer_days": N_("答复工作日"), "answer_hours": N_("答复小时"),
    "answer_months": N_("答复月数"),
}
CALENDAR_FIELDS = {"days": N_("日期"), "is_workday": N_("调休上班"), "note": N_("说明")}


@bp.get("/policies")
@roles_required(*DISPATCH)
def index():
    session = db_session()
    return render_template(
        "desk/policies.html", rows=policy_table(session), form=PolicyForm(),
        history=changes(session, "policy"), field_labels=POLICY_FIELDS,
    )


@bp.post("/policies/<kind>/<urgency>")
@roles_required(*DISPATCH)
def update(kind: str, urgency: str):
    try:
        kind_, urgency_ = Kind(kind), Urgency(urgency)
    except ValueError:
        abort(404, description=gettext("没有这类时限规则。"))
    form = PolicyForm()
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(url_for("policies.index"))
    session = db_session()
    terms = Terms(form.accept_days.data, form.answer_days.data or 0, form.answer_hours.data, form.answer_months.data)
    try:
        update_policy(session, kind_, urgency_, terms, current_staff(), now())
        session.commit()
    except PolicyError as exc:
        session.rollback()
        flash(f"{gettext(kind_.label)} · {gettext(urgency_.label)}：{error_text(exc)}", "error")
    else:
        flash(gettext("已保存“%(kind)s · %(urgency)s”的时限。新派单的工单按新时限计算，已派单的工单时限不变。",
                      kind=gettext(kind_.label), urgency=gettext(urgency_.label)))
    return redirect(url_for("policies.index") + f"#{kind}-{urgency}")


def _year() -> int:
    year = request.args.get("year", type=whole_number) or now().year
    if not 2000 <= year <= 2100:
        abort(404, description=gettext("年份超出范围。"))
    return year


@bp.get("/calendar")
@roles_required(*DISPATCH)
def calendar():
    session = db_session()
    year = _year()
    entries = calendar_entries(session, year)
    return render_template(
        "desk/calendar.html",
        year=year,
        entries=entries,
        package_knows=package_knows(year),
        form=CalendarForm(),
        remove_form=EmptyForm(),
        history=changes(session, "calendar", limit=20),
        field_labels=CALENDAR_FIELDS,
    )


@bp.post("/calendar")
@roles_required(*DISPATCH)
def add_days():
    form = CalendarForm()
    year = _year()
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(url_for("policies.calendar", year=year))
    try:
        days = day_range(form.first.data, form.last.data)
    except ValueError as exc:
        flash(error_text(exc) + gettext("。"), "error")
        return redirect(url_for("policies.calendar", year=year))
    session = db_session()
    is_workday = form.is_workday.data == "1"
    n = set_calendar_days(
        session, days, is_workday=is_workday, note=(form.note.data or "").strip(), actor=current_staff(), now=now()
    )
    session.commit()
    entered = gettext("已录入 %(n)s 天调休上班。", n=n) if is_workday else gettext("已录入 %(n)s 天放假。", n=n)
    flash(entered + gettext("已设定的期限不变，新工单按新日历计算。"))
    return redirect(url_for("policies.calendar", year=days[0].year))


@bp.post("/calendar/<day>/remove")
@roles_required(*DISPATCH)
def remove_day(day: str):
    try:
        the_day = date.fromisoformat(day)
    except ValueError:
        abort(404, description=gettext("日期格式不对。"))
    if not EmptyForm().validate_on_submit():
        abort(400)
    session = db_session()
    if remove_calendar_day(session, the_day, actor=current_staff(), now=now()):
        session.commit()
        flash(gettext("已删除 %(day)s 的录入。", day=the_day.isoformat()))
    else:
        flash(gettext("%(day)s 没有录入。", day=the_day.isoformat()), "error")
    return redirect(url_for("policies.calendar", year=the_day.year))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
