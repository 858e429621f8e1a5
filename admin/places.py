"""The administrator's console of the gazetteer (地名库): districts and their
streets, with the other names residents use for them, and a district's
fallback agency. Administrators only; the work is done by
``routing.store.gazetteer``, whose changes the log keeps and the pages show.
A saved change reaches the place detector of every process. Places are never
deleted: tickets, stations and rules name them."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from collector.context import db_session
from collector.translate import error_text
from routing.clock import now
from routing.store import gazetteer, organisation
from routing.store.areas import District, Street
from routing.store.audit import changes
from routing.store.gazetteer import DISTRICT, STREET, GazetteerError
from routing.store.people import Role
from routing.texts import N_

from .auth import current_staff, roles_required
from .views import flash_errors

bp = Blueprint("places", __name__, url_prefix="/admin/places")

FIELD_LABELS = {
    "name": N_("名称"),
    "aliases": N_("别名"),
    "fallback_agency": N_("兜底单位"),
    "district": N_("区县"),
}
ALIASES_HINT = _l("别名（可不填，用顿号或空格隔开）")


class DistrictForm(FlaskForm):
    name = StringField(_l("区县名称"), validators=[DataRequired(_l("请填写区县名称。")), Length(max=32)])
    aliases = StringField(ALIASES_HINT, validators=[Optional(), Length(max=500)])
    fallback_agency = SelectField(_l("兜底单位（可不选）"), validators=[Optional()])


class StreetForm(FlaskForm):
    name = StringField(_l("街道名称"), validators=[DataRequired(_l("请填写街道名称。")), Length(max=32)])
    aliases = StringField(ALIASES_HINT, validators=[Optional(), Length(max=500)])


def district_form(district: District | None = None) -> DistrictForm:
    if district is not None:
        form = DistrictForm(
            data={
                "name": district.name,
                "aliases": "、".join(a.alias for a in district.aliases),
                "fallback_agency": str(district.fallback_agency_id or ""),
            }
        )
    else:
        form = DistrictForm()
    agencies = [
        a for a in organisation.agencies(db_session()) if a.active or (district and a.id == district.fallback_agency_id)
    ]
    form.fallback_agency.choices = [("", gettext("无"))] + [(str(a.id), a.name) for a in agencies]
    return form


def street_form(street: Street | None = None) -> StreetForm:
    if street is None:
        return StreetForm()
    return StreetForm(data={"name": street.name, "aliases": "、".join(a.alias for a in street.aliases)})


def _fallback(form: DistrictForm) -> int | None:
    value = form.fallback_agency.data or ""
    return int(value) if value.isdigit() else None


def _district(district_id: int) -> District:
    district = db_session().get(District, district_id)
    if district is None:
        abort(404, description=gettext("没有这个区县。"))
    return district


def _street(street_id: int) -> Street:
    street = db_session().get(Street, street_id)
    if street is None:
        abort(404, description=gettext("没有这个街道。"))
    return street


def _history(subject_ids: dict[str, int | None] | None = None, limit: int = 20):
    """Districts' and streets' changes together, newest first."""
    session = db_session()
    pairs = subject_ids.items() if subject_ids else ((DISTRICT, None), (STREET, None))
    entries = [c for subject, subject_id in pairs for c in changes(session, subject, subject_id, limit)]
    return sorted(entries, key=lambda c: c.id, reverse=True)[:limit]


def _list(form: DistrictForm, status: int = 200):
    session = db_session()
    by_district, by_street = gazetteer.ticket_counts(session)
    page = render_template(
        "admin/places.html",
        districts=gazetteer.districts(session),
        form=form,
        by_district=by_district,
        by_street=by_street,
        history=_history(),
        field_labels=FIELD_LABELS,
    )
    return page, status


def _district_page(district: District, form: DistrictForm, new_street: StreetForm, status: int = 200):
    _, by_street = gazetteer.ticket_counts(db_session())
    history = _history({DISTRICT: district.id}) + [c for s in district.streets for c in _history({STREET: s.id})]
    page = render_template(
        "admin/place_district.html",
        district=district,
        form=form,
        street_form=new_street,
        by_street=by_street,
        history=sorted(history, key=lambda c: c.id, reverse=True)[:20],
        field_labels=FIELD_LABELS,
    )
    return page, status


def _carry_out(step: Callable, done: str) -> bool:
    """One change to the gazetteer, committed and known to this process at once; or nothing and the reason."""
    session = db_session()
    try:
        step(session)
        session.commit()
    except GazetteerError as exc:
        session.rollback()
        flash(error_text(exc), "error")
        return False
    current_app.extensions["tingjian.places"].invalidate()
    flash(gettext(done))
    return True


@bp.get("/")
@roles_required(Role.ADMIN)
def index():
    return _list(district_form())


@bp.post("/")
@roles_required(Role.ADMIN)
def create():
    form = district_form()
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(url_for("places.index"))
    made: list[District] = []

    def step(session):
        made.append(
            gazetteer.save_district(
                session,
                form.name.data,
                gazetteer.split_aliases(form.aliases.data),
                _fallback(form),
                actor=current_staff(),
                now=now(),
            )
        )

    if not _carry_out(step, N_("已建立区县。")):
        return _list(form, 400)
    return redirect(url_for("places.district", district_id=made[0].id))


@bp.get("/<int:district_id>")
@roles_required(Role.ADMIN)
def district(district_id: int):
    found = _district(district_id)
    return _district_page(found, district_form(found), street_form())


@bp.post("/<int:district_id>")
@roles_required(Role.ADMIN)
def edit(district_id: int):
    found = _district(district_id)
    form = district_form(found)
    if not form.validate_on_submit():
        flash_errors(form)
    elif not _carry_out(
        lambda session: gazetteer.save_district(
            session,
            form.name.data,
            gazetteer.split_aliases(form.aliases.data),
            _fallback(form),
            district=found,
            actor=current_staff(),
            now=now(),
        ),
        N_("已保存。"),
    ):
        return _district_page(_district(district_id), form, street_form(), 400)
    return redirect(url_for("places.district", district_id=district_id))


@bp.post("/<int:district_id>/streets")
@roles_required(Role.ADMIN)
def create_street(district_id: int):
    found = _district(district_id)
    form = street_form()
    if not form.validate_on_submit():
        flash_errors(form)
    elif not _carry_out(
        lambda session: gazetteer.save_street(
            session, found, form.name.data, gazetteer.split_aliases(form.aliases.data), actor=current_staff(), now=now()
        ),
        N_("已建立街道。"),
    ):
        return _district_page(_district(district_id), district_form(_district(district_id)), form, 400)
    return redirect(url_for("places.district", district_id=district_id))


@bp.get("/streets/<int:street_id>")
@roles_required(Role.ADMIN)
def street(street_id: int):
    found = _street(street_id)
    return render_template(
        "admin/place_street.html",
        street=found,
        form=street_form(found),
        history=_history({STREET: found.id}),
        field_labels=FIELD_LABELS,
    )


@bp.post("/streets/<int:street_id>")
@roles_required(Role.ADMIN)
def edit_street(street_id: int):
    found = _street(street_id)
    form = street_form(found)
    if not form.validate_on_submit():
        flash_errors(form)
    elif not _carry_out(
        lambda session: gazetteer.save_street(
            session,
            found.district,
            form.name.data,
            gazetteer.split_aliases(form.aliases.data),
            street=found,
            actor=current_staff(),
            now=now(),
        ),
        N_("已保存。"),
    ):
        found = _street(street_id)
        page = render_template(
            "admin/place_street.html",
            street=found,
            form=form,
            history=_history({STREET: found.id}),
            field_labels=FIELD_LABELS,
        )
        return page, 400
    return redirect(url_for("places.street", street_id=street_id))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
