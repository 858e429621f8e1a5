"""A staff member's own account (我的账号): changing the password, and the
change a temporary password forces at first login (首次登录修改密码)."""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo

from collector.context import db_session
from collector.translate import error_text
from routing.clock import now
from routing.store.accounts import MIN_PASSWORD_LENGTH, AccountError, change_own_password

from .auth import StaffUser, current_staff

bp = Blueprint("account", __name__, url_prefix="/account")

# What a person with a temporary password may still reach: this page, leaving,
# the language switch, and the files the page itself needs.
UNTIL_CHANGED = frozenset({"account.password", "auth.logout", "i18n.choose", "static", "station.static"})


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


def _until_changed():
    """Nothing but the change-password page while a temporary password is in use."""
    if request.endpoint in UNTIL_CHANGED or not current_user.is_authenticated:
        return None
    if current_user.must_change_password:
        flash(gettext("请先把临时密码改为您自己的密码。"), "error")
        return redirect(url_for("account.password"))
    return None


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_until_changed)
