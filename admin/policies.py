"""Deadline policies (时限规则) and the working-day calendar (工作日历):
editable by dispatchers and administrators, each change audited. The calendar
page calls the same functions as ``flask --app admin calendar``."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from collector.context import db_session
from collector.translate import error_text
from routing.clock import now
from routing.flow.calendar import month_grids
from routing.flow.deadlines import (
    Terms,
    calendar_entries,
    check_policy_table,
    day_range,
    package_knows,
    policy_table,
    remove_calendar_day,
    set_calendar_days,
    update_policies,
    year_view,
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


TERM_FIELDS = ("accept_days", "answer_days", "answer_hours", "answer_months")
TERM_LABELS = {
    "accept_days": _l("签收（工作日）"), "answer_days": _l("答复（工作日）"),
    "answer_hours": _l("或答复（小时）"), "answer_months": _l("或答复（月）"),
}


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


def _shown(terms: Terms) -> dict[str, str]:
    values = {name: str(getattr(terms, name) or "") for name in TERM_FIELDS}
    # Hour-counted terms are accepted within the hour: an empty box, not "0 working days".
    values["accept_days"] = "" if terms.answer_hours else str(terms.accept_days)
    return values


def _entered(form) -> tuple[dict[tuple[Kind, Urgency], Terms], dict[str, dict[str, str]], dict[str, str]]:
    """The policy table as typed: terms per row, the raw values to show again,
    and the rows whose numbers are not whole numbers."""
    entered, values, errors = {}, {}, {}
    for kind in Kind:
        for urgency in Urgency:
            key = f"{kind.value}-{urgency.value}"
            raw = {name: form.get(f"{key}-{name}", "").strip() for name in TERM_FIELDS}
            values[key] = raw
            if not all(v.isdigit() for v in raw.values() if v):
                errors[key] = str(WHOLE)
                continue
            number = {name: int(v) if v else None for name, v in raw.items()}
            entered[kind, urgency] = Terms(
                number["accept_days"] or 0, number["answer_days"] or 0, number["answer_hours"], number["answer_months"]
            )
    return entered, values, errors


def _table_page(rows, values=None, errors=None, status: int = 200):
    session = db_session()
    values = values or {f"{k.value}-{u.value}": _shown(terms) for k, u, terms, _ in rows}
    return render_template(
        "desk/policies.html", rows=rows, values=values, errors=errors or {}, labels=TERM_LABELS,
        form=EmptyForm(), history=changes(session, "policy"), field_labels=POLICY_FIELDS,
    ), status


@bp.get("/policies")
@roles_required(*DISPATCH)
def index():
    return _table_page(policy_table(db_session()))


@bp.post("/policies")
@roles_required(*DISPATCH)
def update():
    if not EmptyForm().validate_on_submit():
        abort(400)
    session = db_session()
    entered, values, errors = _entered(request.form)
    errors |= {f"{k.value}-{u.value}": error_text(e) for (k, u), e in check_policy_table(entered)[1].items()}
    if errors:
        flash(gettext("时限表有 %(n)s 行需要修改，均未保存。", n=len(errors)), "error")
        return _table_page(policy_table(session), values, errors, 400)
    changed = update_policies(session, entered, current_staff(), now())
    session.commit()
    if changed:
        flash(gettext("已保存 %(n)s 项时限：%(rows)s。新派单的工单按新时限计算，已派单的工单时限不变。", n=len(changed),
                      rows="、".join(f"{gettext(k.label)} · {gettext(u.label)}" for k, u in changed)))
    else:
        flash(gettext("时限没有变化。"))
    return redirect(url_for("policies.index"))


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
    days = year_view(session, year)
    return render_template(
        "desk/calendar.html",
        year=year,
        entries=entries,
        notes={e.day: e.note for e in entries},
        months=month_grids(days),
        workdays=sum(d.workday for d in days),
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
