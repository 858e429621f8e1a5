"""The printable monthly report (/reports/monthly): who may see which, and what it shows."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from routing.clock import now
from routing.store.areas import District
from routing.store.tickets import Status, Ticket

from ..helpers import agency_login, ticket
from .test_flow import submit_on_the_station_page

HOUSING = "西湖区文新街道某小区的物业公司擅自上调停车费，每月涨到三百元，还不让业主的车进小区，请住建部门管一管。"


def this_month() -> str:
    return f"{now():%Y-%m}"


def received(client, url: str) -> int:
    """The 受理工单 figure of the report at ``url``."""
    html = client.get(url).get_data(as_text=True)
    return int(re.search(r"受理工单</dt><dd>(\d+)<", html).group(1))


def test_a_dispatcher_prints_a_district_report(client, auth, demo):
    xihu = demo.scalar(select(District).where(District.name == "西湖区"))
    url = f"/reports/monthly?month={this_month()}&district={xihu.id}"
    auth.login("dispatcher")
    before = received(client, url)
    auth.logout()
    number, _ = submit_on_the_station_page(client, demo, HOUSING)
    auth.login("dispatcher")

    response = client.get(url)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "西湖区工单办理月报" in html
    assert received(client, url) == before + 1
    assert received(client, "/reports/monthly?month=2020-01") == 0
    assert "城乡建设" in html and "联络站网页" in html
    assert "各承办单位办理情况" in html and ticket(demo, number).agency.name in html
    # Made for paper: the print stylesheet and script are files (the CSP forbids inline script),
    # and the page carries none of the site's navigation.
    assert "report.css" in html and "report.js" in html and "<script>" not in html
    assert 'class="top"' not in html and "工作人员登录" not in html
    css = client.get("/static/report.css")
    assert b"size: A4" in css.get_data() and b"break-before: page" in css.get_data()
    css.close()


def test_the_city_and_an_agency_for_dispatchers_and_bad_months_refused(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo, HOUSING)
    agency = ticket(demo, number).agency
    auth.login("dispatcher")
    assert "全市工单办理月报" in client.get("/reports/monthly").get_data(as_text=True)
    html = client.get(f"/reports/monthly?agency={agency.id}").get_data(as_text=True)
    assert f"{agency.name}工单办理月报" in html and "各承办单位办理情况" not in html
    assert client.get("/reports/monthly?month=2026-13").status_code == 400
    assert client.get("/reports/monthly?agency=1&district=1").status_code == 400
    assert client.get("/reports/monthly?agency=99999").status_code == 404


def test_agency_staff_see_their_own_report_only(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo, HOUSING)
    agency = ticket(demo, number).agency
    xihu = demo.scalar(select(District).where(District.name == "西湖区"))
    auth.login(agency_login(demo, agency))

    html = client.get("/reports/monthly").get_data(as_text=True)
    first_day = now().replace(day=1, hour=0, minute=0, second=0)
    own = demo.scalar(select(func.count(Ticket.id)).where(
        Ticket.agency_id == agency.id, Ticket.status != Status.INVALID, Ticket.created_at >= first_day))
    assert f"{agency.name}工单办理月报" in html and received(client, "/reports/monthly") == own
    assert "各承办单位办理情况" not in html and 'name="district"' not in html
    assert client.get(f"/reports/monthly?agency={agency.id}").status_code == 200
    assert client.get(f"/reports/monthly?agency={agency.id + 1}").status_code == 403
    assert client.get(f"/reports/monthly?district={xihu.id}").status_code == 403


def test_deputies_and_strangers_have_no_report(client, auth, demo):
    assert client.get("/reports/monthly").status_code == 302
    auth.login("deputy")
    assert client.get("/reports/monthly").status_code == 403


def test_the_month_is_compared_with_the_month_before_and_a_year_before(client, auth, demo):
    submit_on_the_station_page(client, demo, HOUSING)
    auth.login("dispatcher")
    html = client.get(f"/reports/monthly?month={this_month()}").get_data(as_text=True)
    table = html[html.index('id="compared"'):]
    table = table[: table.index("</table>")]
    for heading in ("本月", "上月", "环比", "去年同月", "同比", "受理", "答复", "按时答复率", "满意率"):
        assert heading in table, heading
    row = re.search(r'<th scope="row">受理</th><td>(\d+)</td><td>(\d+)</td>', table)
    assert int(row.group(1)) == received(client, f"/reports/monthly?month={this_month()}")
