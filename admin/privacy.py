"""Residents' personal data on staff pages (个人信息保护): the contact data a
ticket page shows (masked unless the rule lets the reader see it, each
unmasked showing logged), agency staff's reveal with a stated reason, the
access log administrators search and export, and the erasure of a closed
ticket's personal data at the resident's request."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from collector.context import db_session
from collector.translate import error_text
from routing.clock import now
from routing.flow.disclosure import reveal_contact, shown_contact
from routing.flow.erasure import erase_personal_data
from routing.flow.steps import WorkflowError
from routing.store.access_log import ACTIONS, EXPORT, AccessQuery, record_access, search_access_log
from routing.store.people import Role, User
from routing.store.retention import Schedule
from routing.store.tickets import Ticket
from routing.texts import N_

from .auth import current_staff, roles_required
from .exports import CSV, attachment, to_csv
from .views import ticket_for

bp = Blueprint("privacy", __name__)

ACTION_LABELS = {
    "view_contact": N_("查看联系方式"),
    "reveal": N_("说明原因后查看"),
    "export": N_("导出"),
    "attachment": N_("下载附件"),
    "erase": N_("删除个人信息"),
}
# How long a reveal lasts: long enough to call the resident back from the page.
REVEAL_SECONDS = 600


class RevealForm(FlaskForm):
    reason = StringField(
        _l("查看原因"), validators=[DataRequired(_l("请说明查看原因，例如回电核实。")), Length(max=200)]
    )


class AccessSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a search (GET) changes nothing

    username = StringField(_l("用户名"), validators=[Optional(), Length(max=64)])
    number = StringField(_l("工单编号"), validators=[Optional(), Length(max=20)])
    action = SelectField(
        _l("操作"), choices=[SelectChoice("", _l("全部"))] + [SelectChoice(a, _l(ACTION_LABELS[a])) for a in ACTIONS]
    )
    since = DateField(_l("起始日期"), validators=[Optional()])
    until = DateField(_l("截止日期"), validators=[Optional()])


class EraseForm(FlaskForm):
    number = StringField(_l("工单编号"), validators=[DataRequired(_l("请填写工单编号。")), Length(max=20)])
    code = StringField(_l("查询码"), validators=[DataRequired(_l("请填写查询码。")), Length(max=16)])
    reason = StringField(
        _l("删除依据"), validators=[DataRequired(_l("请填写删除依据，例如群众来电申请的时间。")), Length(max=200)]
    )


def retention_schedule(config: Any) -> Schedule:
    """存储期限 as the settings give it."""
    return Schedule(
        contact_years=config["RETENTION_CONTACT_YEARS"],
        media_years=config["RETENTION_MEDIA_YEARS"],
        access_log_days=config["ACCESS_LOG_DAYS"],
    )


def _revealed(ticket: Ticket) -> bool:
    until = session.get("revealed", {}).get(ticket.number)
    return until is not None and until > now().timestamp()


def page_contact(user: User, ticket: Ticket) -> dict[str, Any]:
    """The contact data for ``user``'s ticket page, logged when unmasked; commits the log entry."""
    contact = shown_contact(
        db_session(),
        user,
        ticket,
        now(),
        address=request.remote_addr,
        revealed=_revealed(ticket),
        dispatcher_sees=current_app.config["DISPATCHER_SEES_CONTACT"],
    )
    db_session().commit()
    return contact | {"reveal_form": RevealForm() if contact.get("may_reveal") else None}


@bp.post("/agency/tickets/<number>/reveal")
@roles_required(Role.AGENCY)
def reveal(number: str):
    user = current_staff()
    ticket = ticket_for(user, number)
    form = RevealForm()
    if not form.validate_on_submit():
        flash(gettext("请说明查看原因，例如回电核实。"), "error")
        return redirect(url_for("agency.ticket", number=number))
    try:
        reveal_contact(db_session(), user, ticket, form.reason.data, now(), address=request.remote_addr)
    except WorkflowError as exc:
        db_session().rollback()
        flash(error_text(exc), "error")
        return redirect(url_for("agency.ticket", number=number))
    db_session().commit()
    session["revealed"] = {number: now().timestamp() + REVEAL_SECONDS}
    return redirect(url_for("agency.ticket", number=number))


def _query(form: AccessSearchForm) -> AccessQuery:
    return AccessQuery(
        username=(form.username.data or "").strip(),
        number=(form.number.data or "").strip(),
        action=form.action.data or "",
        since=form.since.data,
        until=form.until.data,
    )


@bp.get("/admin/access-log")
@roles_required(Role.ADMIN)
def access_log():
    form = AccessSearchForm(request.args)
    form.validate()
    entries = search_access_log(db_session(), _query(form))
    return render_template("admin/access_log.html", form=form, entries=entries, labels=ACTION_LABELS)


@bp.get("/admin/access-log.csv")
@roles_required(Role.ADMIN)
def access_log_csv():
    form = AccessSearchForm(request.args)
    form.validate()
    query = _query(form)
    entries = search_access_log(db_session(), query, limit=None)
    rows = [
        [
            gettext("时间"),
            gettext("用户"),
            gettext("角色"),
            gettext("地址"),
            gettext("操作"),
            gettext("工单编号"),
            gettext("行数"),
            gettext("详情"),
        ]
    ]
    rows += [
        [
            f"{e.at:%Y-%m-%d %H:%M:%S}",
            e.user.username if e.user else "",
            e.role,
            e.address or "",
            gettext(ACTION_LABELS[e.action]),
            e.ticket.number if e.ticket else "",
            e.rows or "",
            e.detail or "",
        ]
        for e in entries
    ]
    # Exporting the log is itself a look at who looked: logged too.
    record_access(
        db_session(),
        current_staff(),
        EXPORT,
        at=now(),
        address=request.remote_addr,
        rows=len(entries),
        report="access_log",
        filter={k: str(v) for k, v in vars(query).items() if v},
    )
    db_session().commit()
    return attachment(to_csv(rows), CSV, "access-log.csv")


@bp.route("/admin/privacy/erase", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def erase():
    """应群众要求删除个人信息: the number and code the resident gave, and why."""
    form = EraseForm()
    if form.validate_on_submit():
        try:
            ticket = erase_personal_data(
                db_session(), form.number.data, form.code.data, current_staff(), form.reason.data, now(),
                address=request.remote_addr,
            )
        except WorkflowError as exc:
            db_session().rollback()
            flash(error_text(exc), "error")
        else:
            db_session().commit()
            flash(gettext("工单 %(number)s 的个人信息已删除，统计数据保留。", number=ticket.number), "success")
            return redirect(url_for("privacy.erase"))
    schedule = retention_schedule(current_app.config)
    return render_template("admin/erase.html", form=form, schedule=schedule)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
