"""The ticket list (工单查询) on the screen and exported as CSV and XLSX."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from ..helpers import agency_login, ticket
from .test_flow import submit_on_the_station_page

HOUSING = "西湖区文新街道某小区的物业公司擅自上调停车费，每月涨到三百元，还不让业主的车进小区，请住建部门管一管。"
FORMULA = "=HYPERLINK(\"http://example.invalid\",\"点我\") 小区门口的路灯坏了很久"


def test_a_dispatcher_filters_and_exports(client, auth, demo):
    housing, _ = submit_on_the_station_page(client, demo, HOUSING)
    formula, _ = submit_on_the_station_page(client, demo, FORMULA)
    auth.login("dispatcher")

    page = client.get("/tickets/?words=擅自上调停车费").get_data(as_text=True)
    assert housing in page and formula not in page and "共 1 件" in page
    assert client.get("/tickets/?status=nonsense").status_code == 400

    exported = client.get("/tickets/export.csv?words=擅自上调停车费")
    assert exported.mimetype == "text/csv" and "attachment" in exported.headers["Content-Disposition"]
    body = exported.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][0] == "工单号" and [r[0] for r in rows[1:]] == [housing]

    rows = list(csv.reader(io.StringIO(client.get("/tickets/export.csv?words=路灯").get_data().decode("utf-8-sig"))))
    assert rows[1][13] == "'" + FORMULA  # a formula from a resident stays text

    workbook = load_workbook(io.BytesIO(client.get("/tickets/export.xlsx").get_data()))
    sheet = workbook.active
    texts = {row[0].value: row[13] for row in sheet.iter_rows(min_row=2)}
    assert texts[housing].value == HOUSING
    assert texts[formula].value == FORMULA and texts[formula].data_type == "s"


def test_agency_staff_list_and_export_their_own_only(client, auth, demo):
    housing, _ = submit_on_the_station_page(client, demo, HOUSING)
    other, _ = submit_on_the_station_page(client, demo, "公司拖欠工资三个月了，老板一直推脱不发，我们去讨薪没有结果。")
    agency = ticket(demo, housing).agency
    assert ticket(demo, other).agency != agency
    auth.login(agency_login(demo, agency))

    page = client.get("/tickets/").get_data(as_text=True)
    assert housing in page and other not in page
    rows = list(csv.reader(io.StringIO(client.get("/tickets/export.csv").get_data().decode("utf-8-sig"))))
    assert housing in [r[0] for r in rows[1:]] and other not in [r[0] for r in rows[1:]]
    assert {r[8] for r in rows[1:]} == {agency.name}
    assert other not in client.get(f"/tickets/?agency={ticket(demo, other).agency_id or 0}").get_data(as_text=True)


def test_residents_and_deputies_have_no_list(client, auth, demo):
    assert client.get("/tickets/").status_code == 302
    auth.login("deputy")
    assert client.get("/tickets/export.csv").status_code == 403
