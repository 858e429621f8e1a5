"""Importing a city's historical tickets from CSV or XLSX: all or nothing, once per row."""

from __future__ import annotations

import csv
from datetime import datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from collector.history import HistoryImportError, import_history
from routing.store.people import Agency
from routing.store.tickets import HistoricalTicket

NOW = datetime(2026, 11, 26, 9, 0)


@pytest.fixture
def agencies(session):
    for name in ("市人社局", "市交通运输局", "市城管局"):
        session.add(Agency(name=name))
    session.commit()


def write_csv(path, header, rows):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def stored(session):
    session.expire_all()
    return list(session.scalars(select(HistoricalTicket).order_by(HistoricalTicket.id)))


def test_a_csv_is_imported_with_its_optional_columns(session, agencies, tmp_path):
    path = write_csv(tmp_path / "hotline.csv", ["number", "text", "agency", "topic", "created"], [
        ("12345-1", "公司拖欠工资三个月", "市人社局", "劳动和社会保障/工资", "2024-05-01"),
        ("12345-2", "公交车太少等很久", " 市交通运输局 ", "", "2024/5/2 08:30"),
    ])
    report = import_history(session, path, NOW)
    assert (report.read, report.added, report.already_stored) == (2, 2, 0)
    first, second = stored(session)
    assert (first.text, first.agency.name, first.topic, first.number) == ("公司拖欠工资三个月", "市人社局", "劳动和社会保障/工资", "12345-1")
    assert first.created_at == datetime(2024, 5, 1) and second.created_at == datetime(2024, 5, 2, 8, 30)
    assert second.agency.name == "市交通运输局" and second.topic is None
    assert first.source == "hotline.csv" and first.imported_at == NOW


def test_an_xlsx_export_with_chinese_headers_and_date_cells(session, agencies, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["工单号", "诉求内容", "承办单位", "受理时间"])
    sheet.append(["A1", "路边摊占道经营", "市城管局", datetime(2023, 3, 4, 10, 15)])
    sheet.append(["A2", "网约车乱收费", "市交通运输局", None])
    sheet.append([None, None, None, None])  # spreadsheets end with empty rows
    path = tmp_path / "export.xlsx"
    book.save(path)

    report = import_history(session, path, NOW)
    assert report.added == 2
    rows = stored(session)
    assert [(r.number, r.agency.name) for r in rows] == [("A1", "市城管局"), ("A2", "市交通运输局")]
    assert rows[0].created_at == datetime(2023, 3, 4, 10, 15) and rows[1].created_at is None


def test_bad_rows_are_named_by_row_and_column_and_nothing_is_imported(session, agencies, tmp_path):
    path = write_csv(tmp_path / "bad.csv", ["text", "agency", "created"], [
        ("公司拖欠工资", "市人社局", "2024-05-01"),
        ("", "市人社局", ""),
        ("公交太少", "", "去年"),
    ])
    with pytest.raises(HistoryImportError) as failed:
        import_history(session, path, NOW)
    assert "未导入任何数据" in str(failed.value)
    assert failed.value.errors == [
        "第 3 行 text 列为空",
        "第 4 行 agency 列为空",
        "第 4 行 created 列“去年”不是日期（写作 2024-05-01）",
    ]
    assert stored(session) == []


def test_a_file_without_the_required_columns_says_which(session, agencies, tmp_path):
    path = write_csv(tmp_path / "wrong.csv", ["text", "label"], [("公司拖欠工资", "市人社局")])
    with pytest.raises(HistoryImportError, match="缺少列 agency"):
        import_history(session, path, NOW)
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"not a workbook")
    with pytest.raises(HistoryImportError, match="无法读取"):
        import_history(session, garbage, NOW)


def test_importing_again_stores_each_row_once(session, agencies, tmp_path):
    rows = [("公司拖欠工资", "市人社局"), ("公交太少", "市交通运输局"), ("公司拖欠工资", "市人社局")]
    path = write_csv(tmp_path / "h.csv", ["text", "agency"], rows)
    first = import_history(session, path, NOW)
    assert (first.added, first.already_stored) == (2, 1)  # the repeated row in the file
    # The same export again, one name typed with full-width spaces: nothing new.
    again = write_csv(tmp_path / "h2.csv", ["text", "agency"], [("公司拖欠工资\u3000", "市人社局"), ("公交太少", "市交通运输局")])
    second = import_history(session, again, NOW)
    assert (second.added, second.already_stored) == (0, 2)
    assert session.scalar(select(func.count()).select_from(HistoricalTicket)) == 2
    # The same text answered by another agency is another example.
    other = write_csv(tmp_path / "h3.csv", ["text", "agency"], [("公交太少", "市城管局")])
    assert import_history(session, other, NOW).added == 1


def test_unknown_agencies_stop_the_import_unless_skipped(session, agencies, tmp_path):
    path = write_csv(tmp_path / "h.csv", ["text", "agency"], [
        ("公司拖欠工资", "市人社局"), ("井盖丢了", "市城市管理局"), ("路灯不亮", "市城市管理局"), ("噪音", "区环保局"),
    ])
    with pytest.raises(HistoryImportError, match="2 个承办单位不在系统中") as failed:
        import_history(session, path, NOW)
    assert failed.value.errors[:2] == ["“区环保局”：1 行（第 5 行）", "“市城市管理局”：2 行（第 3、4 行）"]
    assert "--skip-unknown" in failed.value.errors[-1] and "添加该承办单位" in failed.value.errors[-1]
    assert stored(session) == []

    report = import_history(session, path, NOW, skip_unknown=True)
    assert report.added == 1 and sorted(report.unknown) == ["区环保局", "市城市管理局"]
    assert [r.text for r in stored(session)] == ["公司拖欠工资"]


def refusal(session, path, **options) -> HistoryImportError:
    """The error an import of ``path`` stops with."""
    with pytest.raises(HistoryImportError) as failed:
        import_history(session, path, NOW, **options)
    return failed.value


def test_one_run_names_every_bad_row_and_every_unknown_agency_and_says_what_to_do(session, agencies, tmp_path):
    # A bad date at a known agency, an unknown agency on a good row, and both on one row.
    rows = [("公司拖欠工资", "市人社局", "去年"), ("井盖丢了", "市城市管理局", "2024-05-01"), ("噪音扰民", "区环保局", "上个月")]
    path = write_csv(tmp_path / "h.csv", ["text", "agency", "created"], rows)
    error = refusal(session, path)
    assert "2 处错误" in str(error) and "2 个承办单位不在系统中" in str(error) and "未导入任何数据" in str(error)
    assert "改正" in str(error) and "重新导入" in str(error)
    assert error.errors[:4] == [
        "第 2 行 created 列“去年”不是日期（写作 2024-05-01）",
        "第 4 行 created 列“上个月”不是日期（写作 2024-05-01）",
        "“区环保局”：1 行（第 4 行）",
        "“市城市管理局”：1 行（第 3 行）",
    ]
    assert "--skip-unknown" in error.errors[-1]
    assert stored(session) == []
    # Skipping the unknown agencies does not let the bad dates through.
    skipped = refusal(session, path, skip_unknown=True)
    assert "2 处错误" in str(skipped) and "承办单位" not in str(skipped)
    assert stored(session) == []
