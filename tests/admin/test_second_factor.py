"""The second factor on the pages (双重验证): setting it up, logging in with a
code, a wrong or reused code, roles that must have it, an administrator's reset, turning it off."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from admin.demo import DEMO_PASSWORD
from routing.store.audit import ConfigChange
from routing.store.people import Role, User

from ..conftest import post_form

SECRET = re.compile(r"<code>([A-Z2-7]+)</code>")


@pytest.fixture
def app_config() -> dict:
    return {"SECOND_FACTOR_ROLES": frozenset({Role.ADMIN})}


def _user(session, username) -> User:
    session.expire_all()
    return session.scalar(select(User).where(User.username == username))


def _set_up(client, auth, demo, username="dispatcher") -> pyotp.TOTP:
    auth.login(username)
    page = client.get("/account/second-factor").get_data(as_text=True)
    secret = SECRET.search(page).group(1)
    assert "otpauth://totp/" in page
    totp = pyotp.TOTP(secret)
    response = post_form(client, "/account/second-factor", {"code": totp.now()})
    assert response.status_code == 302
    assert _user(demo, username).totp_confirmed_at is not None
    auth.logout()
    return totp


def _step_back(demo, username):
    # The code used at set-up is spent: the next login needs the next step's code.
    user = _user(demo, username)
    user.totp_last_step -= 1
    demo.commit()


def test_after_set_up_the_login_asks_for_the_code(client, auth, demo):
    totp = _set_up(client, auth, demo)
    _step_back(demo, "dispatcher")
    response = auth.login("dispatcher")
    assert response.status_code == 302 and "/login/code" in response.headers["Location"]
    assert client.get("/account/password").status_code == 302  # not logged in yet
    response = post_form(client, "/login/code", {"code": totp.now()})
    assert response.status_code == 302
    assert client.get("/account/password").status_code == 200


def test_a_wrong_code_and_a_reused_code_are_refused(client, auth, demo):
    totp = _set_up(client, auth, demo)
    auth.login("dispatcher")
    wrong = "000000" if totp.now() != "000000" else "111111"
    response = post_form(client, "/login/code", {"code": wrong})
    assert response.status_code == 400 and "验证码不对" in response.get_data(as_text=True)
    # The very code used at set-up (its time step is kept), even if the clock has moved on since.
    spent = totp.generate_otp(_user(demo, "dispatcher").totp_last_step)
    response = post_form(client, "/login/code", {"code": spent})
    assert response.status_code == 400
    assert client.get("/account/password").status_code == 302


def test_a_role_that_must_have_it_is_sent_to_set_it_up_first(client, auth, demo):
    auth.login("admin")
    response = client.get("/admin/accounts/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/second-factor")
    assert client.get("/account/second-factor").status_code == 200


def test_an_administrator_resets_it_and_the_change_log_keeps_no_secret(client, auth, demo):
    totp = _set_up(client, auth, demo)
    admin = _user(demo, "admin")
    admin.totp_secret, admin.totp_confirmed_at = None, None
    demo.commit()
    totp_admin = _set_up(client, auth, demo, "admin")
    _step_back(demo, "admin")
    auth.login("admin")
    post_form(client, "/login/code", {"code": totp_admin.now()})
    target = _user(demo, "dispatcher")
    response = post_form(
        client, f"/admin/accounts/{target.id}/second-factor/reset", {}, page=f"/admin/accounts/{target.id}"
    )
    assert response.status_code == 302
    assert _user(demo, "dispatcher").totp_secret is None
    changes = list(demo.scalars(select(ConfigChange).where(ConfigChange.subject_id == target.id)))
    assert "2fa_reset" in [c.action for c in changes]
    assert all(totp.secret not in repr(vars(c)) for c in changes)


def test_turning_it_off_takes_the_password_and_a_code(client, auth, demo):
    totp = _set_up(client, auth, demo)
    _step_back(demo, "dispatcher")
    auth.login("dispatcher")
    post_form(client, "/login/code", {"code": totp.now()})
    _step_back(demo, "dispatcher")
    response = post_form(client, "/account/second-factor", {"password": "wrong-password-1", "code": totp.now()})
    assert response.status_code == 400 and _user(demo, "dispatcher").totp_secret is not None
    response = post_form(client, "/account/second-factor", {"password": DEMO_PASSWORD, "code": totp.now()})
    assert response.status_code == 302 and _user(demo, "dispatcher").totp_secret is None
