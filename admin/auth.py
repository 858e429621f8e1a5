"""Staff login (Flask-Login) and roles."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from collector.context import db_session
from collector.deputies import deputy_of
from routing.clock import now
from routing.store import second_factor
from routing.store.people import Role, User

from .params import whole_number
from .security import login_failed, login_wait

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录。"
login_manager.session_protection = "strong"


class StaffUser(UserMixin):
    """The logged-in person as Flask-Login sees it; wraps the ORM row."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        # The id Flask-Login keeps in the session: the account and the version
        # of its sessions, so that ending them on the server ends this one.
        return f"{self.user.id}.{self.user.session_version}"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.user, name)


@login_manager.user_loader
def _load_user(session_id: str) -> StaffUser | None:
    user_id, _, version = session_id.partition(".")
    try:
        user_id_, version_ = whole_number(user_id), whole_number(version)
    except ValueError:
        return None  # also a session from before versions: log in again
    user = db_session().get(User, user_id_)
    if user is None or not user.active or user.session_version != version_:
        return None
    return StaffUser(user)


def current_staff() -> User:
    return current_user.user


def roles_required(*roles: Role) -> Callable:
    """Only these roles may open the view; others get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


class CodeForm(FlaskForm):
    code = StringField(_l("验证码"), validators=[DataRequired(_l("请填写验证器应用中的 6 位验证码。"))])


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请填写用户名。"))])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请填写密码。"))])


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None: never an open redirect.

    Browsers drop tabs and line breaks from a URL and read a backslash as a
    slash, so ``/<tab>/other.example`` or ``/\\other.example`` would leave the site
    although they start with a single slash: a target with any of those, or
    with another control character or a space, is refused outright.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ch <= " " or ch == "\x7f" for ch in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        wait = login_wait(username)
        if wait:
            # Refused before the password is checked: guessing on gets nothing.
            flash(gettext("登录失败次数过多，请 %(minutes)d 分钟后再试。", minutes=math.ceil(wait / 60)), "error")
            return render_template("auth/login.html", form=form), 429
        user = db_session().scalar(select(User).where(User.username == username))
        if user is not None and user.active and user.check_password(form.password.data):
            db_session().commit()  # a hash from before argon2 was just replaced
            if second_factor.has_second_factor(user):
                # The password was right: the code is asked next, still not logged in.
                session["pending_login"] = [user.id, user.session_version]
                return redirect(url_for("auth.code", next=safe_next(request.args.get("next"))))
            return _logged_in(user)
        login_failed(username)
        flash(gettext("用户名或密码不对。"), "error")
    return render_template("auth/login.html", form=form), 400 if request.method == "POST" else 200


def _logged_in(user: User):
    session.pop("pending_login", None)
    login_user(StaffUser(user))
    if user.must_change_password:  # a temporary password: their own first (admin.account)
        return redirect(url_for("account.password"))
    return redirect(safe_next(request.args.get("next")) or url_for("auth.home"))


@bp.route("/login/code", methods=["GET", "POST"])
def code():
    """The second step of logging in (双重验证): the 6-digit code; wrong codes count as wrong passwords."""
    user_id, version = session.get("pending_login") or (None, None)
    user = db_session().get(User, user_id) if user_id else None
    if user is None or not user.active or user.session_version != version:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        wait = login_wait(user.username)
        if wait:
            flash(gettext("登录失败次数过多，请 %(minutes)d 分钟后再试。", minutes=math.ceil(wait / 60)), "error")
            return render_template("auth/code.html", form=form), 429
        if second_factor.code_is_good(user, form.code.data, now()):
            db_session().commit()  # the code's time step is used up
            return _logged_in(user)
        login_failed(user.username)
        flash(gettext("验证码不对：请输入验证器应用中当前显示的 6 位数字，并确认手机时间准确。"), "error")
    return render_template("auth/code.html", form=form), 400 if request.method == "POST" else 200


@bp.post("/logout")
@login_required
def logout():
    current_staff().end_sessions()
    db_session().commit()
    logout_user()
    flash(gettext("已退出。"))
    return redirect(url_for("auth.login"))


@bp.get("/home")
@login_required
def home():
    """Each role starts where its work is."""
    if current_user.role is Role.AGENCY:
        return redirect(url_for("agency.queue"))
    if current_user.role in (Role.DISPATCHER, Role.ADMIN):
        return redirect(url_for("desk.triage"))
    if current_user.role is Role.DEPUTY and deputy_of(db_session(), current_staff()) is not None:
        return redirect(url_for("deputy.portal"))
    return render_template("auth/home.html")


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.register_blueprint(bp)
