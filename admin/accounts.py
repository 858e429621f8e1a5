"""The administrator's console of staff accounts (账号管理): list, create,
edit, reset a password, deactivate and activate. Administrators only; the
work is done by ``routing.store.accounts``, whose changes the log keeps and
the account's page shows. An account is never deleted."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from collector.context import db_session
from collector.translate import error_text
from routing.clock import now
from routing.store import accounts, second_factor
from routing.store.accounts import STAFF_ROLES, AccountError, AccountFields
from routing.store.audit import changes
from routing.store.people import Agency, Role, User
from routing.store.privacy import CONTACT_EXPORT_ROLES
from routing.texts import N_

from .agency import EmptyForm
from .auth import current_staff, roles_required
from .views import flash_errors

bp = Blueprint("accounts", __name__, url_prefix="/admin/accounts")

FIELD_LABELS = {
    "username": N_("用户名"), "display_name": N_("姓名"), "role": N_("角色"), "agency": N_("所属承办单位"),
    "mobile": N_("手机号"), "im_user_id": N_("企业微信/钉钉 UserID"), "active": N_("启用"),
    "may_export_contact": N_("可导出个人信息"),
}


class AccountForm(FlaskForm):
    username = StringField(_l("用户名（登录用，英文字母、数字或 . _ -）"), validators=[Optional(), Length(max=64)])
    display_name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名（64 字以内）。")), Length(max=64)])
    role = SelectField(_l("角色"))
    agency = SelectField(_l("所属承办单位（承办单位工作人员必选）"), validators=[Optional()])
    mobile = StringField(_l("手机号（可不填）"), validators=[Optional(), Length(max=20)])
    im_user_id = StringField(_l("企业微信/钉钉 UserID（可不填，用于通知）"), validators=[Optional(), Length(max=64)])

    def fields(self) -> AccountFields:
        return AccountFields(
            username=self.username.data or "",
            display_name=self.display_name.data or "",
            role=Role(self.role.data),
            agency_id=int(self.agency.data) if (self.agency.data or "").isdigit() else None,
            mobile=self.mobile.data,
            im_user_id=self.im_user_id.data,
        )


def account_form(user: User | None = None) -> AccountForm:
    data = None
    if user is not None:
        data = {"display_name": user.display_name, "role": user.role.value,
                "agency": str(user.agency_id or ""), "mobile": user.mobile or "",
                "im_user_id": user.im_user_id or ""}
    form = AccountForm(data=data) if user is not None else AccountForm()
    roles = STAFF_ROLES if user is None or user.role is not Role.DEPUTY else (Role.DEPUTY,)
    form.role.choices = [(r.value, gettext(r.label)) for r in roles]
    agencies = db_session().scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.district_id.is_not(None), Agency.id))
    form.agency.choices = [("", gettext("无（非承办单位人员）"))] + [(str(a.id), a.name) for a in agencies]
    return form


def _account(user_id: int) -> User:
    user = db_session().get(User, user_id)
    if user is None:
        abort(404, description=gettext("没有这个账号。"))
    return user


def _shown_once(user: User, password: str, what: str):
    """The temporary password on this answer alone: never in a flash, a log or a redirect."""
    response = make_response(render_template("admin/password_once.html", account=user, password=password, what=what))
    response.headers["Cache-Control"] = "no-store"  # not kept by the browser for the back button
    return response


@bp.get("/")
@roles_required(Role.ADMIN)
def index():
    return render_template("admin/accounts.html", users=accounts.staff_accounts(db_session()), form=account_form())


@bp.post("/")
@roles_required(Role.ADMIN)
def create():
    form = account_form()
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(url_for("accounts.index"))
    session = db_session()
    try:
        user, password = accounts.create_account(session, form.fields(), current_staff(), now())
        session.commit()
    except AccountError as exc:
        session.rollback()
        flash(error_text(exc), "error")
        return render_template("admin/accounts.html", users=accounts.staff_accounts(session), form=form), 400
    return _shown_once(user, password, gettext("已建立账号。"))


@bp.get("/<int:user_id>")
@roles_required(Role.ADMIN)
def detail(user_id: int):
    user = _account(user_id)
    return render_template(
        "admin/account.html", account=user, form=account_form(user), step_form=EmptyForm(),
        history=changes(db_session(), accounts.SUBJECT, user.id), field_labels=FIELD_LABELS,
        export_roles=CONTACT_EXPORT_ROLES,
    )


@bp.post("/<int:user_id>")
@roles_required(Role.ADMIN)
def edit(user_id: int):
    user = _account(user_id)
    form = account_form(user)
    if form.validate_on_submit():
        _carry_out(accounts.edit_account, user, form.fields(), done=N_("已保存。"))
    else:
        flash_errors(form)
    return redirect(url_for("accounts.detail", user_id=user.id))


@bp.post("/<int:user_id>/reset")
@roles_required(Role.ADMIN)
def reset(user_id: int):
    user = _account(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    session = db_session()
    password = accounts.reset_password(session, user, current_staff(), now())
    session.commit()
    return _shown_once(user, password, gettext("已重置密码，该账号原有的登录已全部失效。"))


@bp.post("/<int:user_id>/second-factor/reset")
@roles_required(Role.ADMIN)
def reset_second_factor(user_id: int):
    return _step(user_id, second_factor.reset, N_("已重置双重验证：该账号原有的登录已全部失效，下次登录后可重新设置。"))


@bp.post("/<int:user_id>/contact-export/<any(grant, revoke):change>")
@roles_required(Role.ADMIN)
def contact_export(user_id: int, change: str):
    """Grant or withdraw the export of residents' contact data (导出个人信息)."""
    user = _account(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    done = N_("已授予导出个人信息的权限。") if change == "grant" else N_("已收回导出个人信息的权限。")
    _carry_out(accounts.set_contact_export, user, change == "grant", done=done)
    return redirect(url_for("accounts.detail", user_id=user.id))


@bp.post("/<int:user_id>/deactivate")
@roles_required(Role.ADMIN)
def deactivate(user_id: int):
    return _step(user_id, accounts.deactivate, N_("已停用：该账号不能再登录，已打开的页面也立即失效。"))


@bp.post("/<int:user_id>/activate")
@roles_required(Role.ADMIN)
def activate(user_id: int):
    return _step(user_id, accounts.activate, N_("已启用：该账号可以用原密码登录。"))


def _step(user_id: int, step, done: str):
    user = _account(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    _carry_out(step, user, done=done)
    return redirect(url_for("accounts.detail", user_id=user.id))


def _carry_out(step, user: User, *args, done: str) -> bool:
    """One change to an account, committed, or nothing and the reason."""
    session = db_session()
    try:
        step(session, user, *args, current_staff(), now())
        session.commit()
    except AccountError as exc:
        session.rollback()
        flash(error_text(exc), "error")
        return False
    flash(gettext(done))
    return True


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
