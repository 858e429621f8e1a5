"""The dispatcher's desk (分拨): the triage queue and corrections."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from collector.context import db_session, services
from collector.notify import pending_notices
from collector.transcription import of_ticket as transcriptions_of
from routing.clock import now
from routing.flow import redo, workflow
from routing.flow.deadlines import load_calendar
from routing.flow.escalation import count_open, open_escalations
from routing.flow.lookup import find_by_number
from routing.reports.disputes import count_disputes
from routing.reports.queues import merged_into, next_in_triage, recent_tickets, triage_queue, urgent_unaccepted
from routing.reports.stats import CHANNEL_LABELS
from routing.store.jobs import FAILED, QUEUED
from routing.store.people import Agency, Role
from routing.texts import N_

from .auth import current_staff, roles_required
from .disputes import desk_forms
from .knowledge import desk_box
from .matters import HOT_LIMIT, hot_issues, possible_duplicates
from .privacy import page_contact
from .views import carry_out, flash_errors, ticket_for

bp = Blueprint("desk", __name__, url_prefix="/desk")

DISPATCH = (Role.DISPATCHER, Role.ADMIN)


class CorrectionForm(FlaskForm):
    topic = SelectField(_l("问题分类"), validators=[Optional()])
    agency = SelectField(_l("承办单位"), validators=[Optional()])
    reason = TextAreaField(_l("说明（选填）"), validators=[Optional(), Length(max=1000)])


class ReasonForm(FlaskForm):
    """A step that needs only a reason: invalid, reopen, refuse an extension, close."""

    reason = TextAreaField(_l("理由"), validators=[Optional(), Length(max=1000)])


class MergeForm(FlaskForm):
    into = StringField(_l("合并到工单号"), validators=[DataRequired(_l("请填写要合并到的工单号。")), Length(max=20)])
    reason = TextAreaField(_l("说明（选填）"), validators=[Optional(), Length(max=1000)])


def topic_choices() -> list[tuple[str, str]]:
    """The topics the active model knows, both levels."""
    model = services().classifier.current().model
    labels = model.labels if model is not None else []
    tops = sorted({label.split("/", 1)[0] for label in labels})
    choices = [("", gettext("（不改）"))]
    for top in tops:
        choices.append((top, top))
        choices += [(label, f"{top} / {label.split('/', 1)[1]}") for label in labels if label.startswith(top + "/")]
    return choices


def topic_groups(choices: list[tuple[str, str]]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The topic choices as the picker shows them: each top level with its subtopics."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for value, _ in choices:
        if value:
            top, _, sub = value.partition("/")
            groups.setdefault(top, []).extend([(value, sub)] if sub else [])
    return list(groups.items())


def correction_form() -> CorrectionForm:
    form = CorrectionForm()
    form.topic.choices = topic_choices()
    agencies = db_session().scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.id))
    form.agency.choices = [("", gettext("（按分类自动派单）"))] + [(str(a.id), a.name) for a in agencies]
    return form


@bp.get("/")
@roles_required(*DISPATCH)
def triage():
    session = db_session()
    calendar = load_calendar(session)
    today = now()
    unknown_years = [y for y in (today.year, today.year + 1) if not calendar.is_known_year(y)]
    return render_template(
        "desk/triage.html",
        triage=triage_queue(session, now()),
        urgent=urgent_unaccepted(session),
        hot=hot_issues(session, today, limit=HOT_LIMIT),
        recent=recent_tickets(session),
        unknown_years=unknown_years,
        open_escalations=count_open(session),
        open_disputes=count_disputes(session),
        redo_decisions=redo.awaiting_decision(session),
        now=today,
    )


@bp.get("/escalations")
@roles_required(*DISPATCH)
def escalations():
    """催办与通报: every open reminder and notice, the most overdue first."""
    return render_template(
        "desk/escalations.html",
        records=open_escalations(db_session()),
        escalation_days=current_app.config["ESCALATION_DAYS"],
        now=now(),
    )


@bp.get("/notices")
@roles_required(*DISPATCH)
def notices():
    """待发通知: notices to residents and deputies not yet delivered, and why;
    those WeChat refused for good, which a person must pass on another way."""
    session = db_session()
    return render_template(
        "desk/notices.html",
        waiting=pending_notices(session, QUEUED),
        failed=pending_notices(session, FAILED),
        channels=CHANNEL_LABELS,
        retry_minutes=int(current_app.config["NOTICE_RETRY"].total_seconds() // 60),
    )


@bp.get("/tickets/<number>")
@roles_required(*DISPATCH)
def ticket(number: str):
    ticket = ticket_for(current_staff(), number)
    correction = correction_form()
    return render_template(
        "ticket/detail.html",
        ticket=ticket,
        now=now(),
        contact=page_contact(current_staff(), ticket),
        correction_form=correction,
        topic_groups=topic_groups(correction.topic.choices),
        reason_form=ReasonForm(),
        merge_form=MergeForm(),
        duplicates=possible_duplicates(db_session(), ticket, now()),
        merged=merged_into(db_session(), ticket),
        transcriptions=transcriptions_of(db_session(), ticket.id),
        back=url_for("desk.triage"),
        **desk_forms(ticket),
        **desk_box(ticket),
    )


@bp.get("/next")
@roles_required(*DISPATCH)
def next_ticket():
    """下一件: straight on to the next ticket waiting in triage."""
    session = db_session()
    after = find_by_number(session, request.args.get("after", "")) if request.args.get("after") else None
    ticket = next_in_triage(session, now(), after)
    if ticket is None:
        flash(gettext("待分拣的工单都已处理。"))
        return redirect(url_for("desk.triage"))
    return redirect(url_for("desk.ticket", number=ticket.number))


def _onwards(number: str, done: bool):
    """Where a step sends the dispatcher: on to the next ticket in triage
    when the step was done and they asked for it (``then=next``), else back
    to the ticket, where a refused step's reason shows."""
    if done and request.form.get("then") == "next":
        return redirect(url_for("desk.next_ticket", after=number))
    return redirect(url_for("desk.ticket", number=number))


