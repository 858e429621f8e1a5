"""Staff accounts (工作人员账号): the city's first administrator (首个管理员),
the rule every new password meets (密码强度), and what an administrator does
with accounts — create, edit, reset a password, deactivate, activate — and
what everyone does with their own: change their password.

The rule lives here, once, so ``flask --app admin setup``, the console's
pages, the change-password page and ``flask --app admin user …`` ask the same
question. The pages and the CLI call these functions and commit; every change
an administrator makes is written to the change log (``audit``), never a
password or its hash. An account is never deleted: its tickets' timelines
name it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.store.audit import audit
from routing.store.people import Agency, Role, User
from routing.store.privacy import CONTACT_EXPORT_ROLES
from routing.texts import N_, DomainError

MIN_PASSWORD_LENGTH = 12
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
# What a guesser appends to a word first: "Password2026!" is "password" to them.
TRAILING_DIGITS_AND_SYMBOLS = re.compile(r"[\W\d_]+$")


class AccountError(DomainError):
    """A password too weak, a username already taken, an account that cannot change so."""


def password_problem(password: str, *names: str | None) -> str | None:
    """Why ``password`` is too weak (a marked text), or None when it will do.

    Long enough (``MIN_PASSWORD_LENGTH``) and not of one kind of character
    only: twelve digits or twelve lower-case letters fall to a guesser that
    tries only that kind first. Length counts far more than symbols, so
    two kinds are enough. Not one of the passwords guessers try first
    (``common_passwords.txt``, also with digits or symbols added at the end),
    and not containing ``names`` — the account's login and display name.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return N_("密码至少需要 12 个字符。")
    kinds = {_kind(c) for c in password}
    if len(kinds) < 2:
        return N_("密码不能只由一类字符组成（如全是数字或全是小写字母），请混用字母、数字或符号。")
    folded = password.casefold()
    if any(name and len(name.strip()) >= 2 and name.strip().casefold() in folded for name in names):
        return N_("密码不能包含用户名或姓名，请换一个别人猜不到的。")
    common = common_passwords()
    if folded in common or TRAILING_DIGITS_AND_SYMBOLS.sub("", folded) in common:
        return N_("这是最常被猜中的密码之一，请换一个：几个不相关的词加上数字更好记也更安全。")
    return None


