"""The ticket list (工单查询) on the screen, sorted, and exported as CSV and XLSX."""

from __future__ import annotations

import csv
import io
from datetime import datetime

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


def set_deadlines(demo, deadlines: dict[str, datetime | None]) -> None:
    for number, when in deadlines.items():
        ticket(demo, number).answer_by = when
        demo.commit()  # before the next lookup expires what is not yet written


def listed(page: str, numbers: list[str]) -> list[str]:
    """The given numbers in the order the page shows them."""
    return sorted(numbers, key=page.index)


def test_a_dispatcher_sorts_by_deadline_and_the_order_survives_filters_paging_and_export(client, auth, demo):
    first, _ = submit_on_the_station_page(client, demo, HOUSING)
    second, _ = submit_on_the_station_page(client, demo, FORMULA)
    third, _ = submit_on_the_station_page(client, demo, "小区门口的路灯又坏了，晚上走路看不见，请修一修。")
    set_deadlines(demo, {first: datetime(2026, 12, 9, 17), second: None, third: datetime(2026, 12, 1, 17)})
    auth.login("dispatcher")

    page = client.get("/tickets/").get_data(as_text=True)
    assert listed(page, [first, second, third]) == [third, second, first]  # newest first by default
    assert '<th aria-sort="descending"><a href="/tickets/?sort=created&amp;dir=asc"' in page
    assert '<a href="/tickets/?sort=answer_by&amp;dir=asc"' in page  # a first click: the soonest first

    page = client.get("/tickets/?sort=answer_by&dir=asc").get_data(as_text=True)
    assert listed(page, [first, second, third]) == [third, first, second]  # no deadline last
    assert '<th aria-sort="ascending"><a href="/tickets/?sort=answer_by&amp;dir=desc"' in page
    assert page.count("aria-sort=") == 1
    page = client.get("/tickets/?sort=answer_by&dir=desc").get_data(as_text=True)
    assert listed(page, [first, second, third]) == [first, third, second]

    # A filter keeps the order, in its form, its headers and its export links.
    page = client.get("/tickets/?words=路灯&sort=answer_by&dir=asc").get_data(as_text=True)
    assert listed(page, [second, third]) == [third, second] and first not in page
    assert '<input type="hidden" name="sort" value="answer_by">' in page
    assert "/tickets/export.csv?words=%E8%B7%AF%E7%81%AF&amp;sort=answer_by&amp;dir=asc" in page
    assert '<a href="/tickets/?words=%E8%B7%AF%E7%81%AF&amp;sort=answer_by&amp;dir=desc"' in page

    mine = {first, second, third}  # the demo's tickets are listed too
    rows = list(csv.reader(io.StringIO(client.get("/tickets/export.csv?sort=answer_by&dir=asc").get_data().decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:] if r[0] in mine] == [third, first, second]
    assert rows[-1][0] == second or not rows[-1][10]  # no deadline last
    sheet = load_workbook(io.BytesIO(client.get("/tickets/export.xlsx?sort=answer_by&dir=desc").get_data())).active
    assert [row[0].value for row in sheet.iter_rows(min_row=2) if row[0].value in mine] == [first, third, second]


def test_the_order_carries_over_pages(client, auth, demo, monkeypatch):
    monkeypatch.setattr("admin.ticket_list.PAGE_SIZE", 2)
    made = [submit_on_the_station_page(client, demo, f"{HOUSING}（第{n}次反映）")[0] for n in range(3)]
    set_deadlines(demo, dict(zip(made, [datetime(2026, 12, 3), datetime(2026, 12, 1), datetime(2026, 12, 2)])))
    auth.login("dispatcher")
    query = "words=擅自上调停车费&sort=answer_by&dir=asc"
    page = client.get(f"/tickets/?{query}").get_data(as_text=True)
    assert listed(page, made[1:]) == [made[1], made[2]] and made[0] not in page
    assert '/tickets/?page=2&amp;words=%E6%93%85%E8%87%AA%E4%B8%8A%E8%B0%83%E5%81%9C%E8%BD%A6%E8%B4%B9&amp;sort=answer_by&amp;dir=asc"' in page
    second_page = client.get(f"/tickets/?page=2&{query}").get_data(as_text=True)
    assert made[0] in second_page and made[1] not in second_page and made[2] not in second_page


def test_an_unknown_order_gives_the_default_list(client, auth, demo):
    older, _ = submit_on_the_station_page(client, demo, HOUSING)
    newer, _ = submit_on_the_station_page(client, demo, FORMULA)
    auth.login("dispatcher")
    for query in ("sort=text;DROP TABLE ticket&dir=asc", "sort=answer_by&dir=sideways", "sort=&dir="):
        response = client.get(f"/tickets/?{query}")
        assert response.status_code == 200, query
    page = client.get("/tickets/?sort=id)--&dir=asc").get_data(as_text=True)
    assert listed(page, [older, newer]) == [newer, older]
    assert '<th aria-sort="descending">' in page


def test_agency_staff_sort_their_own_tickets_only(client, auth, demo):
    housing, _ = submit_on_the_station_page(client, demo, HOUSING)
    other, _ = submit_on_the_station_page(client, demo, "公司拖欠工资三个月了，老板一直推脱不发，我们去讨薪没有结果。")
    auth.login(agency_login(demo, ticket(demo, housing).agency))
    for key in ("answer_by", "agency", "district", "status", "topic", "updated"):
        for direction in ("asc", "desc"):
            page = client.get(f"/tickets/?sort={key}&dir={direction}").get_data(as_text=True)
            assert housing in page and other not in page, (key, direction)
    rows = list(csv.reader(io.StringIO(client.get("/tickets/export.csv?sort=agency").get_data().decode("utf-8-sig"))))
    assert housing in [r[0] for r in rows[1:]] and {r[8] for r in rows[1:]} == {ticket(demo, housing).agency.name}
