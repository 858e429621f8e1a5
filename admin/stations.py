"""The administrator's console of liaison stations (联络站, ``/admin/stations``)
and deputies (人大代表, ``/admin/deputies``): list, create, edit, deactivate
and activate. Administrators only; the work is done by
``routing.store.stations``, whose changes the log keeps and each page shows.
Neither is ever deleted: tickets and submissions name them."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from collector.context import db_session
from collector.translate import error_text
from routing.clock import now
from routing.store import stations
from routing.store.areas import District, Station
from routing.store.audit import changes
from routing.store.deputies import Deputy, DeputyLevel
from routing.store.people import Role
from routing.store.stations import DeputyFields, StationError, StationFields
from routing.texts import N_

from .agency import EmptyForm
from .auth import current_staff, roles_required
from .views import flash_errors

station_bp = Blueprint("stations", __name__, url_prefix="/admin/stations")
deputy_bp = Blueprint("deputies", __name__, url_prefix="/admin/deputies")

STATION_LABELS = {
    "name": N_("联络站名称"), "district": N_("区县"), "street": N_("街道"), "address": N_("地址"),
    "deputies": N_("代表"), "active": N_("启用"),
}
DEPUTY_LABELS = {
    "name": N_("姓名"), "level": N_("代表层级"), "mobile": N_("手机号"), "stations": N_("联络站"), "active": N_("启用"),
}
LEVELS = {DeputyLevel.PROVINCE: N_("省人大代表"), DeputyLevel.CITY: N_("市人大代表"), DeputyLevel.DISTRICT: N_("区人大代表")}


def _id(value: str | None) -> int | None:
    return int(value) if (value or "").isdigit() else None


class StationForm(FlaskForm):
    name = StringField(_l("联络站名称"), validators=[DataRequired(_l("请填写联络站名称（64 字以内）。")), Length(max=64)])
    district = SelectField(_l("区县"), validators=[DataRequired(_l("请选择联络站所在的区县。"))])
    street = SelectField(_l("街道（须在所选区县内，可不选）"), validators=[Optional()])
    address = StringField(_l("地址（可不填）"), validators=[Optional(), Length(max=200)])

    def fields(self) -> StationFields:
        return StationFields(name=self.name.data or "", district_id=_id(self.district.data),
                             street_id=_id(self.street.data), address=self.address.data or "")


def station_form(station: Station | None = None) -> StationForm:
    data = None
    if station is not None:
        data = {"name": station.name, "district": str(station.district_id), "street": str(station.street_id or ""),
                "address": station.address or ""}
    form = StationForm(data=data) if station is not None else StationForm()
    districts = list(db_session().scalars(select(District).order_by(District.id)))
    form.district.choices = [("", gettext("请选择"))] + [(str(d.id), d.name) for d in districts]
    # Grouped by district, so the street list reads as the chosen district's streets.
    form.street.choices = {"": [("", gettext("无"))]} | {
        d.name: [(str(s.id), s.name) for s in d.streets] for d in districts if d.streets
    }
    return form


class DeputyForm(FlaskForm):
    username = StringField(_l("用户名（登录用，英文字母、数字或 . _ -）"), validators=[Optional(), Length(max=64)])
    name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写代表姓名（64 字以内）。")), Length(max=64)])
    level = SelectField(_l("代表层级"))
    mobile = StringField(_l("手机号（可不填）"), validators=[Optional(), Length(max=20)])
    stations = SelectMultipleField(_l("联络站"), widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                   validators=[Optional()])

    def fields(self) -> DeputyFields:
        return DeputyFields(name=self.name.data or "", level=DeputyLevel(self.level.data), mobile=self.mobile.data,
                            station_ids=[int(i) for i in self.stations.data or [] if i.isdigit()],
                            username=self.username.data or "")


def deputy_form(deputy: Deputy | None = None) -> DeputyForm:
    data = None
    if deputy is not None:
        data = {"name": deputy.name, "level": deputy.level.value, "mobile": deputy.user.mobile or "",
                "stations": [str(s.id) for s in deputy.stations]}
    form = DeputyForm(data=data) if deputy is not None else DeputyForm()
    form.level.choices = [(level.value, gettext(label)) for level, label in LEVELS.items()]
    form.stations.choices = [(str(s.id), s.name) for s in stations.stations(db_session())
                             if s.active or (deputy is not None and s in deputy.stations)]
    return form


def _get(model, row_id: int, missing: str):
    row = db_session().get(model, row_id)
    if row is None:
        abort(404, description=gettext(missing))
    return row


def _carry_out(step, done: str) -> bool:
    """One change, committed, or nothing and the reason."""
    session = db_session()
    try:
        step(session, current_staff(), now())
        session.commit()
    except StationError as exc:
        session.rollback()
        flash(error_text(exc), "error")
        return False
    flash(gettext(done))
    return True


def _checked_step() -> None:
    if not EmptyForm().validate_on_submit():
        abort(400)


# -- stations ------------------------------------------------------------------------


def _station_list(form: StationForm, status: int = 200):
    session = db_session()
    page = render_template("admin/stations.html", stations=stations.stations(session), form=form,
                           history=changes(session, stations.STATION_SUBJECT, limit=20), field_labels=STATION_LABELS)
    return page, status


@station_bp.get("/")
@roles_required(Role.ADMIN)
def index():
    return _station_list(station_form())


@station_bp.post("/")
@roles_required(Role.ADMIN)
def create():
    form = station_form()
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(url_for("stations.index"))
    session = db_session()
    try:
        station = stations.create_station(session, form.fields(), current_staff(), now())
        session.commit()
    except StationError as exc:
        session.rollback()
        flash(error_text(exc), "error")
        return _station_list(form, 400)
    flash(gettext("已建立联络站。"))
    return redirect(url_for("stations.detail", station_id=station.id))


@station_bp.get("/<int:station_id>")
@roles_required(Role.ADMIN)
def detail(station_id: int):
    station = _get(Station, station_id, N_("没有这个联络站。"))
    session = db_session()
    return render_template(
        "admin/station_edit.html", station=station, form=station_form(station), step_form=EmptyForm(),
        deputies=stations.station_deputies(session, station), levels=LEVELS,
        history=changes(session, stations.STATION_SUBJECT, station.id), field_labels=STATION_LABELS,
    )


@station_bp.post("/<int:station_id>")
@roles_required(Role.ADMIN)
def edit(station_id: int):
    station = _get(Station, station_id, N_("没有这个联络站。"))
    form = station_form(station)
    if form.validate_on_submit():
        _carry_out(lambda s, actor, at: stations.edit_station(s, station, form.fields(), actor, at), N_("已保存。"))
    else:
        flash_errors(form)
    return redirect(url_for("stations.detail", station_id=station.id))


@station_bp.post("/<int:station_id>/<any(activate, deactivate):action>")
@roles_required(Role.ADMIN)
def set_active(station_id: int, action: str):
    station = _get(Station, station_id, N_("没有这个联络站。"))
    _checked_step()
    active = action == "activate"
    done = N_("已启用该联络站。") if active else N_("已停用：该联络站不再供选择，原有记录保留。")
    _carry_out(lambda s, actor, at: stations.set_station_active(s, station, active, actor, at), done)
    return redirect(url_for("stations.detail", station_id=station.id))


# -- deputies ------------------------------------------------------------------------


def _deputy_list(form: DeputyForm, status: int = 200):
    session = db_session()
    page = render_template("admin/deputies.html", deputies=stations.deputies(session), form=form, levels=LEVELS,
                           history=changes(session, stations.DEPUTY_SUBJECT, limit=20), field_labels=DEPUTY_LABELS)
    return page, status


@deputy_bp.get("/")
@roles_required(Role.ADMIN)
def deputy_index():
    return _deputy_list(deputy_form())


@deputy_bp.post("/")
@roles_required(Role.ADMIN)
def deputy_create():
    form = deputy_form()
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(url_for("deputies.deputy_index"))
    session = db_session()
    try:
        deputy, password = stations.create_deputy(session, form.fields(), current_staff(), now())
        session.commit()
    except StationError as exc:
        session.rollback()
        flash(error_text(exc), "error")
        return _deputy_list(form, 400)
    # The temporary password on this answer alone: never in a flash, a log or a redirect.
    response = make_response(render_template(
        "admin/password_once.html", account=deputy.user, password=password, what=gettext("已建立代表账号。"),
        back_url=url_for("deputies.deputy_detail", deputy_id=deputy.id), back_label=gettext("查看代表"),
    ))
    response.headers["Cache-Control"] = "no-store"
    return response


@deputy_bp.get("/<int:deputy_id>")
@roles_required(Role.ADMIN)
def deputy_detail(deputy_id: int):
    deputy = _get(Deputy, deputy_id, N_("没有这位代表。"))
    return render_template(
        "admin/deputy_edit.html", deputy=deputy, form=deputy_form(deputy), step_form=EmptyForm(), levels=LEVELS,
        history=changes(db_session(), stations.DEPUTY_SUBJECT, deputy.id), field_labels=DEPUTY_LABELS,
    )


@deputy_bp.post("/<int:deputy_id>")
@roles_required(Role.ADMIN)
def deputy_edit(deputy_id: int):
    deputy = _get(Deputy, deputy_id, N_("没有这位代表。"))
    form = deputy_form(deputy)
    if form.validate_on_submit():
        _carry_out(lambda s, actor, at: stations.edit_deputy(s, deputy, form.fields(), actor, at), N_("已保存。"))
    else:
        flash_errors(form)
    return redirect(url_for("deputies.deputy_detail", deputy_id=deputy.id))


@deputy_bp.post("/<int:deputy_id>/<any(activate, deactivate):action>")
@roles_required(Role.ADMIN)
def deputy_set_active(deputy_id: int, action: str):
    deputy = _get(Deputy, deputy_id, N_("没有这位代表。"))
    _checked_step()
    active = action == "activate"
    done = N_("已启用：该代表可以用原密码登录。") if active else N_("已停用：该代表不能再登录，原有记录保留。")
    _carry_out(lambda s, actor, at: stations.set_deputy_active(s, deputy, active, actor, at), done)
    return redirect(url_for("deputies.deputy_detail", deputy_id=deputy.id))


def init_app(app: Flask) -> None:
    app.register_blueprint(station_bp)
    app.register_blueprint(deputy_bp)
