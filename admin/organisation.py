"""The administrator's console of the organisation (组织架构): agencies —
list, create, edit, deactivate and activate. Administrators only; the work is
done by ``routing.store.organisation``, whose changes the log keeps and each
agency's page shows. An agency is never deleted."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from collector.context import db_session
from collector.translate import error_text
from routing.clock import now
from routing.store import organisation
from routing.store.areas import District, Street
from routing.store.audit import changes
from routing.store.organisation import AgencyFields, OrganisationError
from routing.store.people import AGENCY_KINDS, Agency, Role
from routing.texts import N_

from .agency import EmptyForm
from .auth import current_staff, roles_required
from .views import flash_errors

bp = Blueprint("organisation", __name__, url_prefix="/admin/agencies")

FIELD_LABELS = {
    "name": N_("单位名称"), "short_name": N_("简称"), "kind": N_("类型"), "district": N_("区县"),
    "street": N_("街道"), "supervisor": N_("上级督办单位"), "active": N_("启用"),
}


def _id(value: str | None) -> int | None:
    return int(value) if (value or "").isdigit() else None


class AgencyForm(FlaskForm):
    name = StringField(_l("单位名称"), validators=[DataRequired(_l("请填写单位名称（64 字以内）。")), Length(max=64)])
    short_name = StringField(_l("简称（可不填）"), validators=[Optional(), Length(max=32)])
    kind = SelectField(_l("类型"), validators=[Optional()])
    district = SelectField(_l("管辖区县（市级部门不选）"), validators=[Optional()])
    street = SelectField(_l("管辖街道（街道办事处必选）"), validators=[Optional()])
    supervisor = SelectField(_l("上级督办单位（可不选）"), validators=[Optional()])

    def fields(self) -> AgencyFields:
        return AgencyFields(
            name=self.name.data or "", short_name=self.short_name.data, kind=self.kind.data or None,
            district_id=_id(self.district.data), street_id=_id(self.street.data), supervisor_id=_id(self.supervisor.data),
        )


def agency_form(agency: Agency | None = None) -> AgencyForm:
    data = None
    if agency is not None:
        data = {"name": agency.name, "short_name": agency.short_name or "", "kind": agency.kind or "",
                "district": str(agency.district_id or ""), "street": str(agency.street_id or ""),
                "supervisor": str(agency.supervisor_id or "")}
    form = AgencyForm(data=data) if agency is not None else AgencyForm()
    session = db_session()
    form.kind.choices = [("", gettext("未指定"))] + [(k, gettext(label)) for k, label in AGENCY_KINDS.items()]
    districts = session.scalars(select(District).order_by(District.id))
    form.district.choices = [("", gettext("全市"))] + [(str(d.id), d.name) for d in districts]
    streets = session.scalars(select(Street).order_by(Street.district_id, Street.name))
    form.street.choices = [("", gettext("无"))] + [(str(s.id), f"{s.district.name} {s.name}") for s in streets]
    others = [a for a in organisation.agencies(session) if agency is None or a.id != agency.id]
    form.supervisor.choices = [("", gettext("无"))] + [(str(a.id), a.name) for a in others]
    return form


def _agency(agency_id: int) -> Agency:
    agency = db_session().get(Agency, agency_id)
    if agency is None:
        abort(404, description=gettext("没有这个承办单位。"))
    return agency


def _list(form: AgencyForm, status: int = 200):
    session = db_session()
    page = render_template("admin/agencies.html", agencies=organisation.agencies(session), form=form,
                           kinds=AGENCY_KINDS, history=changes(session, organisation.SUBJECT, limit=20),
                           field_labels=FIELD_LABELS)
    return page, status


@bp.get("/")
@roles_required(Role.ADMIN)
def index():
    return _list(agency_form())


@bp.post("/")
@roles_required(Role.ADMIN)
def create():
    form = agency_form()
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(url_for("organisation.index"))
    session = db_session()
    try:
        agency = organisation.create_agency(session, form.fields(), current_staff(), now())
        session.commit()
    except OrganisationError as exc:
        session.rollback()
        flash(error_text(exc), "error")
        return _list(form, 400)
    flash(gettext("已建立承办单位。"))
    return redirect(url_for("organisation.detail", agency_id=agency.id))


@bp.get("/<int:agency_id>")
@roles_required(Role.ADMIN)
def detail(agency_id: int):
    agency = _agency(agency_id)
    return render_template(
        "admin/agency_edit.html", agency=agency, form=agency_form(agency), step_form=EmptyForm(), kinds=AGENCY_KINDS,
        history=changes(db_session(), organisation.SUBJECT, agency.id), field_labels=FIELD_LABELS,
    )


@bp.post("/<int:agency_id>")
@roles_required(Role.ADMIN)
def edit(agency_id: int):
    agency = _agency(agency_id)
    form = agency_form(agency)
    if form.validate_on_submit():
        _carry_out(lambda s, actor, at: organisation.edit_agency(s, agency, form.fields(), actor, at), N_("已保存。"))
    else:
        flash_errors(form)
    return redirect(url_for("organisation.detail", agency_id=agency.id))


@bp.post("/<int:agency_id>/deactivate")
@roles_required(Role.ADMIN)
def deactivate(agency_id: int):
    return _set_active(agency_id, False, N_("已停用：该单位不再接收新工单，原有工单和记录保留。"))


@bp.post("/<int:agency_id>/activate")
@roles_required(Role.ADMIN)
def activate(agency_id: int):
    return _set_active(agency_id, True, N_("已启用该单位。"))


def _set_active(agency_id: int, active: bool, done: str):
    agency = _agency(agency_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    _carry_out(lambda s, actor, at: organisation.set_active(s, agency, active, actor, at), done)
    return redirect(url_for("organisation.detail", agency_id=agency.id))


def _carry_out(step, done: str) -> bool:
    """One change to an agency, committed, or nothing and the reason."""
    session = db_session()
    try:
        step(session, current_staff(), now())
        session.commit()
    except OrganisationError as exc:
        session.rollback()
        flash(error_text(exc), "error")
        return False
    flash(gettext(done))
    return True


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