# One-reason steps: (workflow function, keyword arguments, message when done).
REASON_STEPS = {
    "invalidate": (workflow.invalidate, {}, N_("已标记为无效。")),
    "reopen": (workflow.reopen, {}, N_("已退回原承办单位重新办理。")),
    "close": (workflow.close, {}, N_("已办结。")),
    "approve_extension": (workflow.decide_extension, {"approve": True}, N_("已批准延期，群众会收到通知。")),
    "refuse_extension": (workflow.decide_extension, {"approve": False}, N_("已不予延期。")),
    "close_exhausted": (redo.close_exhausted, {}, N_("已按已尽力办结。")),
    "continue_redo": (redo.continue_redo, {}, N_("已决定由承办单位继续重办。")),
}


@bp.post(
    "/tickets/<number>/<any(invalidate, reopen, close, approve_extension, refuse_extension, close_exhausted, "
    "continue_redo):step>"
)
@roles_required(*DISPATCH)
def reason_step(number: str, step: str):
    user = current_staff()
    ticket = ticket_for(user, number)
    form = ReasonForm()
    ok = form.validate_on_submit()
    if ok:
        function, kwargs, done = REASON_STEPS[step]
        ok = carry_out(function, ticket, user, reason=form.reason.data or None, done=done, **kwargs)
    else:
        flash_errors(form)
    return _onwards(number, ok)


@bp.post("/tickets/<number>/merge")
@roles_required(*DISPATCH)
def merge(number: str):
    user = current_staff()
    ticket = ticket_for(user, number)
    form = MergeForm()
    ok = False
    if form.validate_on_submit():
        into = find_by_number(db_session(), form.into.data.strip())
        if into is None:
            flash(gettext("没有找到工单 %(number)s，请核对工单号。", number=form.into.data.strip()), "error")
        else:
            ok = carry_out(workflow.merge, ticket, into, user, reason=form.reason.data or None,
                      done=gettext("已合并到工单 %(number)s，将随该工单答复。", number=into.number))
    else:
        flash_errors(form)
    return _onwards(number, ok)


@bp.post("/tickets/<number>/correct")
@roles_required(*DISPATCH)
def correct(number: str):
    user = current_staff()
    ticket = ticket_for(user, number)
    form = correction_form()
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(url_for("desk.ticket", number=number))
    topic, _, subtopic = (form.topic.data or "").partition("/")
    agency = db_session().get(Agency, int(form.agency.data)) if form.agency.data else None
    done = carry_out(
        workflow.correct,
        ticket,
        user,
        topic=topic or None,
        subtopic=subtopic or None,
        agency=agency,
        reason=form.reason.data or None,
        done=N_("已更正。"),
    )
    return _onwards(number, done)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
