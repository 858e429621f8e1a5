"""Exports (导出) as a spreadsheet reads them: one content type, and no text a
resident typed can break the file for the staff who download it."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from ..helpers import ticket
from .test_flow import submit_on_the_station_page

CSV_ROUTES = ["/tickets/export.csv", "/scorecards.csv", "/scorecards/deputy-suggestions.csv"]


@pytest.mark.parametrize("url", CSV_ROUTES)
def test_a_csv_export_names_its_charset_once(client, auth, demo, url):
    auth.login("dispatcher")
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment")


def test_a_control_character_in_a_text_does_not_break_the_xlsx_export(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo, "小区门口的路灯坏了很久，晚上很黑。")
    stored = ticket(demo, number)
    # Pasted from another program: a form feed and a bell are legal in the
    # database and on the page, but not in an XLSX cell.
    stored.text = "小区门口的路灯\x0c坏了\x07很久"
    demo.commit()
    auth.login("dispatcher")

    response = client.get("/tickets/export.xlsx")

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    texts = {row[0].value: row[13].value for row in sheet.iter_rows(min_row=2)}
    assert texts[number] == "小区门口的路灯坏了很久"
