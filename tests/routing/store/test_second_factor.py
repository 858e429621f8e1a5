"""The second factor (双重验证): setting it up, codes used once, turning it off, an administrator's reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select

from routing.store import second_factor
from routing.store.accounts import AccountError
from routing.store.audit import ConfigChange
from routing.store.people import Role, User

STRONG = "Xihu-lake-2027"
NOW = datetime(2026, 12, 3, 9, 0, 10, tzinfo=UTC)


@pytest.fixture
def user(session) -> User:
    user = User(username="wang", display_name="王主任", role=Role.DISPATCHER)
    user.set_password(STRONG)
    session.add(user)
    session.commit()
    return user


def _confirmed(session, user: User) -> pyotp.TOTP:
    totp = pyotp.TOTP(second_factor.begin(user))
    second_factor.confirm(session, user, totp.at(NOW), NOW)
    session.commit()
    return totp


def test_a_begun_second_factor_is_not_asked_until_its_first_code_is_confirmed(session, user):
    secret = second_factor.begin(user)
    assert not second_factor.has_second_factor(user)
    uri = second_factor.provisioning_uri(user)
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri and "wang" in uri
    with pytest.raises(AccountError, match="验证码不对"):
        second_factor.confirm(session, user, "000000" if pyotp.TOTP(secret).at(NOW) != "000000" else "111111", NOW)
    assert not second_factor.has_second_factor(user)
    second_factor.confirm(session, user, pyotp.TOTP(secret).at(NOW), NOW)
    assert second_factor.has_second_factor(user)


def test_a_code_of_the_step_either_side_is_taken_one_further_is_not(session, user):
    totp = _confirmed(session, user)
    later = NOW + timedelta(minutes=5)
    assert not second_factor.code_is_good(user, totp.at(later - timedelta(seconds=60)), later)
    assert second_factor.code_is_good(user, totp.at(later - timedelta(seconds=30)), later)
    assert second_factor.code_is_good(user, totp.at(later + timedelta(seconds=30)), later)


def test_a_used_code_cannot_be_used_again_nor_an_earlier_one(session, user):
    totp = _confirmed(session, user)
    later = NOW + timedelta(minutes=5)
    code = totp.at(later)
    assert second_factor.code_is_good(user, code, later)
    assert not second_factor.code_is_good(user, code, later + timedelta(seconds=5))
    assert not second_factor.code_is_good(user, totp.at(later - timedelta(seconds=30)), later)


def test_the_city_wall_clock_of_the_project_gives_the_same_step():
    user = User(username="li", display_name="李", role=Role.ADMIN, totp_secret=pyotp.random_base32())
    wall = NOW.astimezone(second_factor.CITY_TZ).replace(tzinfo=None)
    assert second_factor.code_is_good(user, pyotp.TOTP(user.totp_secret).at(NOW), wall)


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "1234567"])
def test_a_code_not_of_six_digits_is_refused(session, user, code):
    _confirmed(session, user)
    assert not second_factor.code_is_good(user, code, NOW + timedelta(minutes=1))


def test_turning_it_off_takes_the_password_and_a_code(session, user):
    totp = _confirmed(session, user)
    later = NOW + timedelta(minutes=2)
    with pytest.raises(AccountError, match="当前密码不对"):
        second_factor.disable(session, user, "Xihu-lake-2028", totp.at(later), later)
    with pytest.raises(AccountError, match="验证码不对"):
        second_factor.disable(session, user, STRONG, totp.at(NOW), later)  # used at confirmation
    assert second_factor.has_second_factor(user)
    second_factor.disable(session, user, STRONG, totp.at(later), later)
    assert user.totp_secret is None and not second_factor.has_second_factor(user)


def test_an_administrator_resets_it_ends_the_sessions_and_the_change_log_keeps_no_secret(session, user):
    totp = _confirmed(session, user)
    admin = User(username="admin", display_name="系统管理员", role=Role.ADMIN)
    admin.set_password(STRONG)
    session.add(admin)
    version = user.session_version
    second_factor.reset(session, user, admin, NOW)
    session.commit()
    assert user.totp_secret is None and user.session_version == version + 1
    changes = list(session.scalars(select(ConfigChange).where(ConfigChange.subject_id == user.id)))
    assert [c.action for c in changes] == ["2fa_on", "2fa_reset"]
    assert all(totp.secret not in repr(vars(c)) for c in changes)
    with pytest.raises(AccountError, match="没有设置双重验证"):
        second_factor.reset(session, user, admin, NOW)


def test_the_roles_that_must_have_it_come_from_the_setting(user):
    required = second_factor.parse_roles(" admin, dispatcher ")
    assert required == {Role.ADMIN, Role.DISPATCHER}
    assert second_factor.needs_setup(user, required)
    assert not second_factor.needs_setup(user, second_factor.parse_roles(""))
    with pytest.raises(ValueError, match="boss"):
        second_factor.parse_roles("admin,boss")
