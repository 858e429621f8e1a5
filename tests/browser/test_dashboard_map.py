"""The dashboard in a real browser on a 1366-pixel screen: the schematic district
map is drawn offline, and a chart's bar leads to the ticket list it counts."""

from __future__ import annotations

import re

from admin.demo import DEMO_PASSWORD
from routing.dispatch.places import DISTRICT_CENTRES

from .test_pages import COMPLAINT, submit

WIDE = {"width": 1366, "height": 768}


def test_the_map_draws_the_districts_and_a_bar_leads_to_its_tickets(open_page, demo):
    resident = open_page(phone=True)
    for _ in range(2):
        submit(resident, COMPLAINT)

    watched = open_page()
    page = watched.page
    page.set_viewport_size(WIDE)
    watched.login("dispatcher", DEMO_PASSWORD)
    watched.go("/dashboard/?days=7")
    page.wait_for_selector("#dashboard[data-ready='1']")

    geo = page.evaluate(
        """() => {
          const option = echarts.getInstanceByDom(document.getElementById('chart-map')).getOption();
          return {geo: option.geo.length, series: option.series.map(s => s.type),
                  names: option.series[0].data.map(d => d.name)};
        }"""
    )
    assert geo["geo"] == 1 and geo["series"] == ["map", "scatter"]
    assert set(geo["names"]) == set(DISTRICT_CENTRES)
    assert "示意图，非标准区划边界" in page.text_content("#dashboard")
    assert page.locator("#compared tbody tr").count() == 4
    watched.shot("dashboard-map-wide")

    # The top bar of the totals chart (the largest: the category axis runs bottom-up): its count, and where it leads.
    page.locator("#chart-totals").scroll_into_view_if_needed()
    first = page.evaluate(
        """() => {
          const chart = echarts.getInstanceByDom(document.getElementById('chart-totals'));
          const data = chart.getOption().series[0].data;
          const top = data.length - 1;
          const point = chart.convertToPixel({seriesIndex: 0}, [data[top].value / 2, top]);
          return {count: data[top].value, url: data[top].url, x: point[0], y: point[1]};
        }"""
    )
    box = page.locator("#chart-totals").bounding_box()
    with page.expect_navigation():
        page.mouse.click(box["x"] + first["x"], box["y"] + first["y"])
    assert page.url.endswith(first["url"]) and "/tickets/?" in page.url
    listed = int(re.search(r"共 (\d+) 件", page.text_content("main")).group(1))
    assert listed == first["count"]
    watched.shot("dashboard-bar-to-list")

    # A district on the map, clicked at its seat, leads to its tickets too.
    watched.go("/dashboard/?days=7")
    page.wait_for_selector("#dashboard[data-ready='1']")
    page.locator("#chart-map").scroll_into_view_if_needed()
    district = page.evaluate(
        """() => {
          const chart = echarts.getInstanceByDom(document.getElementById('chart-map'));
          const item = chart.getOption().series[0].data.filter(d => d.url).sort((a, b) => b.value - a.value)[0];
          const seat = chart.getModel().getComponent('geo').coordinateSystem.getRegion(item.name).getCenter();
          const point = chart.convertToPixel('geo', seat);
          return {name: item.name, count: item.value, url: item.url, x: point[0], y: point[1]};
        }"""
    )
    box = page.locator("#chart-map").bounding_box()
    with page.expect_navigation():
        page.mouse.click(box["x"] + district["x"], box["y"] + district["y"])
    assert page.url.endswith(district["url"]) and "district=" in page.url
    assert int(re.search(r"共 (\d+) 件", page.text_content("main")).group(1)) == district["count"]
    assert watched.errors == [] and resident.errors == []
