"""``flask --app admin setup``: a city's first start — the schema and the
first administrator, no demo data — and nothing more when run again."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, inspect, select

from admin import create_app
from admin.setup import PASSWORD_VARIABLE
from routing.store.migrate import current_revisions, head_revisions
from routing.store.people import Role, User
from routing.store.tickets import Ticket

STRONG = "Qiantang-river-88"


def admins(session):
    session.expire_all()
    return list(session.scalars(select(User).where(User.role == Role.ADMIN)))


@pytest.fixture(autouse=True)
def no_password_in_the_environment(monkeypatch):
    monkeypatch.delenv(PASSWORD_VARIABLE, raising=False)


def test_with_no_administrator_it_asks_for_a_password_and_makes_one_who_can_log_in(runner, session, auth):
    result = runner.invoke(args=["setup", "--username", "wang", "--name", "王主任"], input=f"{STRONG}\n{STRONG}\n")
    assert result.exit_code == 0, result.output
    assert "已创建管理员 wang（王主任）" in result.output
    assert STRONG not in result.output  # hidden as it is typed, and never repeated
    assert [(u.username, u.display_name) for u in admins(session)] == [("wang", "王主任")]
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0  # no demo data
    assert auth.login("wang", STRONG).headers["Location"].endswith("/home")


def test_run_again_it_changes_nothing_and_says_so(runner, session):
    assert runner.invoke(args=["setup"], input=f"{STRONG}\n{STRONG}\n").exit_code == 0
    first = [(u.id, u.password_hash, u.session_version) for u in admins(session)]
    again = runner.invoke(args=["setup", "--username", "other"])  # no input: it must not ask
    assert again.exit_code == 0, again.output
    assert "数据库结构已是最新" in again.output and "已有管理员账号，未作改动" in again.output
    assert [(u.id, u.password_hash, u.session_version) for u in admins(session)] == first


def test_a_weak_password_is_refused_with_the_reason_and_asked_again(runner, session):
    result = runner.invoke(args=["setup"], input=f"123456789012\n123456789012\n{STRONG}\n{STRONG}\n")
    assert result.exit_code == 0, result.output
    assert "密码不能只由一类字符组成" in result.output
    assert [u.username for u in admins(session)] == ["admin"]
    assert admins(session)[0].check_password(STRONG)


def test_the_password_can_come_from_the_environment_for_automation(runner, session, monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, STRONG)
    result = runner.invoke(args=["setup", "--username", "ops"])
    assert result.exit_code == 0, result.output
    assert STRONG not in result.output
    assert admins(session)[0].check_password(STRONG)


def test_a_weak_password_from_the_environment_fails_the_command_and_makes_no_account(runner, session, monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, "short-one")
    result = runner.invoke(args=["setup"])
    assert result.exit_code != 0
    assert "密码至少需要 12 个字符" in result.output and "short-one" not in result.output
    assert admins(session) == []


def test_on_an_empty_database_it_builds_the_schema_first(tmp_path, model_dir, monkeypatch):
    url = f"sqlite:///{tmp_path / 'city.db'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": url, "MODEL_DIR": str(model_dir),
                      "JOBS_IN_PROCESS": False})
    monkeypatch.setenv(PASSWORD_VARIABLE, STRONG)
    try:
        result = app.test_cli_runner().invoke(args=["setup"])
    finally:
        app.extensions["tingjian"].db.dispose()
    assert result.exit_code == 0, result.output
    assert "数据库结构已从 空库 升级到" in result.output
    engine = create_engine(url)
    with engine.connect() as connection:
        assert current_revisions(connection) == head_revisions()
        assert "user_account" in inspect(connection).get_table_names()
    engine.dispose()
