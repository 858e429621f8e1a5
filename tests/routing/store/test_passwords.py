"""How passwords are kept (argon2, 密码哈希) and the rule a new one meets (密码强度)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from werkzeug.security import generate_password_hash

from routing.store import accounts
from routing.store.accounts import AccountError, common_passwords, password_problem
from routing.store.people import Role, User

STRONG = "Xihu-lake-2027"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _user(session, password_hash: str) -> User:
    user = User(username="wang", display_name="王主任", role=Role.DISPATCHER, password_hash=password_hash)
    session.add(user)
    session.commit()
    return user


def test_a_new_password_is_kept_as_an_argon2id_hash():
    user = User(username="wang", display_name="王主任", role=Role.DISPATCHER)
    user.set_password(STRONG)
    assert user.password_hash.startswith("$argon2id$") and STRONG not in user.password_hash
    assert user.check_password(STRONG)
    assert not user.check_password("Xihu-lake-2028")


@pytest.mark.parametrize("method", ["scrypt", "pbkdf2:sha256"])
def test_a_hash_from_before_argon2_still_verifies_and_is_replaced_at_the_next_login(session, method):
    user = _user(session, generate_password_hash(STRONG, method=method))
    version = user.session_version
    assert user.check_password(STRONG)
    session.commit()
    session.refresh(user)
    assert user.password_hash.startswith("$argon2id$")
    assert user.check_password(STRONG)
    assert user.session_version == version  # the same password: nobody is logged out


def test_a_wrong_password_leaves_an_old_hash_as_it_was(session):
    old = generate_password_hash(STRONG, method="scrypt")
    user = _user(session, old)
    assert not user.check_password("Xihu-lake-2028")
    assert user.password_hash == old


def test_an_argon2_hash_of_a_weaker_cost_is_rehashed_with_todays(session):
    cheap = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(STRONG)
    user = _user(session, cheap)
    assert user.check_password(STRONG)
    assert user.password_hash != cheap and user.password_hash.startswith("$argon2id$")
    assert not PasswordHasher().check_needs_rehash(user.password_hash)


def test_a_broken_hash_is_a_wrong_password_not_an_error(session):
    user = _user(session, "$argon2id$v=19$broken")
    assert not user.check_password(STRONG)


def test_the_list_of_common_passwords_ships_with_the_code():
    common = common_passwords()
    assert len(common) >= 200 and "password123456" in common and "woaini1314" in common


@pytest.mark.parametrize(
    "password", ["Password123456", "QWERTY123456", "Woaini1314!!!", "Password2026!", "1qaz2wsx3edc"]
)
def test_a_common_password_is_refused_also_with_digits_or_symbols_added(password):
    assert "最常被猜中" in password_problem(password)


@pytest.mark.parametrize("password", ["wang-Lake-2027", "Lake-WANG-2027", "王主任的西湖密码2027"])
def test_a_password_containing_the_login_or_display_name_is_refused(password):
    assert "用户名或姓名" in password_problem(password, "wang", "王主任")


def test_the_rule_without_names_still_takes_such_a_password():
    assert password_problem("wang-Lake-2027") is None


def test_an_operator_cannot_set_a_password_that_names_the_account(session):
    user = _user(session, generate_password_hash(STRONG))
    old = user.password_hash
    with pytest.raises(AccountError, match="用户名或姓名"):
        accounts.set_password(session, user, "wang-2027-lake", None, NOW)
    assert user.password_hash == old


def test_the_own_password_change_meets_the_rule(session):
    user = _user(session, generate_password_hash(STRONG))
    with pytest.raises(AccountError, match="最常被猜中"):
        accounts.change_own_password(session, user, STRONG, "Password2026!", NOW)
    accounts.change_own_password(session, user, STRONG, "Gudang-tea-hill-9", NOW)
    assert user.check_password("Gudang-tea-hill-9")


def test_the_first_administrator_cannot_use_their_login_as_password(session):
    with pytest.raises(AccountError, match="用户名或姓名"):
        accounts.create_first_administrator(session, "cityadmin", "王主任", "CityAdmin-2027")
