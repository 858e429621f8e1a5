"""What an administrator does with staff accounts (账号管理) and what each
person does with their own password: the checks come first, a refused change
writes nothing, and every change is in the change log, never a password."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from routing.store.accounts import (
    AccountError,
    AccountFields,
    activate,
    change_own_password,
    create_account,
    deactivate,
    edit_account,
    password_problem,
    reset_password,
    set_password,
    temporary_password,
)
from routing.store.audit import changes
from routing.store.configuration import ConfigChange
from routing.store.people import Agency, Role, User

NOW = datetime(2027, 3, 1, 9, 30)
STRONG = "Xihu-lake-2027"


@pytest.fixture
def admin(session):
    user = User(username="wang", display_name="王主任", role=Role.ADMIN)
    user.set_password(STRONG)
    session.add(user)
    session.add(Agency(name="市住建局"))
    session.commit()
    return user


@pytest.fixture
def agency(session, admin):
    return session.scalar(select(Agency).where(Agency.name == "市住建局"))


def _staff(session, agency, admin, username="li"):
    fields = AccountFields(username=username, display_name="李科员", role=Role.AGENCY, agency_id=agency.id, mobile="13800000000")
    user, password = create_account(session, fields, admin, NOW)
    session.commit()
    return user, password


def _count(session, model=User):
    return session.scalar(select(func.count()).select_from(model))


def test_a_temporary_password_meets_the_rule_and_is_new_each_time():
    passwords = {temporary_password() for _ in range(20)}
    assert len(passwords) == 20
    assert all(password_problem(p) is None for p in passwords)


def test_a_new_account_gets_a_temporary_password_to_change_at_first_login(session, admin, agency):
    user, password = _staff(session, agency, admin)
    assert (user.username, user.role, user.agency, user.mobile, user.active) == ("li", Role.AGENCY, agency, "13800000000", True)
    assert user.check_password(password) and user.must_change_password
    [entry] = changes(session, "account", user.id)
    assert (entry.action, entry.actor, entry.before) == ("create", "王主任（管理员）", None)
    assert entry.after["agency"] == "市住建局" and entry.after["role"] == "承办单位"
    assert password not in str(entry.after) and "password_hash" not in entry.after


@pytest.mark.parametrize(
    "fields, reason",
    [
        (AccountFields(username="wang", display_name="另一个王", role=Role.DISPATCHER), "已被其他账号使用"),
        (AccountFields(username="WANG", display_name="另一个王", role=Role.DISPATCHER), "已被其他账号使用"),
        (AccountFields(username="zhao", display_name="赵科员", role=Role.AGENCY), "须选定所属承办单位"),
        (AccountFields(username="zhao", display_name="赵科员", role=Role.DEPUTY), "deputy add"),
        (AccountFields(username="zhao qian", display_name="赵科员", role=Role.DISPATCHER), "用户名请用"),
        (AccountFields(username="zhao", display_name=" ", role=Role.DISPATCHER), "请填写姓名"),
        (AccountFields(username="zhao", display_name="赵科员", role=Role.DISPATCHER, mobile="12345"), "手机号"),
    ],
)
def test_bad_input_is_refused_with_the_reason_and_makes_nothing(session, admin, fields, reason):
    with pytest.raises(AccountError, match=reason):
        create_account(session, fields, admin, NOW)
    session.rollback()
    assert _count(session) == 1 and _count(session, ConfigChange) == 0


def test_only_agency_staff_belong_to_an_agency(session, admin, agency):
    user, _ = create_account(session, AccountFields(username="zhao", display_name="赵", role=Role.DISPATCHER, agency_id=agency.id), admin, NOW)
    assert user.agency is None


def test_an_edit_is_logged_with_before_and_after(session, admin, agency):
    user, _ = _staff(session, agency, admin)
    edit_account(session, user, AccountFields(display_name="李科长", role=Role.DISPATCHER), admin, NOW)
    session.commit()
    assert (user.display_name, user.role, user.agency, user.mobile) == ("李科长", Role.DISPATCHER, None, None)
    entry = changes(session, "account", user.id)[0]
    assert entry.action == "edit"
    assert (entry.before["display_name"], entry.after["display_name"]) == ("李科员", "李科长")
    assert (entry.before["agency"], entry.after["agency"]) == ("市住建局", None)


def test_an_edit_that_changes_nothing_logs_nothing(session, admin):
    edit_account(session, admin, AccountFields(display_name="王主任", role=Role.ADMIN), admin, NOW)
    assert changes(session, "account", admin.id) == []


def test_the_last_active_administrator_can_be_neither_demoted_nor_deactivated(session, admin):
    with pytest.raises(AccountError, match="唯一在用的管理员"):
        edit_account(session, admin, AccountFields(display_name="王主任", role=Role.DISPATCHER), admin, NOW)
    with pytest.raises(AccountError, match="唯一在用的管理员"):
        deactivate(session, admin, admin, NOW)
    session.rollback()
    assert (admin.role, admin.active) == (Role.ADMIN, True)


def test_a_reset_ends_the_sessions_and_asks_for_a_new_password(session, admin, agency):
    user, first = _staff(session, agency, admin)
    change_own_password(session, user, first, STRONG, NOW)
    version = user.session_version
    password = reset_password(session, user, admin, NOW)
    session.commit()
    assert user.check_password(password) and not user.check_password(STRONG)
    assert user.must_change_password and user.session_version > version
    assert changes(session, "account", user.id)[0].action == "reset"


def test_deactivating_ends_the_sessions_and_keeps_the_account(session, admin, agency):
    user, _ = _staff(session, agency, admin)
    version = user.session_version
    deactivate(session, user, admin, NOW)
    session.commit()
    assert not user.active and user.session_version > version
    with pytest.raises(AccountError, match="已是停用状态"):
        deactivate(session, user, admin, NOW)
    activate(session, user, None, NOW)
    session.commit()
    assert user.active
    assert [(c.action, c.actor) for c in changes(session, "account", user.id)] == [
        ("activate", "系统"), ("deactivate", "王主任（管理员）"), ("create", "王主任（管理员）"),
    ]
    assert _count(session) == 2


def test_changing_ones_own_password_needs_the_current_one_and_the_rule(session, admin, agency):
    user, first = _staff(session, agency, admin)
    for current, new, reason in [("wrong", STRONG, "当前密码不对"), (first, "short", "至少需要"), (first, first, "不能与当前密码相同")]:
        with pytest.raises(AccountError, match=reason):
            change_own_password(session, user, current, new, NOW)
    assert user.check_password(first) and user.must_change_password
    change_own_password(session, user, first, STRONG, NOW)
    session.commit()
    assert user.check_password(STRONG) and not user.must_change_password
    assert (changes(session, "account", user.id)[0].action, changes(session, "account", user.id)[0].actor) == ("password", "李科员（承办单位）")


def test_an_operator_sets_a_password_that_meets_the_rule(session, admin):
    with pytest.raises(AccountError, match="一类字符"):
        set_password(session, admin, "abcdefghijklmn", None, NOW)
    assert admin.check_password(STRONG)
    set_password(session, admin, "Qiantang-river-88", None, NOW)
    assert admin.check_password("Qiantang-river-88") and not admin.must_change_password
