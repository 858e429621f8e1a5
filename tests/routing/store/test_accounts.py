"""The first administrator and the rule a new password meets."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from routing.store.accounts import AccountError, create_first_administrator, password_problem
from routing.store.people import Role, User

STRONG = "Xihu-lake-2027"


@pytest.mark.parametrize("password", ["short1A", "123456789012", "abcdefghijkl", "ABCDEFGHIJKLMN", "杭州西湖区文新街道联络站好"])
def test_a_short_password_or_one_of_a_single_kind_is_refused(password):
    assert password_problem(password)


@pytest.mark.parametrize("password", [STRONG, "xihulake2027", "西湖区文新街道2027年"])
def test_twelve_characters_of_two_kinds_will_do(password):
    assert password_problem(password) is None


def test_the_first_administrator_is_made_once(session):
    user = create_first_administrator(session, " city-admin ", "王主任", STRONG)
    assert (user.username, user.role, user.active) == ("city-admin", Role.ADMIN, True)
    assert user.check_password(STRONG) and STRONG not in user.password_hash
    assert create_first_administrator(session, "second", "李主任", STRONG) is None
    assert session.scalar(select(func.count()).select_from(User)) == 1


def test_a_weak_password_or_a_taken_username_makes_nothing(session):
    with pytest.raises(AccountError, match="至少需要 12 个字符"):
        create_first_administrator(session, "city-admin", "王主任", "short")
    session.add(User(username="taken", display_name="分拨员", password_hash="x", role=Role.DISPATCHER))
    session.commit()
    with pytest.raises(AccountError, match="taken"):
        create_first_administrator(session, "taken", "王主任", STRONG)
    assert session.scalar(select(func.count()).select_from(User).where(User.role == Role.ADMIN)) == 0
