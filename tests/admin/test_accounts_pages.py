"""The administrator's console of staff accounts (/admin/accounts) and
everyone's change-password page (/account/password)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from admin.demo import DEMO_PASSWORD
from routing.store.people import Agency, User

from ..conftest import AuthActions, post_form

NEW_PASSWORD = "Qiantang-river-88"
TEMPORARY = re.compile(r"<code>([^<]+)</code>")


def _user(session, username):
    session.expire_all()
    return session.scalar(select(User).where(User.username == username))


def _create(client, demo, **fields):
    agency = demo.scalar(select(Agency).where(Agency.name == "市住建局"))
    data = {"username": "chen", "display_name": "陈科员", "role": "agency", "agency": str(agency.id), "mobile": ""} | fields
    return post_form(client, "/admin/accounts/", data)


def _temporary(answer) -> str:
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    return TEMPORARY.search(answer.get_data(as_text=True)).group(1)


@pytest.mark.parametrize("login", ["dispatcher", "zhujian", "deputy"])
def test_only_administrators_reach_the_console(client, auth, demo, login):
    auth.login(login)
    assert client.get("/admin/accounts/").status_code == 403
    assert client.post("/admin/accounts/", data={"username": "x"}).status_code in (400, 403)
    assert _user(demo, "x") is None


def test_anonymous_visitors_are_sent_to_log_in(client, demo):
    assert "/login" in client.get("/admin/accounts/").headers["Location"]
    user = _user(demo, "dispatcher")
    refused = post_form(client, f"/admin/accounts/{user.id}/deactivate", {}, page="/login")
    assert "/login" in refused.headers["Location"]
    assert _user(demo, "dispatcher").active


def test_the_administrator_lists_accounts_in_chinese(client, auth, demo):
    auth.login("admin")
    page = client.get("/admin/accounts/").get_data(as_text=True)
    assert "账号管理" in page and "zhujian" in page and "市住建局" in page and "新建账号" in page


def test_a_new_account_logs_in_with_its_temporary_password_and_must_change_it(app, client, auth, demo):
    auth.login("admin")
    password = _temporary(_create(client, demo))
    chen = _user(demo, "chen")
    assert chen.agency.name == "市住建局" and chen.must_change_password

    newcomer = AuthActions(app.test_client())
    assert newcomer.login("chen", password).headers["Location"].endswith("/account/password")
    # Nothing else opens until the password is their own.
    for page in ("/agency/", "/home", "/tickets", "/dashboard/"):
        answer = newcomer.client.get(page)
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/account/password"), page
    assert "临时密码" in newcomer.client.get("/account/password").get_data(as_text=True)

    changed = post_form(newcomer.client, "/account/password",
                        {"current": password, "new": NEW_PASSWORD, "again": NEW_PASSWORD})
    assert changed.status_code == 302
    assert newcomer.client.get("/agency/").status_code == 200  # the session it changed in goes on
    assert not _user(demo, "chen").must_change_password


def test_bad_input_says_why_and_creates_nothing(client, auth, demo):
    auth.login("admin")
    answer = _create(client, demo, username="zhujian")
    assert answer.status_code == 400 and "已被其他账号使用" in answer.get_data(as_text=True)
    answer = _create(client, demo, agency="")
    assert answer.status_code == 400 and "须选定所属承办单位" in answer.get_data(as_text=True)
    assert _user(demo, "chen") is None


def test_a_reset_ends_the_open_session_and_forces_a_new_password(app, client, auth, demo):
    colleague = AuthActions(app.test_client())
    colleague.login("zhujian")
    assert colleague.client.get("/agency/").status_code == 200
    auth.login("admin")
    user = _user(demo, "zhujian")
    password = _temporary(post_form(client, f"/admin/accounts/{user.id}/reset", {}, page=f"/admin/accounts/{user.id}"))

    assert "/login" in colleague.client.get("/agency/").headers["Location"]
    assert colleague.login("zhujian", DEMO_PASSWORD).status_code == 400
    assert colleague.login("zhujian", password).headers["Location"].endswith("/account/password")
    assert colleague.client.get("/agency/").headers["Location"].endswith("/account/password")


def test_deactivating_refuses_an_open_session_at_once_and_is_on_the_accounts_page(app, client, auth, demo):
    colleague = AuthActions(app.test_client())
    colleague.login("zhujian")
    auth.login("admin")
    user = _user(demo, "zhujian")
    page = f"/admin/accounts/{user.id}"
    assert post_form(client, f"{page}/deactivate", {}, page=page).status_code == 302

    assert "/login" in colleague.client.get("/agency/").headers["Location"]
    assert colleague.login("zhujian").status_code == 400
    history = client.get(page).get_data(as_text=True)
    assert "停用" in history and "系统管理员（管理员）" in history

    post_form(client, f"{page}/activate", {}, page=page)
    assert colleague.login("zhujian").status_code == 302


def test_an_edit_is_saved_and_shown_in_the_change_log(client, auth, demo):
    auth.login("admin")
    user = _user(demo, "dispatcher")
    page = f"/admin/accounts/{user.id}"
    post_form(client, page, {"display_name": "分拨中心张三", "role": "dispatcher", "agency": "", "mobile": "13900000000"})
    assert (_user(demo, "dispatcher").display_name, _user(demo, "dispatcher").mobile) == ("分拨中心张三", "13900000000")
    history = client.get(page).get_data(as_text=True)
    assert "<del>" in history and "分拨中心张三" in history and "13900000000" in history


def test_the_change_password_page_keeps_this_session_and_ends_the_others(app, client, auth, demo):
    elsewhere = AuthActions(app.test_client())
    elsewhere.login("dispatcher")
    auth.login("dispatcher")
    wrong = post_form(client, "/account/password", {"current": "wrong", "new": NEW_PASSWORD, "again": NEW_PASSWORD})
    assert wrong.status_code == 400 and "当前密码不对" in wrong.get_data(as_text=True)
    weak = post_form(client, "/account/password", {"current": DEMO_PASSWORD, "new": "short", "again": "short"})
    assert "至少需要 12 个字符" in weak.get_data(as_text=True)
    assert _user(demo, "dispatcher").check_password(DEMO_PASSWORD)

    post_form(client, "/account/password", {"current": DEMO_PASSWORD, "new": NEW_PASSWORD, "again": NEW_PASSWORD})
    assert client.get("/desk/").status_code == 200
    assert "/login" in elsewhere.client.get("/desk/").headers["Location"]


def test_the_pages_read_in_english_for_an_english_administrator(client, auth, demo):
    user = _user(demo, "admin")
    user.locale = "en"
    demo.commit()
    auth.login("admin")
    page = client.get(f"/admin/accounts/{user.id}").get_data(as_text=True)
    assert "Reset password" in page and "重置密码" not in page
