"""The dashboard (统计看板): dispatchers see the city, agency staff their own agency."""

from __future__ import annotations

from ..helpers import agency_login, ticket
from .test_flow import submit_on_the_station_page

HOUSING = "西湖区文新街道某小区的物业公司擅自上调停车费，每月涨到三百元，还不让业主的车进小区，请住建部门管一管。"
WAGES = "公司拖欠工资三个月了，老板一直推脱不发，我们十几个工人去讨薪没有结果。"


def test_a_dispatcher_sees_the_city_figures_as_json_for_the_charts(client, auth, demo):
    housing, _ = submit_on_the_station_page(client, demo, HOUSING)
    submit_on_the_station_page(client, demo, WAGES)
    auth.login("dispatcher")

    page = client.get("/dashboard/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "统计看板" in html
    assert "/static/vendor/echarts.min.js" in html and 'href="/scorecards"' in html
    with client.get("/static/vendor/echarts.min.js") as library:
        assert library.status_code == 200 and b"echarts" in library.get_data()[:2000]

    response = client.get("/dashboard/data?days=7")
    assert response.status_code == 200 and response.mimetype == "application/json"
    figures = response.get_json()
    assert figures["period"]["days"] == 7 and figures["total"] >= 2
    topics = {t["name"] for t in figures["by"]["topic"]["totals"]}
    assert "城乡建设" in topics
    west = [d for d in figures["places"]["districts"] if d["name"] == "西湖区"]
    assert west and west[0]["count"] >= 1
    assert {"overdue", "soon", "overdue_count", "soon_count"} <= set(figures["due"])
    assert isinstance(figures["hot"], list)
    assert ticket(demo, housing).district.name == "西湖区"


def test_agency_staff_see_their_own_agency_only(client, auth, demo):
    housing, _ = submit_on_the_station_page(client, demo, HOUSING)
    submit_on_the_station_page(client, demo, WAGES)
    agency = ticket(demo, housing).agency
    auth.login(agency_login(demo, agency))

    assert agency.name in client.get("/dashboard/").get_data(as_text=True)
    figures = client.get("/dashboard/data").get_json()
    assert [t["name"] for t in figures["by"]["agency"]["totals"]] == [agency.name]
    assert figures["total"] == sum(t["count"] for t in figures["by"]["agency"]["totals"])


def test_others_are_kept_out_and_periods_are_checked(client, auth, demo):
    anonymous = client.get("/dashboard/data")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    auth.login("deputy")
    assert client.get("/dashboard/").status_code == 403
    auth.logout()
    auth.login("dispatcher")
    assert client.get("/dashboard/data?days=14").status_code == 400
    assert client.get("/dashboard/?days=abc").status_code == 400
