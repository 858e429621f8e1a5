"""The scorecards page and its exports: who sees what, and files that read back.

The figures are March 2026's hand-counted set (tests/routing/reports/test_scorecard.py),
read today: C, F and G are still overdue.
"""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from ..routing.flow.test_workflow import env_agency, housing  # noqa: F401 - fixtures
from ..routing.reports.test_scorecard import figures  # noqa: F401 - fixture

MARCH = "period=custom&start=2026-03-01&end=2026-03-31"
# 市住建局 in March: 5 assigned; accepted 3 on time, 2 late; answered 2 on time, 2 late;
# 4 ratings, 3 satisfied; (49 + 672 + 48) / 3 hours, (2 + 20 + 2) / 3 working days; 1 return, 1 transfer; C overdue.
# …, 退回, 转办, 派单争议, 争议成立, 争议不成立, 退单率 = 1 / (5 + 1 + 0), 答复次数, 重办, 重办率 = 1 / 5, 当前超期.
# No callbacks (回访) yet: 解决率 is over the ratings alone; no ruling on a dispute: no 争议成立率.
HOUSING_MARCH = ["市住建局", 5, 3, 2, 60.0, 2, 2, 50.0, 4, 3, 0, 0, 0, 75.0, 75.0, 256.3, 8.0, 1, 1, 0, 0, 0, None, 16.7,
                 5, 1, 20.0, 1]


def read_csv(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_a_dispatcher_sees_every_agency_and_can_pick_one(client, auth, demo, figures, env_agency):  # noqa: F811
    auth.login("dispatcher")
    page = client.get(f"/scorecards?{MARCH}").get_data(as_text=True)
    assert "办理质效统计" in page and "2026-03-01 至 2026-03-31" in page
    assert "市住建局" in page and "市生态环境局" in page and "合计" in page
    assert '<select id="agency" name="agency">' in page
    rows = read_csv(client.get(f"/scorecards.csv?{MARCH}&agency={env_agency.id}"))
    assert [row[0] for row in rows] == ["承办单位", "市生态环境局"]
    assert rows[1][1:4] == ["2", "1", "1"]  # F and G; F accepted on time, G not at all


def test_agency_staff_see_their_own_agency_only(client, auth, demo, figures, env_agency):  # noqa: F811
    auth.login("zhujian")  # 市住建局
    page = client.get(f"/scorecards?{MARCH}").get_data(as_text=True)
    assert "办理质效统计 · 市住建局" in page
    assert "市生态环境局" not in page and "合计" not in page and 'name="agency"' not in page
    rows = read_csv(client.get(f"/scorecards.csv?{MARCH}"))
    assert rows == [rows[0], ["" if v is None else str(v) for v in HOUSING_MARCH]]
    # Asking for another agency's figures is refused, on the page and in the exports.
    for path in ("/scorecards", "/scorecards.csv", "/scorecards.xlsx"):
        assert client.get(f"{path}?{MARCH}&agency={env_agency.id}").status_code == 403


def test_others_may_not_see_scorecards(client, auth, demo):
    assert client.get("/scorecards").status_code == 302  # to the login
    auth.login("deputy")
    assert client.get("/scorecards").status_code == 403
    assert client.get("/scorecards.xlsx").status_code == 403


def test_the_excel_export_holds_the_same_figures_as_numbers(client, auth, demo, figures):  # noqa: F811
    auth.login("admin")
    response = client.get(f"/scorecards.xlsx?{MARCH}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.get_data()))
    sheet = workbook["办理质效"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:3] == ["承办单位", "派单数", "按时签收"]
    assert HOUSING_MARCH in rows
    assert rows[-1][0] == "合计" and rows[-1][1] == 7
    # An agency without tickets: zero counts, no rates.
    transport = next(row for row in rows if row[0] == "市交通运输局")
    assert transport[1] == 0 and transport[4] is None
    assert workbook["说明"]["B1"].value == "2026-03-01 至 2026-03-31"


def test_periods_and_a_wrong_custom_range(client, auth, demo):
    auth.login("dispatcher")
    for period in ("this_month", "last_month", "this_quarter"):
        assert client.get(f"/scorecards?period={period}").status_code == 200
    page = client.get("/scorecards?period=custom&start=2026-03-31&end=2026-03-01").get_data(as_text=True)
    assert "结束日期不能早于开始日期" in page and "已改为显示本月" in page


def test_the_desk_and_the_agency_queue_link_to_the_scorecards(client, auth, demo):
    auth.login("dispatcher")
    assert 'href="/scorecards"' in client.get("/desk/").get_data(as_text=True)
    auth.logout()
    auth.login("zhujian")
    assert 'href="/scorecards"' in client.get("/agency/").get_data(as_text=True)
