"""Every figure of the dashboard links to the ticket list that counts it, and
the dashboard compares its period with the one before."""

from __future__ import annotations

import re

from ..helpers import agency_login, ticket
from .test_flow import submit_on_the_station_page

HOUSING = "西湖区文新街道某小区的物业公司擅自上调停车费，每月涨到三百元，还不让业主的车进小区，请住建部门管一管。"
WAGES = "公司拖欠工资三个月了，老板一直推脱不发，我们十几个工人去讨薪没有结果。"
NOISE = "拱墅区夜里工地施工噪音太大，凌晨两点还在打桩，影响休息。"


def listed(client, url: str) -> int:
    """The 共 N 件 of the ticket list at ``url``."""
    response = client.get(url)
    assert response.status_code == 200, url
    return int(re.search(r"共 (\d+) 件", response.get_data(as_text=True)).group(1))


def chart_items(figures):
    """(url, count) of every bar, segment and district a chart draws."""
    yield figures["url"], figures["total"]
    for data in figures["by"].values():
        for total in data["totals"]:
            yield total["url"], total["count"]
        for series in data["series"]:
            for day, n in zip(figures["days"], series["counts"], strict=True):
                if n:
                    yield series["day_url"].replace("DAY", day), n
    for district in figures["places"]["districts"]:
        yield district["url"], district["count"]


def test_every_chart_item_links_to_a_list_counting_the_same(client, auth, demo):
    for text in (HOUSING, WAGES, NOISE, HOUSING):
        submit_on_the_station_page(client, demo, text)
    auth.login("dispatcher")
    figures = client.get("/dashboard/data?days=7").get_json()
    items = list(chart_items(figures))
    assert len(items) > 10
    for url, count in items:
        assert url.startswith("/tickets/?") and "status=counted" in url
        assert listed(client, url) == count, url
    unknown = [t for t in figures["by"]["agency"]["totals"] if t["name"] == "未确定"]
    assert all("agency=none" in t["url"] for t in unknown)


def test_agency_staff_get_links_scoped_to_their_agency(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo, HOUSING)
    submit_on_the_station_page(client, demo, WAGES)
    agency = ticket(demo, number).agency
    auth.login(agency_login(demo, agency))
    figures = client.get("/dashboard/data").get_json()
    for url, count in chart_items(figures):
        assert f"agency={agency.id}" in url
        assert listed(client, url) == count, url


def test_the_period_is_compared_with_the_one_before(client, auth, demo):
    submit_on_the_station_page(client, demo, HOUSING)
    auth.login("dispatcher")
    compared = client.get("/dashboard/data?days=7").get_json()["compared"]
    rows = {row["key"]: row for row in compared["figures"]}
    assert list(rows) == ["received", "answered", "on_time_rate", "satisfaction_rate"]
    assert rows["received"]["value"] >= 1 and rows["received"]["name"] == "受理"
    assert set(compared["before"]) == {"from", "to"}
