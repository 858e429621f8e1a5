"""``flask --app admin user password | deactivate | activate LOGIN``: the
console's changes for automation, through the same functions, in the same log."""

from __future__ import annotations

from sqlalchemy import select

from routing.store.audit import changes
from routing.store.people import User

NEW_PASSWORD = "Qiantang-river-88"


def _user(session, username):
    session.expire_all()
    return session.scalar(select(User).where(User.username == username))


def test_a_password_is_asked_twice_hidden_and_held_to_the_rule(runner, auth, demo):
    result = runner.invoke(args=["user", "password", "zhujian"], input=f"short\n{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "至少需要 12 个字符" in result.output and NEW_PASSWORD not in result.output
    assert _user(demo, "zhujian").check_password(NEW_PASSWORD)
    assert auth.login("zhujian", NEW_PASSWORD).headers["Location"].endswith("/home")
    assert changes(demo, "account", _user(demo, "zhujian").id)[0].actor == "系统"


def test_deactivate_ends_an_open_session_and_activate_lets_it_log_in_again(client, runner, auth, demo):
    auth.login("zhujian")
    result = runner.invoke(args=["user", "deactivate", "zhujian"])
    assert result.exit_code == 0 and "已停用 zhujian" in result.output
    assert "/login" in client.get("/agency/").headers["Location"]
    assert auth.login("zhujian").status_code == 400

    assert runner.invoke(args=["user", "activate", "zhujian"]).exit_code == 0
    assert auth.login("zhujian").status_code == 302
    assert [c.action for c in changes(demo, "account", _user(demo, "zhujian").id)] == ["activate", "deactivate"]


def test_an_unknown_login_or_the_last_administrator_is_refused_with_the_reason(runner, demo):
    result = runner.invoke(args=["user", "deactivate", "nobody"])
    assert result.exit_code == 1 and "没有用户名为“nobody”的账号" in result.output
    result = runner.invoke(args=["user", "deactivate", "admin"])
    assert result.exit_code == 1 and "唯一在用的管理员" in result.output
    assert _user(demo, "admin").active
