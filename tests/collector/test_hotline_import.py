"""A 12345 hotline's export as tickets (热线工单导入): each row is read,
placed and routed as a message on any channel would be, or given to the
agency the hotline named; the hotline's number makes a second import change
nothing; a file with anything wrong imports nothing and names every fault."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from collector.hotline import CHANNEL, HotlineImportError, check_export, import_export
from routing.store.people import Agency
from routing.store.tickets import Kind, Message, Status, Ticket

HEADER = ["工单号", "诉求内容", "诉求人", "联系电话", "诉求地址", "受理时间", "诉求类型", "承办单位"]
LAMP = "西湖区文新街道文三路上的路灯坏了好几天，晚上很黑，请尽快修复。"
NOISE = "拱墅区一工地夜间施工噪音扰民，凌晨两点还在打桩，严重影响休息。"
BUS = "请问从西湖区到萧山机场的公交线路和首末班时间是怎样的？"
NOW = datetime(2026, 12, 3, 10, 0)


def write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    if path.suffix == ".xlsx":
        book = Workbook()
        sheet = book.active
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        book.save(path)
    else:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    return path


def rows() -> list[list[str]]:
    return [
        ["RX2026120300001", LAMP, "李女士", "13812345678", "文三路 88 号", "2026-12-01 09:30", "投诉", ""],
        ["RX2026120300002", NOISE, "王先生", "", "", "2026/12/01 10:00", "投诉", "拱墅区人民政府"],
        ["RX2026120300003", BUS, "", "", "", "", "咨询", "某个系统里没有的单位"],
    ]


@pytest.fixture
def classifier(app):
    return app.extensions["tingjian"].classifier.current()


def run(session, path, classifier):
    return import_export(session, path, classifier, lambda: NOW, threshold=0.5)


def hotline_tickets(session) -> dict[str, Ticket]:
    messages = session.scalars(select(Message).where(Message.channel == CHANNEL)).all()
    return {m.external_id: m.ticket for m in messages}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_each_row_becomes_a_ticket_of_the_hotline_routed_like_any_other(demo, classifier, tmp_path, suffix):
    figures = run(demo, write(tmp_path / f"export{suffix}", rows()), classifier)
    tickets = hotline_tickets(demo)
    assert set(tickets) == {"RX2026120300001", "RX2026120300002", "RX2026120300003"}
    lamp = tickets["RX2026120300001"]
    assert lamp.channel == "hotline" and lamp.text == LAMP
    assert lamp.contact_name == "李女士" and lamp.contact_phone == "13812345678"
    assert lamp.location_text == "文三路 88 号"
    assert lamp.district is not None and lamp.district.name == "西湖区"
    assert lamp.status is Status.ASSIGNED and lamp.agency is not None  # by the routing rules, as the form would
    payload = lamp.messages[0].payload
    assert payload["hotline_number"] == "RX2026120300001" and payload["hotline_received_at"] == "2026-12-01T09:30"
    assert tickets["RX2026120300003"].kind is Kind.CONSULTATION
    assert figures.rows == 3 and figures.imported == 3 and figures.already == 0
    assert figures.routed + figures.triage == 3
    assert figures.unknown_agency == {"某个系统里没有的单位": 1}


def test_an_agency_the_hotline_named_gets_the_ticket_when_tingjian_knows_it(demo, classifier, tmp_path):
    run(demo, write(tmp_path / "export.csv", rows()), classifier)
    noise = hotline_tickets(demo)["RX2026120300002"]
    assert noise.status is Status.ASSIGNED and noise.agency.name == "拱墅区人民政府"
    assign = [e for e in noise.events if e.action == "assign"]
    assert assign and assign[-1].reason == "热线已派单" and noise.answer_by is not None


def test_an_unknown_agency_is_not_an_error_the_classifier_routes_the_row(demo, classifier, tmp_path):
    run(demo, write(tmp_path / "export.csv", rows()), classifier)
    bus = hotline_tickets(demo)["RX2026120300003"]
    assert bus.agency is None or bus.agency.name != "某个系统里没有的单位"
    assert demo.scalar(select(func.count()).select_from(Agency).where(Agency.name == "某个系统里没有的单位")) == 0


def test_importing_again_or_a_later_export_of_the_same_tickets_changes_nothing(demo, classifier, tmp_path):
    run(demo, write(tmp_path / "export.csv", rows()), classifier)
    before = {n: (t.id, t.text, t.status, t.agency_id, t.version) for n, t in hotline_tickets(demo).items()}
    later = rows()
    later[0][1] = LAMP + "（热线回访后补充：仍未修复）"
    later[1][7] = "市城管局"
    later.append(["RX2026120300004", NOISE.replace("拱墅区", "上城区"), "", "", "", "", "投诉", ""])
    figures = run(demo, write(tmp_path / "later.csv", later), classifier)
    demo.expire_all()
    after = {n: (t.id, t.text, t.status, t.agency_id, t.version) for n, t in hotline_tickets(demo).items()}
    assert {n: after[n] for n in before} == before
    assert figures.already == 3 and figures.imported == 1 and "RX2026120300004" in after


def test_a_file_with_faults_names_every_bad_row_and_column_and_imports_nothing(demo, classifier, tmp_path):
    bad = rows() + [
        ["", LAMP, "", "", "", "", "", ""],
        ["RX5", "短", "", "12ab", "", "昨天", "", ""],
        ["RX2026120300001", NOISE, "", "", "", "", "", ""],
    ]
    with pytest.raises(HotlineImportError) as refused:
        run(demo, write(tmp_path / "export.csv", bad), classifier)
    lines = refused.value.errors
    assert "第 5 行 工单号 列为空" in lines
    assert any(line.startswith("第 6 行 诉求内容 列") for line in lines)
    assert any(line.startswith("第 6 行 联系电话 列") for line in lines)
    assert any(line.startswith("第 6 行 受理时间 列") for line in lines)
    assert any(line.startswith("第 7 行 工单号") and "第 2 行重复" in line for line in lines)
    assert "5 处错误" in str(refused.value) and "未导入任何工单" in str(refused.value)
    assert hotline_tickets(demo) == {}
    assert demo.scalar(select(func.count()).select_from(Ticket)) == demo.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.channel != CHANNEL)
    )


def test_a_file_without_the_required_columns_says_which_are_missing(tmp_path):
    path = write(tmp_path / "export.csv", [["1", LAMP]], header=["编号2", "内容X"])
    with pytest.raises(HotlineImportError, match="缺少列 工单号、诉求内容"):
        check_export(path)


def test_a_file_that_is_no_spreadsheet_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "export.xlsx"
    path.write_bytes(b"not a workbook")
    with pytest.raises(HotlineImportError, match="请确认是 CSV 或 XLSX 文件"):
        check_export(path)


def test_a_matter_already_open_is_counted_as_a_possible_duplicate(demo, classifier, tmp_path):
    run(demo, write(tmp_path / "first.csv", rows()[:1]), classifier)
    again = [["RX9", LAMP.replace("好几天", "一个星期"), "", "", "", "", "投诉", ""]]
    figures = run(demo, write(tmp_path / "second.csv", again), classifier)
    assert figures.imported == 1 and figures.duplicates == 1


def test_duplicates_are_searched_by_each_rows_heaviest_terms_only(demo, classifier, tmp_path, monkeypatch):
    """A row's common terms are left out of the search: their postings grow
    with every row imported, and a retelling of the matter shares its rare ones."""
    from classifier.similar import fingerprint
    from collector import hotline

    searched = []
    real = hotline.similar_open

    def spy(session, fp, since, **kwargs):
        searched.append(list(fp))
        return real(session, fp, since, **kwargs)

    monkeypatch.setattr(hotline, "similar_open", spy)
    run(demo, write(tmp_path / "first.csv", rows()[:1]), classifier)
    again = [["RX9", LAMP.replace("好几天", "一个星期"), "", "", "", "", "投诉", ""]]
    figures = run(demo, write(tmp_path / "second.csv", again), classifier)
    assert figures.duplicates == 1  # still found by the heaviest terms
    heaviest = list(fingerprint(again[0][1]))[: hotline.SEARCH_TERMS]
    assert searched[-1] == heaviest and len(fingerprint(again[0][1])) > hotline.SEARCH_TERMS


def test_the_duplicate_search_is_bounded_to_the_rows_district_as_the_desks_is(demo, classifier, tmp_path):
    run(demo, write(tmp_path / "first.csv", rows()[:1]), classifier)
    elsewhere = LAMP.replace("西湖区文新街道文三路", "拱墅区湖墅南路").replace("好几天", "一个星期")
    same = LAMP.replace("好几天", "一个星期")
    figures = run(demo, write(tmp_path / "other.csv", [["RX8", elsewhere, "", "", "", "", "投诉", ""]]), classifier)
    assert figures.imported == 1 and figures.duplicates == 0
    figures = run(demo, write(tmp_path / "same.csv", [["RX9", same, "", "", "", "", "投诉", ""]]), classifier)
    assert figures.imported == 1 and figures.duplicates == 1


def test_within_one_file_an_earlier_row_of_another_district_is_no_duplicate(demo, classifier, tmp_path):
    elsewhere = LAMP.replace("西湖区文新街道文三路", "拱墅区湖墅南路").replace("好几天", "一个星期")
    lines = [["RX1", LAMP, "", "", "", "", "投诉", ""], ["RX2", elsewhere, "", "", "", "", "投诉", ""]]
    figures = run(demo, write(tmp_path / "two.csv", lines), classifier)
    assert figures.imported == 2 and figures.duplicates == 0
    third = [["RX3", LAMP.replace("好几天", "三天"), "", "", "", "", "", ""]]
    figures = run(demo, write(tmp_path / "three.csv", third), classifier)
    assert figures.duplicates == 1
    districts = {number: ticket.district.name for number, ticket in hotline_tickets(demo).items()}
    assert districts["RX1"] == districts["RX3"] == "西湖区" and districts["RX2"] == "拱墅区"
