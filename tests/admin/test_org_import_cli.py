"""``flask --app admin import org``: the organisation from a spreadsheet."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func, select

from routing.store.people import Agency, User

SAMPLE = Path(__file__).parents[2] / "docs" / "samples" / "organisation.xlsx"


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_the_sample_imports_and_prints_each_new_password_once(runner, session):
    result = runner.invoke(args=["import", "org", str(SAMPLE)])

    assert result.exit_code == 0, result.output
    assert "单位：已新建 2，已更新 0，无变化 0" in result.output
    assert "新账号的临时密码（只显示这一次，首次登录须修改）" in result.output
    line = next(line for line in result.output.splitlines() if line.strip().startswith("lijun（李军）："))
    password = line.split("：", 1)[1]
    user = session.scalar(select(User).where(User.username == "lijun"))
    assert user.check_password(password) and user.must_change_password
    assert _count(session, Agency) == 2


def test_a_second_run_reports_nothing_new_and_no_passwords(runner, session):
    runner.invoke(args=["import", "org", str(SAMPLE)])

    again = runner.invoke(args=["import", "org", str(SAMPLE)])

    assert again.exit_code == 0, again.output
    assert "已新建 1" not in again.output and "已新建 2" not in again.output
    assert "账号：已新建 0，已更新 0，无变化 2" in again.output
    assert "临时密码" not in again.output


def test_check_says_what_would_change_and_imports_nothing(runner, session):
    result = runner.invoke(args=["import", "org", "--check", str(SAMPLE)])

    assert result.exit_code == 0, result.output
    assert "检查无误，未导入" in result.output and "账号：将新建 2" in result.output
    assert "临时密码" not in result.output
    assert _count(session, Agency) == 0 and _count(session, User) == 0


def test_a_bad_file_names_every_problem_and_fails(runner, session, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "账号"
    sheet.append(["用户名", "姓名", "角色"])
    sheet.append(["wangfang", "", "分拨员"])
    sheet.append(["lijun", "李军", "厨师"])
    path = tmp_path / "bad.xlsx"
    book.save(path)

    result = runner.invoke(args=["import", "org", str(path)])

    assert result.exit_code == 1
    assert "账号 表第 2 行 姓名 列：为空" in result.output
    assert "账号 表第 3 行 角色 列：没有“厨师”这个角色" in result.output
    assert "未导入任何内容" in result.output
    assert _count(session, User) == 0
