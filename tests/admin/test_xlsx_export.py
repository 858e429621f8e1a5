"""The XLSX exports as a spreadsheet reads them: times are dates, columns as
wide as their content, a filter on the header row, the header in view, and
the place, station and urgency of each ticket."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from admin.exports import NARROWEST, WIDEST, XLSX_TIME, to_xlsx

from ..helpers import ticket
from .test_flow import submit_on_the_station_page

MARCH = "period=custom&start=2026-03-01&end=2026-03-31"


def workbook_of(response):
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.get_data()))


def test_the_ticket_list_workbook_has_dates_widths_a_filter_and_the_new_columns(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo, "小区门口的路灯坏了很久，晚上很黑，老人出门容易摔倒。" * 4)
    stored = ticket(demo, number)
    auth.login("dispatcher")

    sheet = workbook_of(client.get("/tickets/export.xlsx")).active

    header = [cell.value for cell in sheet[1]]
    assert header[-2:] == ["紧急程度", "联络站"] and {"区县", "街道"} <= set(header)
    last = get_column_letter(len(header))
    assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}" and sheet.freeze_panes == "A2"
    row = next(line for line in sheet.iter_rows(min_row=2) if line[0].value == number)
    cells = dict(zip(header, row))
    received = cells["受理时间"]
    assert received.is_date and received.value == stored.created_at and received.number_format == XLSX_TIME
    assert cells["答复时限"].value == stored.answer_by and cells["答复时限"].is_date
    assert cells["答复时间"].value is None  # not answered yet: an empty cell, not an empty text
    assert cells["区县"].value == stored.district.name
    assert cells["联络站"].value == "文新街道人大代表联络站" and cells["紧急程度"].value == stored.urgency.label
    widths = {name: sheet.column_dimensions[get_column_letter(i)].width for i, name in enumerate(header, start=1)}
    # The complaint is longer than any screen: its column stops at the widest.
    assert widths["反映内容"] == WIDEST
    assert widths["受理时间"] == len(XLSX_TIME) + 2
    # A Chinese character takes two widths: the column fits the longest station name, and a little room.
    stations = [line[header.index("联络站")] for line in sheet.iter_rows(min_row=2, values_only=True)]
    assert widths["联络站"] == min(max(2 * len(name or "") for name in stations) + 2, WIDEST)


def test_the_csv_gains_the_same_columns_and_keeps_its_times_as_text(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo, "小区门口的路灯坏了很久，晚上很黑。")
    stored = ticket(demo, number)
    auth.login("dispatcher")

    body = client.get("/tickets/export.csv").get_data().decode("utf-8-sig")

    rows = list(csv.reader(io.StringIO(body)))
    header, line = rows[0], next(row for row in rows if row[0] == number)
    assert header[-2:] == ["紧急程度", "联络站"]
    assert line[-2:] == [stored.urgency.label, "文新街道人大代表联络站"]
    assert line[header.index("受理时间")] == f"{stored.created_at:%Y-%m-%d %H:%M}"
    assert line[header.index("答复时间")] == ""


def test_the_scorecard_workbook_keeps_the_agency_in_view_and_filters(client, auth, demo):
    auth.login("admin")

    sheet = workbook_of(client.get(f"/scorecards.xlsx?{MARCH}"))["办理质效"]

    header = [cell.value for cell in sheet[1]]
    assert header[0] == "承办单位"
    assert sheet.freeze_panes == "B2"
    assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(header))}{sheet.max_row}"
    agencies = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    longest = max(2 * len(name) for name in agencies)
    assert sheet.column_dimensions["A"].width == min(longest + 2, WIDEST)


def test_a_time_with_a_zone_becomes_city_time_and_a_formula_stays_text():
    utc = datetime(2026, 12, 31, 17, 30, tzinfo=timezone.utc)  # 01:30 on New Year's Day in the city

    formula = '=HYPERLINK("http://x")'

    sheet = load_workbook(io.BytesIO(to_xlsx([["时间", "内容", "是"], [utc, formula, 1]]))).active

    assert sheet["A2"].value == datetime(2027, 1, 1, 1, 30) and sheet["A2"].is_date
    assert sheet["B2"].data_type == "s" and sheet["B2"].value == formula
    assert sheet.column_dimensions["B"].width == len(formula) + 2
    # A narrow column stays wide enough to read its header and reach its filter button.
    assert sheet.column_dimensions["C"].width == NARROWEST
