"""Answer setup on the pages (答复设置): the desk's review rules (审核规则)
and the agency's answer templates (答复模板), which its answer form offers.
The domain is ``routing.flow.answer_setup``."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from collector.context import db_session
from routing.flow import answer_setup
from routing.flow.answers import CITATION_LENGTH
from routing.store.answering import AnswerTemplate, ReviewRule
from routing.store.audit import changes
from routing.store.people import Agency, Role
from routing.store.tickets import KIND_LABELS, Kind
from routing.texts import N_

from .auth import current_staff, roles_required
from .views import carry_out, flash_errors

bp = Blueprint("answer_setup", __name__)

DISPATCH = (Role.DISPATCHER, Role.ADMIN)


class ReviewRuleForm(FlaskForm):
    kind = SelectField(_l("诉求类型"), validators=[Optional()])
    agency = SelectField(_l("承办单位"), validators=[Optional()])
    review = BooleanField(_l("答复须经分拨中心审核"), default=True)
    require_signer = BooleanField(_l("答复须注明签发人"))


class TemplateForm(FlaskForm):
    title = StringField(_l("模板名称"), validators=[DataRequired(_l("请填写模板名称。")), Length(max=100)])
    text = TextAreaField(_l("答复内容"), validators=[DataRequired(_l("请填写答复内容。")), Length(max=5000)])
    citation = StringField(_l("答复依据（法规政策，选填）"), validators=[Optional(), Length(max=CITATION_LENGTH)])


def rule_form() -> ReviewRuleForm:
    form = ReviewRuleForm()
    form.kind.choices = [("", gettext("所有类型"))] + [(k.value, gettext(label)) for k, label in KIND_LABELS.items()]
    agencies = db_session().query(Agency).filter(Agency.active.is_(True)).order_by(Agency.id)
    form.agency.choices = [("", gettext("所有单位"))] + [(str(a.id), a.name) for a in agencies]
    return form


@bp.route("/desk/review-rules", methods=["GET", "POST"])
@roles_required(*DISPATCH)
def review_rules():
    """审核规则: which answers wait for review, and which must name their signer."""
    session = db_session()
    form = rule_form()
    if form.is_submitted():
        if not form.validate():
            flash_errors(form)
        else:
            agency = session.get(Agency, int(form.agency.data)) if form.agency.data else None
            kind = Kind(form.kind.data) if form.kind.data else None
            if carry_out(answer_setup.add_review_rule, current_staff(), kind=kind, agency=agency,
                         review=form.review.data, require_signer=form.require_signer.data,
                         done=N_("已新增审核规则。")):
                return redirect(url_for("answer_setup.review_rules"))
    return render_template(
        "desk/review_rules.html", rules=answer_setup.review_rules(session), form=form,
        changes=changes(session, "review_rule"),
    )


@bp.post("/desk/review-rules/<int:rule_id>/deactivate")
@roles_required(*DISPATCH)
def deactivate_rule(rule_id: int):
    rule = db_session().get(ReviewRule, rule_id) or abort(404)
    carry_out(answer_setup.deactivate_review_rule, rule, current_staff(), done=N_("已停用审核规则。"))
    return redirect(url_for("answer_setup.review_rules"))


@bp.route("/agency/templates/", methods=["GET", "POST"])
@roles_required(Role.AGENCY)
def templates():
    """答复模板: the agency's reusable answers."""
    user = current_staff()
    form = TemplateForm()
    if form.is_submitted():
        if not form.validate():
            flash_errors(form)
        elif carry_out(answer_setup.save_template, user, title=form.title.data, text=form.text.data,
                       citation=form.citation.data, done=N_("已保存答复模板。")):
            return redirect(url_for("answer_setup.templates"))
    return render_template(
        "agency/templates.html", form=form, toggle=FlaskForm(),
        templates=answer_setup.templates_of(db_session(), user.agency_id, active_only=False),
    )


@bp.post("/agency/templates/<int:template_id>/<any(activate, deactivate):change>")
@roles_required(Role.AGENCY)
def toggle_template(template_id: int, change: str):
    template = db_session().get(AnswerTemplate, template_id) or abort(404)
    if FlaskForm().validate_on_submit():
        carry_out(answer_setup.set_template_active, current_staff(), template, active=change == "activate",
                  done=N_("已启用答复模板。") if change == "activate" else N_("已停用答复模板。"))
    return redirect(url_for("answer_setup.templates"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
