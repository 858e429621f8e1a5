"""A staff session ends on the server: a cookie kept from before logging out,
a new password or a deactivated account opens nothing. Wrong passwords are
throttled per address and per account."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from admin.demo import DEMO_PASSWORD
from routing.store.people import User

from ..conftest import AuthActions, post_form


def _kept_cookie(app, client) -> str:
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"], domain="tingjian.test").value


def _replay(app, cookie: str):
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie, domain="tingjian.test")
    return thief.get("/desk/")


def test_a_cookie_kept_from_before_logout_opens_nothing(app, client, auth, demo):
    auth.login("dispatcher")
    assert client.get("/desk/").status_code == 200
    kept = _kept_cookie(app, client)
    assert _replay(app, kept).status_code == 200  # the cookie alone is the session

    auth.logout()

    replayed = _replay(app, kept)
    assert replayed.status_code == 302 and "/login" in replayed.headers["Location"]


def test_a_new_password_ends_the_sessions_opened_before(app, client, auth, demo):
    auth.login("dispatcher")
    kept = _kept_cookie(app, client)
    user = demo.scalar(select(User).where(User.username == "dispatcher"))
    user.set_password("a-new-password-2026")
    demo.commit()

    assert _replay(app, kept).status_code == 302
    assert client.get("/desk/").status_code == 302
    fresh = AuthActions(app.test_client())
    assert fresh.login("dispatcher", "a-new-password-2026").status_code == 302


def test_a_deactivated_account_is_logged_out_at_its_next_request(app, client, auth, demo):
    auth.login("dispatcher")
    demo.scalar(select(User).where(User.username == "dispatcher")).active = False
    demo.commit()
    assert client.get("/desk/").status_code == 302


def test_a_session_id_from_before_versions_or_forged_is_refused(app, client, demo):
    for forged in ["1", "1.x", "99999999999999999999999.0", "١.0", ""]:
        with client.session_transaction() as stored:
            stored["_user_id"] = forged
        assert client.get("/desk/").status_code == 302


@pytest.mark.parametrize("app_config", [{"RATELIMIT_LOGIN_ACCOUNT": "3 per 10 minutes"}])
def test_wrong_passwords_for_one_account_are_throttled_whoever_tries(app, client, demo):
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        guess = post_form(client, "/login", {"username": "admin", "password": "wrong"},
                          environ_base={"REMOTE_ADDR": address})
        assert guess.status_code == 400
    right = post_form(client, "/login", {"username": "admin", "password": DEMO_PASSWORD},
                      environ_base={"REMOTE_ADDR": "10.0.0.4"})
    assert right.status_code == 429
    assert "登录失败次数过多，请 10 分钟后再试" in right.get_data(as_text=True)
    # Another account is not locked by someone guessing at this one.
    other = post_form(app.test_client(), "/login", {"username": "dispatcher", "password": DEMO_PASSWORD})
    assert other.status_code == 302


@pytest.mark.parametrize("app_config", [{"RATELIMIT_LOGIN_ADDRESS": "3 per minute"}])
def test_wrong_passwords_from_one_address_are_throttled_across_accounts(app, client, demo):
    for username in ("admin", "dispatcher", "zhujian"):
        post_form(client, "/login", {"username": username, "password": "wrong"})
    refused = post_form(client, "/login", {"username": "deputy", "password": DEMO_PASSWORD})
    assert refused.status_code == 429 and "1 分钟后再试" in refused.get_data(as_text=True)
    elsewhere = post_form(app.test_client(), "/login", {"username": "deputy", "password": DEMO_PASSWORD},
                          environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert elsewhere.status_code == 302