@cache
def common_passwords() -> frozenset[str]:
    """The list of common passwords (常见密码), lower-cased."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


def _kind(character: str) -> str:
    if character.isdigit():
        return "digit"
    if character.isalpha():
        # Chinese characters have no case: they count as letters of their own.
        return "upper" if character.isupper() else "lower" if character.islower() else "letter"
    return "symbol"


def check_password(password: str, *names: str | None) -> None:
    """Raise ``AccountError`` when ``password`` breaks the rule (``names``: the account's login and display name)."""
    problem = password_problem(password, *names)
    if problem:
        raise AccountError(problem)


def administrator_exists(session: Session) -> bool:
    """An active administrator can log in and make every other account."""
    query = select(User.id).where(User.role == Role.ADMIN, User.active.is_(True)).limit(1)
    return session.scalar(query) is not None


def create_first_administrator(session: Session, username: str, display_name: str, password: str) -> User | None:
    """The city's first administrator (首个管理员), or None when an active
    administrator already exists (then nothing changes). Commits.

    The password is checked before anything is written; it is kept only as
    its hash and never logged.
    """
    if administrator_exists(session):
        return None
    username, display_name = username.strip(), display_name.strip()
    if not username or not display_name:
        raise AccountError(N_("请给出管理员的用户名和姓名。"))
    check_password(password, username, display_name)
    _check_free(session, username)
    user = User(username=username, display_name=display_name, role=Role.ADMIN)
    user.set_password(password)
    session.add(user)
    session.commit()
    return user


def _check_free(session: Session, username: str) -> None:
    # Case apart, two logins would look the same on a page and in the login throttle.
    taken = select(User.id).where(func.lower(User.username) == username.lower())
    if session.scalar(taken) is not None:
        raise AccountError(N_("用户名“%(username)s”已被其他账号使用，请换一个。"), username=username)


# -- the administrator's console (账号管理) ----------------------------------------

SUBJECT = "account"  # the change log's subject for accounts
# Roles the console gives; a deputy's account comes with the deputy (``flask --app admin deputy add``).
STAFF_ROLES = (Role.ADMIN, Role.DISPATCHER, Role.AGENCY)
USERNAME = re.compile(r"[A-Za-z0-9_.\-]{2,64}")
MOBILE = re.compile(r"1\d{10}")
IM_USER_ID = re.compile(r"[A-Za-z0-9_.\-@]{1,64}")
# A temporary password is read out or typed from a note: no 0/O, 1/l/I.
TEMPORARY_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class AccountFields:
    """What an administrator sets on an account; ``username`` only when creating."""

    display_name: str
    role: Role
    agency_id: int | None = None
    mobile: str | None = None
    username: str = ""
    im_user_id: str | None = None  # 企业微信 / 钉钉 UserID


def account_record(user: User) -> dict[str, Any]:
    """What the change log keeps of an account, before and after: never its password."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.label,
        "agency": user.agency.name if user.agency is not None else None,
        "mobile": user.mobile,
        "im_user_id": user.im_user_id,
        "active": user.active,
        "may_export_contact": bool(user.may_export_contact),
    }


def temporary_password() -> str:
    """A password an administrator hands over once (临时密码); it meets the rule."""
    while True:
        password = "-".join("".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(3))
        if password_problem(password) is None:
            return password


def _checked(session: Session, fields: AccountFields) -> tuple[str, Agency | None, str | None]:
    """The display name, agency and mobile of ``fields`` once they make sense together
    (the messenger id too, checked here and read from ``fields``)."""
    display_name = fields.display_name.strip()
    if not display_name or len(display_name) > 64:
        raise AccountError(N_("请填写姓名（64 字以内）。"))
    agency = session.get(Agency, fields.agency_id) if fields.agency_id is not None else None
    if fields.role is Role.AGENCY:
        if agency is None:
            raise AccountError(N_("承办单位工作人员的账号须选定所属承办单位。"))
        if not agency.active:
            raise AccountError(N_("%(agency)s已停用，不能给它添加工作人员。"), agency=agency.name)
    else:
        agency = None  # only agency staff belong to an agency: their queue is its tickets
    mobile = (fields.mobile or "").strip() or None
    if mobile is not None and not MOBILE.fullmatch(mobile):
        raise AccountError(N_("手机号请填 11 位数字，以 1 开头。"))
    if fields.im_user_id and not IM_USER_ID.fullmatch(fields.im_user_id.strip()):
        raise AccountError(N_("企业微信/钉钉 UserID 请用 1 到 64 个英文字母、数字或 . _ - @。"))
    return display_name, agency, mobile


def create_account(session: Session, fields: AccountFields, actor: User | None, now: datetime) -> tuple[User, str]:
    """A new account (新建账号) and its temporary password, to be changed at first login."""
    username = fields.username.strip()
    if not USERNAME.fullmatch(username):
        raise AccountError(N_("用户名请用 2 到 64 个英文字母、数字或 . _ -。"))
    if fields.role not in STAFF_ROLES:
        raise AccountError(N_("人大代表的账号请用 deputy add 命令随代表一起建立。"))
    display_name, agency, mobile = _checked(session, fields)
    _check_free(session, username)
    password = temporary_password()
    user = User(username=username, display_name=display_name, role=fields.role, agency=agency, mobile=mobile,
                im_user_id=(fields.im_user_id or "").strip() or None)
    user.set_password(password)
    user.must_change_password = True
    session.add(user)
    session.flush()
    audit(session, SUBJECT, user.id, "create", actor, now, after=account_record(user))
    return user, password


def edit_account(session: Session, user: User, fields: AccountFields, actor: User | None, now: datetime) -> None:
    """New name, role, agency or mobile (修改账号); the login stays."""
    if (user.role is Role.DEPUTY) != (fields.role is Role.DEPUTY):
        raise AccountError(N_("人大代表的账号不能改为其他角色，其他账号也不能改为人大代表。"))
    display_name, agency, mobile = _checked(session, fields)
    if user.role is Role.ADMIN and fields.role is not Role.ADMIN:
        _keep_an_administrator(session, user)
    before = account_record(user)
    user.display_name, user.role, user.agency, user.mobile = display_name, fields.role, agency, mobile
    user.im_user_id = (fields.im_user_id or "").strip() or None
    if user.role not in CONTACT_EXPORT_ROLES:
        user.may_export_contact = False  # the grant is the centre's; it does not follow into an agency
    after = account_record(user)
    if after != before:
        audit(session, SUBJECT, user.id, "edit", actor, now, before=before, after=after)


def reset_password(session: Session, user: User, actor: User | None, now: datetime) -> str:
    """A temporary password (重置密码) that ends the account's sessions and must be
    changed at its next login; shown to the administrator once, kept only as a hash."""
    user.set_password(password := temporary_password())
    user.must_change_password = True
    audit(session, SUBJECT, user.id, "reset", actor, now, summary="重置密码，首次登录须修改")
    return password


def set_password(session: Session, user: User, password: str, actor: User | None, now: datetime) -> None:
    """A password an operator chooses for the account (``user password``); ends its sessions."""
    check_password(password, user.username, user.display_name)
    user.set_password(password)
    user.must_change_password = False
    audit(session, SUBJECT, user.id, "password", actor, now, summary="设定新密码")


def set_contact_export(session: Session, user: User, allowed: bool, actor: User | None, now: datetime) -> None:
    """授予 / 收回导出个人信息权限: whether the account may export residents'
    contact data with the ticket list; only the centre's accounts may hold it."""
    if allowed and user.role not in CONTACT_EXPORT_ROLES:
        raise AccountError(N_("只有管理员和分拨员的账号可以获得导出个人信息的权限。"))
    if bool(user.may_export_contact) == allowed:
        held = N_("账号“%(username)s”已有导出个人信息的权限。")
        lacking = N_("账号“%(username)s”本来就没有导出个人信息的权限。")
        raise AccountError(held if allowed else lacking, username=user.username)
    before = account_record(user)
    user.may_export_contact = allowed
    audit(session, SUBJECT, user.id, "export_grant" if allowed else "export_revoke", actor, now,
          before=before, after=account_record(user))


def deactivate(session: Session, user: User, actor: User | None, now: datetime) -> None:
    """停用: the account can no longer log in, and its open sessions end at once."""
    if not user.active:
        raise AccountError(N_("账号“%(username)s”已是停用状态。"), username=user.username)
    if user.role is Role.ADMIN:
        _keep_an_administrator(session, user)
    _set_active(session, user, False, actor, now)
    user.end_sessions()


def activate(session: Session, user: User, actor: User | None, now: datetime) -> None:
    """启用: the account can log in again, with the password it had."""
    if user.active:
        raise AccountError(N_("账号“%(username)s”已是启用状态。"), username=user.username)
    _set_active(session, user, True, actor, now)


def _set_active(session: Session, user: User, active: bool, actor: User | None, now: datetime) -> None:
    before = account_record(user)
    user.active = active
    audit(session, SUBJECT, user.id, "activate" if active else "deactivate", actor, now,
          before=before, after=account_record(user))


def _keep_an_administrator(session: Session, leaving: User) -> None:
    # Without an active administrator nobody could make or reset an account again.
    others = select(User.id).where(User.role == Role.ADMIN, User.active.is_(True), User.id != leaving.id).limit(1)
    if session.scalar(others) is None:
        raise AccountError(N_("“%(username)s”是唯一在用的管理员，请先为其他人建立管理员账号。"), username=leaving.username)


def change_own_password(session: Session, user: User, current: str, new: str, now: datetime) -> None:
    """修改密码: the person's own, with their current one. Ends their other
    sessions (the caller logs the current one in again)."""
    if not user.check_password(current):
        raise AccountError(N_("当前密码不对。"))
    check_password(new, user.username, user.display_name)
    if new == current:
        raise AccountError(N_("新密码不能与当前密码相同。"))
    user.set_password(new)
    user.must_change_password = False
    audit(session, SUBJECT, user.id, "password", user, now, summary="本人修改密码")


def account_by_login(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        raise AccountError(N_("没有用户名为“%(username)s”的账号。"), username=username.strip())
    return user


def staff_accounts(session: Session) -> list[User]:
    """Every account, active ones first, by role and login."""
    return list(session.scalars(select(User).order_by(User.active.desc(), User.role, User.username)))
