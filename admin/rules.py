"""The dispatcher's rule pages (派单规则): list, create, edit, try a sample
text against the unsaved edit, deactivate. Rules are never deleted."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from classifier import Prediction
from classifier.similar import key_words
from collector.context import db_session, services
from collector.intake import labels_from
from collector.translate import error_text
from routing.clock import now
from routing.dispatch.rules import (
    RuleError,
    RuleFields,
    RuleOutcome,
    choose_rule,
    draft_rule,
    list_rules,
    matched_keywords,
    matching_rules,
    save_rule,
    set_active,
)
from routing.flow.disputes import upheld_ruling
from routing.flow.lookup import find_by_number
from routing.flow.tickets import case_for
from routing.store.areas import District, Street
from routing.store.audit import changes
from routing.store.configuration import RoutingRule
from routing.store.people import Agency
from routing.texts import N_

from .agency import EmptyForm
from .auth import current_staff, roles_required
from .desk import DISPATCH, topic_choices
from .params import whole_number
from .views import flash_errors

bp = Blueprint("rules", __name__, url_prefix="/desk/rules")

# How many rerouted tickets a message names; the count is always complete.
NAMED = 10

FIELD_LABELS = {
    "topic": N_("一级分类"), "subtopic": N_("二级分类"), "district": N_("区县"), "street": N_("街道"),
    "keywords": N_("关键词"), "agency": N_("主办单位"), "assisting": N_("协办单位"), "priority": N_("优先级"),
    "active": N_("启用"), "note": N_("备注"),
}


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes instead of a multiple select: easier with a thumb."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RuleForm(FlaskForm):
    topic = SelectField(_l("问题分类"), validators=[Optional()])
    district = SelectField(_l("区县"), validators=[Optional()])
    street = SelectField(_l("街道 / 乡镇"), validators=[Optional()])
    keywords = StringField(_l("关键词（任一出现即适用，用顿号或空格分隔）"), validators=[Optional(), Length(max=500)])
    agency = SelectField(_l("主办单位"), validators=[DataRequired(_l("请选择主办单位。"))])
    assisting = MultiCheckboxField(_l("协办单位"), validators=[Optional()])
    priority = IntegerField(_l("优先级（数字大的优先）"), default=0,
                            validators=[NumberRange(-100, 100, _l("优先级请填 -100 到 100 之间的整数。"))])
    note = TextAreaField(_l("备注（依据、职责分工）"), validators=[Optional(), Length(max=500)])
    active = BooleanField(_l("启用"), default=True)
    sample = TextAreaField(_l("试用文本"), validators=[Optional(), Length(max=5000)])


def _agencies(session: Session) -> list[Agency]:
    return list(session.scalars(select(Agency).order_by(Agency.district_id.is_not(None), Agency.id)))


def rule_form(session: Session, rule: RoutingRule | None, initial: dict | None = None) -> RuleForm:
    if request.method == "GET" and (rule is not None or initial):
        form = RuleForm(data=_form_data(rule) if rule is not None else initial)
    else:
        form = RuleForm()
    topics = [("", gettext("任意分类"))] + topic_choices()[1:]
    current = _topic_value(rule) if rule is not None else (initial or {}).get("topic", "")
    # A topic the active model no longer knows stays choosable for its rule (or ticket).
    if current and current not in dict(topics):
        topics.append((current, current.replace("/", " / ")))
    form.topic.choices = topics
    districts = list(session.scalars(select(District).order_by(District.id)))
    form.district.choices = [("", gettext("任意区县"))] + [(str(d.id), d.name) for d in districts]
    # Each street says its district, so the page can offer only the chosen district's streets.
    form.street.choices = [("", gettext("任意街道"), {})] + [
        (str(s.id), f"{d.name} · {s.name}", {"data-district": str(d.id)}) for d in districts for s in d.streets
    ]
    agencies = _agencies(session)
    form.agency.choices = [("", gettext("请选择"))] + [(str(a.id), a.name + ("" if a.active else gettext("（已停用）"))) for a in agencies]
    form.assisting.choices = [(str(a.id), a.name) for a in agencies if a.active]
    return form


def _topic_value(rule: RoutingRule) -> str:
    return f"{rule.topic}/{rule.subtopic}" if rule.subtopic else (rule.topic or "")


def _form_data(rule: RoutingRule) -> dict:
    return {
        "topic": _topic_value(rule),
        "district": str(rule.district_id or ""),
        "street": str(rule.street_id or ""),
        "keywords": rule.keywords,
        "agency": str(rule.agency_id),
        "assisting": [str(a.id) for a in rule.assisting],
        "priority": rule.priority,
        "note": rule.note,
        "active": rule.active,
    }


def fields_of(session: Session, form: RuleForm) -> RuleFields:
    topic, _, subtopic = (form.topic.data or "").partition("/")
    ids = [int(i) for i in form.assisting.data or []]
    return RuleFields(
        agency=session.get(Agency, int(form.agency.data)),
        topic=topic or None,
        subtopic=subtopic or None,
        district=session.get(District, int(form.district.data)) if form.district.data else None,
        street=session.get(Street, int(form.street.data)) if form.street.data else None,
        keywords=form.keywords.data or "",
        assisting=list(session.scalars(select(Agency).where(Agency.id.in_(ids)).order_by(Agency.id))) if ids else [],
        priority=form.priority.data or 0,
        note=form.note.data or "",
        active=bool(form.active.data),
    )


@dataclass
class Trial:
    """What a sample text would do: the classifier's reading, the rule that
    wins with the edit and without it."""

    prediction: Prediction
    needs_triage: str | None
    district: District | None
    street: Street | None
    winner: RoutingRule | None
    keywords: list[str]
    runners_up: list[RoutingRule]
    stored_winner: RoutingRule | None
    is_draft: bool


def try_text(session: Session, text: str, draft: RoutingRule) -> Trial:
    """Run a sample text through the classifier and the rules with the draft
    in place of its stored version. Writes nothing."""
    app_services = services()
    prediction = app_services.classifier.current().predict(text)
    labels = labels_from(prediction, app_services.threshold)
    case = case_for(session, labels, text)
    ranked = matching_rules(session, case, draft=draft) if case.topic is not None else []
    winner = ranked[0] if ranked else None
    return Trial(
        prediction=prediction,
        needs_triage=labels.triage_reason if labels.needs_triage else None,
        district=session.get(District, case.district_id) if case.district_id else None,
        street=session.get(Street, case.street_id) if case.street_id else None,
        winner=winner,
        keywords=matched_keywords(winner, text) if winner is not None else [],
        runners_up=ranked[1:4],
        stored_winner=choose_rule(session, case),
        is_draft=winner is draft,
    )


def effect(outcome: RuleOutcome) -> str:
    """What the change means for open tickets: said, so that it is never silent."""
    moved = outcome.rerouted
    if not moved:
        return gettext("现有未办结工单的派单结果不受影响。")
    names = "、".join(t.number for t in moved[:NAMED]) + (gettext("等") if len(moved) > NAMED else "")
    return gettext(
        "按新规则，有 %(n)s 张未办结工单会派给不同单位（%(names)s）；已派出的工单不会自动改派，如需改派请在工单页更正。",
        n=len(moved), names=names,
    )


@bp.get("/")
@roles_required(*DISPATCH)
def index():
    session = db_session()
    topic = request.args.get("topic") or None
    agency_id = request.args.get("agency", type=whole_number)
    return render_template(
        "desk/rules.html",
        rules=list_rules(session, topic=topic, agency_id=agency_id),
        topics=sorted({r.topic for r in session.scalars(select(RoutingRule)) if r.topic}),
        agencies=_agencies(session),
        topic=topic,
        agency_id=agency_id,
        toggle_form=EmptyForm(),
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*DISPATCH)
def new():
    """A new rule; with ``?ticket=`` the number of a ticket whose dispute was
    upheld, the form starts from that ticket and the agency ruled responsible."""
    number = request.args.get("ticket")
    return _edit(None, _from_ruling(db_session(), number) if number else None)


def _from_ruling(session: Session, number: str) -> dict | None:
    ticket = find_by_number(session, number)
    ruling = upheld_ruling(ticket) if ticket is not None else None
    if ruling is None:
        flash(gettext("工单 %(number)s 没有成立的派单争议裁定，请直接填写规则。", number=number), "error")
        return None
    # Above the rule that sent it to the wrong agency, so that one no longer wins.
    routed_by = next((e.detail["rule"] for e in ticket.events if (e.detail or {}).get("rule")), None)
    before = session.get(RoutingRule, routed_by) if routed_by else None
    return {
        "topic": f"{ticket.topic}/{ticket.subtopic}" if ticket.subtopic else (ticket.topic or ""),
        "district": str(ticket.district_id or ""),
        "street": str(ticket.street_id or ""),
        "keywords": "、".join(key_words(ticket.text)),
        "agency": str(ticket.agency_id),
        "priority": before.priority + 1 if before is not None else 0,
        "note": gettext("据工单 %(number)s 派单争议裁定：%(reason)s", number=ticket.number,
                        reason=ruling.reason or ruling.detail.get("to", "")),
        "active": True,
    }


@bp.route("/<int:rule_id>", methods=["GET", "POST"])
@roles_required(*DISPATCH)
def edit(rule_id: int):
    rule = db_session().get(RoutingRule, rule_id)
    if rule is None:
        abort(404, description=gettext("没有这条规则。"))
    return _edit(rule)


def _edit(rule: RoutingRule | None, initial: dict | None = None):
    session = db_session()
    form = rule_form(session, rule, initial)
    trial = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                if request.form.get("action") == "test":
                    trial = _try(session, rule, form)
                else:
                    outcome = save_rule(session, rule, fields_of(session, form), current_staff(), now())
                    session.commit()
                    flash(gettext("规则已保存。") + effect(outcome))
                    return redirect(url_for("rules.edit", rule_id=outcome.rule.id))
            except RuleError as exc:
                session.rollback()
                flash(error_text(exc), "error")
                status = 400
        else:
            flash_errors(form)
            status = 400
    return render_template(
        "desk/rule_edit.html",
        form=form,
        rule=rule,
        trial=trial,
        history=changes(session, "rule", rule.id) if rule is not None else [],
        field_labels=FIELD_LABELS,
        toggle_form=EmptyForm(),
    ), status


def _try(session: Session, rule: RoutingRule | None, form: RuleForm) -> Trial | None:
    text = (form.sample.data or "").strip()
    if not text:
        flash(gettext("请填写试用文本。"), "error")
        return None
    draft = draft_rule(session, rule.id if rule is not None else None, fields_of(session, form))
    try:
        return try_text(session, text, draft)
    finally:
        # Trying writes nothing, whatever was loaded or touched on the way.
        session.rollback()


@bp.post("/<int:rule_id>/<any(activate, deactivate):change>")
@roles_required(*DISPATCH)
def toggle(rule_id: int, change: str):
    session = db_session()
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        abort(404, description=gettext("没有这条规则。"))
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        outcome = set_active(session, rule, change == "activate", current_staff(), now())
        session.commit()
        flash((gettext("已启用。") if rule.active else gettext("已停用（规则保留，工单记录仍可查到它）。")) + effect(outcome))
    except RuleError as exc:
        session.rollback()
        flash(error_text(exc), "error")
    if request.form.get("back") == "list":
        return redirect(url_for("rules.index"))
    return redirect(url_for("rules.edit", rule_id=rule_id))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
