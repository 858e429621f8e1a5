"""Importing the organisation from a spreadsheet (routing.store.org_import):
the sample file, every error at once, nothing on error, a second run, formulas, headers."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from docs.samples.make_sample import SHEETS
from routing.store.areas import District, Station, Street
from routing.store.audit import changes
from routing.store.configuration import ConfigChange
from routing.store.deputies import Deputy, DeputyLevel, DeputyStation
from routing.store.org_import import SUBJECT, OrgImportError, import_org
from routing.store.people import Agency, Role, User

NOW = datetime(2026, 12, 3, 9, 0)
SAMPLE = Path(__file__).parents[3] / "docs" / "samples" / "organisation.xlsx"


def workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def counts(session) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count()).select_from(model)) for model in (District, Street, Agency, User, Station))


def test_the_sample_file_imports_the_small_city_it_describes(session, tmp_path):
    report = import_org(session, SAMPLE, None, NOW)

    assert report.applied and report.new == 8  # 1 district, 2 streets; 2 agencies; 2 accounts; 1 station
    street_office = session.scalar(select(Agency).where(Agency.name == "青山区和平街道办事处"))
    assert (street_office.kind, street_office.street.name, street_office.district.name) == (
        "street_office", "和平街道", "青山区")
    assert street_office.supervisor.name == "青山区人民政府"
    staff = session.scalar(select(User).where(User.username == "lijun"))
    assert (staff.role, staff.agency, staff.must_change_password) == (Role.AGENCY, street_office, True)
    dispatcher = session.scalar(select(User).where(User.username == "wangfang"))
    assert (dispatcher.role, dispatcher.mobile, dispatcher.im_user_id) == (Role.DISPATCHER, "13800000001", "WangFang")
    station = session.scalar(select(Station))
    assert (station.name, station.district.name, station.street.name) == ("和平街道人大代表联络站", "青山区", "和平街道")
    # Each new account's temporary password, once, for the person importing; it opens the account.
    passwords = {login: password for login, _, password in report.passwords}
    assert set(passwords) == {"wangfang", "lijun"} and staff.check_password(passwords["lijun"])
    # The change log has every new thing and the import itself.
    assert [c.action for c in changes(session, "agency")] == ["create", "create"]
    assert [c.action for c in changes(session, "account")] == ["create", "create"]
    assert changes(session, SUBJECT)[0].after["accounts"] == {"created": 2, "updated": 0, "unchanged": 0}
    # …and never a password.
    logged = " ".join(f"{c.before} {c.after} {c.summary}" for c in session.scalars(select(ConfigChange)))
    assert passwords["lijun"] not in logged and passwords["wangfang"] not in logged


def test_a_second_run_updates_nothing_and_reports_nothing_new(session, tmp_path):
    path = SAMPLE
    import_org(session, path, None, NOW)
    logged = session.scalar(select(func.count()).select_from(ConfigChange))
    before = counts(session)

    again = import_org(session, path, None, NOW)

    assert again.new == 0 and again.passwords == []
    assert all(not k.updated for k in again.kinds.values())
    assert counts(session) == before
    assert session.scalar(select(func.count()).select_from(ConfigChange)) == logged + 1  # the run itself only


def test_an_existing_row_is_updated_and_logged(session, tmp_path):
    import_org(session, SAMPLE, None, NOW)
    path = workbook(tmp_path / "change.xlsx", {
        "账号": [["用户名", "姓名", "角色", "启用"], ["wangfang", "王芳芳", "分拨员", "否"]],
    })

    report = import_org(session, path, None, NOW)

    user = session.scalar(select(User).where(User.username == "wangfang"))
    assert report.kinds["accounts"].updated == ["wangfang"] and report.new == 0
    assert (user.display_name, user.active, user.mobile) == ("王芳芳", False, "13800000001")  # no 手机号 column: kept
    assert [c.action for c in changes(session, "account", user.id)][:2] == ["deactivate", "edit"]


def test_every_bad_row_and_column_is_named_at_once_and_nothing_is_imported(session, tmp_path):
    path = workbook(tmp_path / "bad.xlsx", {
        "街道": [["区县", "街道"], ["青山区", "和平街道"], ["", "无区街道"]],
        "单位": [["名称", "类型", "区县", "上级督办单位"],
                 ["青山区人民政府", "区政府", "青山区", ""],
                 ["市水务", "水厂", "白山区", "市政府"],
                 ["青山区人民政府", "", "", ""]],
        "账号": [["用户名", "姓名", "角色", "所属单位", "手机号", "启用"],
                 ["li jun", "李军", "承办单位", "", "123", "也许"],
                 ["wang", "王芳", "厨师", "", "", ""]],
        "联络站": [["名称", "区县", "街道", "代表"], ["一号站", "青山区", "滨江街道", "张三"]],
    })

    with pytest.raises(OrgImportError) as raised:
        import_org(session, path, None, NOW)

    errors = "\n".join(raised.value.errors)
    for expected in (
        "街道 表第 3 行 区县 列：为空",
        "单位 表第 3 行 类型 列：没有“水厂”这种单位类型",
        "单位 表第 3 行 区县 列：系统中没有“白山区”",
        "单位 表第 3 行 上级督办单位 列：没有“市政府”这个单位",
        "单位 表第 4 行 名称 列：与第 2 行重复",
        "账号 表第 2 行 用户名 列：“li jun”不行",
        "账号 表第 2 行 所属单位 列：为空",
        "账号 表第 2 行 手机号 列：“123”不是手机号",
        "账号 表第 2 行 启用 列：“也许”应为 是 或 否",
        "账号 表第 3 行 角色 列：没有“厨师”这个角色",
        "联络站 表第 2 行 街道 列：青山区没有“滨江街道”",
        "联络站 表第 2 行 代表 列：没有名叫“张三”的代表",
    ):
        assert expected in errors
    assert counts(session) == (0, 0, 0, 0, 0)


def test_a_problem_found_while_saving_rolls_back_the_rows_before_it(session, tmp_path):
    session.add(User(username="Admin", display_name="管理员", role=Role.ADMIN, password_hash="x"))
    session.commit()
    path = workbook(tmp_path / "late.xlsx", {
        "街道": [["区县", "街道"], ["青山区", "和平街道"]],
        # A login that differs only by case: the accounts service refuses it.
        "账号": [["用户名", "姓名", "角色"], ["ADMIN2", "甲", "分拨员"], ["admin", "乙", "分拨员"]],
    })

    with pytest.raises(OrgImportError) as raised:
        import_org(session, path, None, NOW)

    assert any("账号 表第 3 行" in line for line in raised.value.errors)
    assert counts(session) == (0, 0, 0, 1, 0)


def test_checking_only_reports_what_would_change_and_keeps_nothing(session, tmp_path):
    report = import_org(session, SAMPLE, None, NOW, check_only=True)

    assert not report.applied and report.new == 8 and report.passwords == []
    assert "单位：将新建 2" in report.lines()[1]
    assert counts(session) == (0, 0, 0, 0, 0)


def test_a_formula_or_a_formula_looking_cell_is_refused(session, tmp_path):
    path = workbook(tmp_path / "formula.xlsx", {
        "街道": [["区县", "街道"], ["=A1&\"区\"", "和平街道"], ["青山区", "@SUM(1)"]],
    })

    with pytest.raises(OrgImportError) as raised:
        import_org(session, path, None, NOW)

    assert raised.value.errors == [
        "街道 表第 2 行 区县 列：“=A1&\"区\"”像公式，请填写值本身（不要以 = + - @ 开头）",
        "街道 表第 3 行 街道 列：“@SUM(1)”像公式，请填写值本身（不要以 = + - @ 开头）",
    ]
    assert counts(session) == (0, 0, 0, 0, 0)


def test_wrong_headers_and_unknown_sheets_are_named_with_the_right_ones(session, tmp_path):
    path = workbook(tmp_path / "headers.xlsx", {
        "单位": [["单位名", "类型"], ["市水务", "公用事业单位"]],
        "联络站": [["name", "district", "电话"], ["一号站", "青山区", "123"]],
        "Sheet1": [["x"]],
    })

    with pytest.raises(OrgImportError) as raised:
        import_org(session, path, None, NOW)

    errors = raised.value.errors
    assert "单位 表第 1 行：不认识的列“单位名”，可用的列为 名称、简称、类型、区县、街道、上级督办单位" in errors
    assert "单位 表第 1 行：缺少必需的列 名称" in errors
    assert any(line.startswith("联络站 表第 1 行：不认识的列“电话”") for line in errors)
    assert any(line.startswith("不认识的工作表“Sheet1”") for line in errors)


def test_a_csv_file_is_the_sheet_its_name_says_with_english_headers(session, tmp_path):
    path = tmp_path / "streets.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["district", "street"], ["青山区", "和平街道"], ["青山区", "滨江街道"]])

    report = import_org(session, path, None, NOW)

    assert report.kinds["streets"].created == ["青山区", "青山区和平街道", "青山区滨江街道"]
    with pytest.raises(OrgImportError, match="CSV 文件名须写明是哪张表"):
        import_org(session, path, None, NOW, name="export.csv")


def test_a_station_names_its_deputies_and_the_change_is_logged(session, tmp_path):
    import_org(session, SAMPLE, None, NOW)
    user = User(username="zhaomin", display_name="赵敏", role=Role.DEPUTY, password_hash="x")
    session.add(user)
    session.flush()
    session.add(Deputy(user_id=user.id, name="赵敏", level=DeputyLevel.DISTRICT))
    session.commit()
    rows = [list(row) for row in SHEETS["联络站"]]
    rows[1][4] = "赵敏"
    path = workbook(tmp_path / "stations.xlsx", {"联络站": rows})

    report = import_org(session, path, None, NOW)

    station = session.scalar(select(Station))
    assert report.kinds["stations"].updated == [station.name]
    assert session.scalar(select(DeputyStation.deputy_id).where(DeputyStation.station_id == station.id)) is not None
    assert changes(session, "station", station.id)[0].after == {"deputies": "赵敏"}
    assert import_org(session, path, None, NOW).kinds["stations"].unchanged == 1
