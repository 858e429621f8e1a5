"""A staff member's own account (我的账号): changing the password, the
change a temporary password forces at first login (首次登录修改密码), and the
second factor (双重验证), which SECOND_FACTOR_ROLES makes a role set up first."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo

from collector.context import db_session
from collector.translate import error_text
from routing.clock import now
from routing.store import second_factor
from routing.store.accounts import MIN_PASSWORD_LENGTH, AccountError, change_own_password

from .auth import StaffUser, current_staff

bp = Blueprint("account", __name__, url_prefix="/account")

# What a person with a temporary password may still reach: this page, leaving,
# the language switch, and the files the page itself needs.
UNTIL_CHANGED = frozenset({"account.password", "auth.logout", "i18n.choose", "static", "station.static"})
UNTIL_SECOND_FACTOR = UNTIL_CHANGED | {"account.second_factor"}


class ConfirmForm(FlaskForm):
    code = StringField(_l("验证码"), validators=[DataRequired(_l("请填写验证器应用中的 6 位验证码。"))])


class DisableForm(ConfirmForm):
    password = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请填写当前密码。"))])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请填写当前密码。"))])
    new = PasswordField(_l("新密码"), validators=[DataRequired(_l("请填写新密码。"))])
    again = PasswordField(_l("再输入一次新密码"), validators=[
        DataRequired(_l("请再输入一次新密码。")), EqualTo("new", _l("两次输入的新密码不一致。")),
    ])


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        session = db_session()
        user = current_staff()
        try:
            change_own_password(session, user, form.current.data, form.new.data, now())
            session.commit()
        except AccountError as exc:
            session.rollback()
            flash(error_text(exc), "error")
        else:
            # The new password ended every session, this one too: open it again
            # under the new version, so only the others stay ended.
            login_user(StaffUser(user))
            flash(gettext("密码已修改。其他设备上的登录已失效。"))
            return redirect(url_for("auth.home"))
    status = 400 if request.method == "POST" else 200
    return render_template("account/password.html", form=form, min_length=MIN_PASSWORD_LENGTH), status


@bp.route("/second-factor", methods=["GET", "POST"], endpoint="second_factor")
@login_required
def second_factor_page():
    """Set up (a key and URI for the app, then a first code) or turn off the second factor."""
    session, user = db_session(), current_staff()
    on = second_factor.has_second_factor(user)
    form = DisableForm() if on else ConfirmForm()
    if request.method == "GET" and not on and user.totp_secret is None:
        second_factor.begin(user)
        session.commit()
    if form.validate_on_submit():
        try:
            if on:
                second_factor.disable(session, user, form.password.data, form.code.data, now())
            else:
                second_factor.confirm(session, user, form.code.data, now())
            session.commit()
        except AccountError as exc:
            session.rollback()
            flash(error_text(exc), "error")
        else:
            flash(gettext("双重验证已关闭。") if on else gettext("双重验证已开启，今后登录时需输入验证码。"))
            return redirect(url_for("auth.home"))
    uri = None if on or user.totp_secret is None else second_factor.provisioning_uri(user)
    status = 400 if request.method == "POST" else 200
    return render_template("account/second_factor.html", form=form, on=on, uri=uri, secret=not on and user.totp_secret), status


def _until_changed():
    """Nothing but the change-password page while a temporary password is in use."""
    if request.endpoint in UNTIL_CHANGED or not current_user.is_authenticated:
        return None
    if current_user.must_change_password:
        flash(gettext("请先把临时密码改为您自己的密码。"), "error")
        return redirect(url_for("account.password"))
    if request.endpoint not in UNTIL_SECOND_FACTOR and second_factor.needs_setup(
        current_staff(), current_app.config["SECOND_FACTOR_ROLES"]
    ):
        flash(gettext("您的角色须开启双重验证：请先用手机上的验证器应用完成设置。"), "error")
        return redirect(url_for("account.second_factor"))
    return None


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_until_changed)
