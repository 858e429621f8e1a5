"""Hotline exports for dispatchers (热线工单导入): uploaded on the desk,
checked at once, imported by a job; and the same from the command line."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from routing.clock import now as city_now
from routing.store.imports import TicketImport
from routing.store.tickets import Message, Ticket
from routing.store.workers import run_pending

from ..collector.test_hotline_import import rows, write
from ..conftest import post_form
from ..helpers import agency_login


def hotline_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Message).where(Message.channel == "hotline"))


def upload(client, name: str, content: bytes):
    return post_form(
        client, "/desk/imports", {"export": (io.BytesIO(content), name)},
        content_type="multipart/form-data", follow_redirects=True,
    )


def test_a_dispatcher_uploads_an_export_and_a_job_imports_it(app, client, auth, demo, tmp_path):
    auth.login("dispatcher")
    assert "热线工单导入" in client.get("/desk/").get_data(as_text=True)
    content = write(tmp_path / "export.csv", rows()).read_bytes()
    page = upload(client, "12345-export.csv", content).get_data(as_text=True)
    assert "已开始导入" in page and "12345-export.csv" in page
    run = demo.scalar(select(TicketImport))
    assert run.rows == 3 and run.status == "queued" and hotline_count(demo) == 0
    services = app.extensions["tingjian"]
    run_pending(services.db, services.jobs, city_now)
    demo.expire_all()
    assert hotline_count(demo) == 3
    run = demo.scalar(select(TicketImport))
    assert run.status == "done" and run.figures["imported"] == 3 and run.figures["unknown_agency"]
    html = client.get("/desk/imports").get_data(as_text=True)
    assert "已完成" in html


def test_a_bad_file_is_refused_on_the_page_with_every_fault_and_nothing_stored(client, auth, demo, tmp_path):
    auth.login("dispatcher")
    bad = rows() + [["", "一行没有工单号的诉求内容", "", "abc", "", "", "", ""]]
    response = upload(client, "export.csv", write(tmp_path / "export.csv", bad).read_bytes())
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "第 5 行 工单号 列为空" in html and "第 5 行 联系电话 列" in html and "未导入任何工单" in html
    assert demo.scalar(select(func.count()).select_from(TicketImport)) == 0 and hotline_count(demo) == 0


def test_a_file_of_another_kind_is_refused(client, auth, demo):
    auth.login("dispatcher")
    response = upload(client, "export.pdf", b"%PDF-1.4")
    assert response.status_code == 400 and "不是 CSV 或 XLSX 文件" in response.get_data(as_text=True)


def test_only_dispatchers_and_administrators_import(client, auth, demo):
    from routing.store.people import Agency

    agency = demo.scalar(select(Agency).where(Agency.name == "拱墅区人民政府"))
    auth.login(agency_login(demo, agency))
    assert client.get("/desk/imports").status_code in (302, 403)
    response = client.post("/desk/imports", data={}, content_type="multipart/form-data")
    assert response.status_code in (302, 400, 403)
    assert demo.scalar(select(func.count()).select_from(TicketImport)) == 0


def test_the_command_imports_with_figures_and_a_second_run_skips_everything(runner, demo, tmp_path):
    path = write(tmp_path / "export.xlsx", rows())
    first = runner.invoke(args=["import", "tickets", str(path)])
    assert first.exit_code == 0, first.output
    assert "导入 3 张工单" in first.output and "已导入过 0" in first.output
    tickets = demo.scalar(select(func.count()).select_from(Ticket))
    second = runner.invoke(args=["import", "tickets", str(path)])
    assert second.exit_code == 0 and "导入 0 张工单" in second.output and "已导入过 3" in second.output
    assert demo.scalar(select(func.count()).select_from(Ticket)) == tickets


def test_the_command_names_the_faults_and_exits_non_zero(runner, demo, tmp_path):
    path = write(tmp_path / "export.csv", rows() + [["RX2026120300001", "重复的工单号也是错误", "", "", "", "", "", ""]])
    result = runner.invoke(args=["import", "tickets", str(path)])
    assert result.exit_code != 0
    assert "第 5 行 工单号“RX2026120300001”与第 2 行重复" in result.output and "未导入任何工单" in result.output
    assert hotline_count(demo) == 0
    checked = runner.invoke(args=["import", "tickets", "--check", str(write(tmp_path / "ok.csv", rows()))])
    assert checked.exit_code == 0 and "文件无误：3 行" in checked.output and hotline_count(demo) == 0
