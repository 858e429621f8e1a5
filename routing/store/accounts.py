"""Accounts a city starts with (首个管理员) and the rule every new password
meets (密码强度).

The rule lives here, once, so the first administrator's password (``flask
--app admin setup``) and any later place that sets a password ask the same
question.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.store.people import Role, User
from routing.texts import N_, DomainError

MIN_PASSWORD_LENGTH = 12


class AccountError(DomainError):
    """A password too weak, or a username already taken."""


def password_problem(password: str) -> str | None:
    """Why ``password`` is too weak (a marked text), or None when it will do.

    Long enough (``MIN_PASSWORD_LENGTH``) and not of one kind of character
    only: twelve digits or twelve lower-case letters fall to a guesser that
    tries only that kind first. Length counts far more than symbols, so
    two kinds are enough.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return N_("密码至少需要 12 个字符。")
    kinds = {_kind(c) for c in password}
    if len(kinds) < 2:
        return N_("密码不能只由一类字符组成（如全是数字或全是小写字母），请混用字母、数字或符号。")
    return None


def _kind(character: str) -> str:
    if character.isdigit():
        return "digit"
    if character.isalpha():
        # Chinese characters have no case: they count as letters of their own.
        return "upper" if character.isupper() else "lower" if character.islower() else "letter"
    return "symbol"


def check_password(password: str) -> None:
    """Raise ``AccountError`` when ``password`` breaks the rule."""
    problem = password_problem(password)
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
    check_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(N_("用户名“%(username)s”已被其他账号使用，请换一个。"), username=username)
    user = User(username=username, display_name=display_name, role=Role.ADMIN)
    user.set_password(password)
    session.add(user)
    session.commit()
    return user
