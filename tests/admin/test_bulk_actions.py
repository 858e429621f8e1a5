"""Bulk actions on the ticket list (/tickets/): tick, choose a step, see what happened."""

from __future__ import annotations

from sqlalchemy import select

from routing.store.people import Agency
from routing.store.tickets import Status

from ..conftest import post_form
from ..helpers import agency_login, ticket
from .test_flow import submit_on_the_station_page

HOUSING = "西湖区文新街道某小区的物业公司擅自上调停车费，每月涨到三百元，还不让业主的车进小区，请住建部门管一管。"
NOISE = "西湖区文新街道某工地晚上十二点还在施工打桩，噪音太大吵得睡不着觉。"


def test_the_list_offers_checkboxes_and_a_select_all_script_to_dispatchers(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo, HOUSING)
    auth.login("dispatcher")
    page = client.get("/tickets/").get_data(as_text=True)
    assert f'name="number" value="{number}" form="bulk"' in page
    assert 'id="select-page"' in page and "bulk.js" in page and "<script>" not in page
    script = client.get("/static/bulk.js")
    assert script.status_code == 200 and b"select-page" in script.get_data()
    script.close()


def test_a_dispatcher_assigns_several_and_learns_which_failed_and_why(client, auth, demo):
    first, _ = submit_on_the_station_page(client, demo, HOUSING)
    second, _ = submit_on_the_station_page(client, demo, NOISE)
    spam, _ = submit_on_the_station_page(client, demo, "广告：代开发票，联系微信123。")
    auth.login("dispatcher")
    post_form(client, f"/desk/tickets/{spam}/invalidate", {"reason": "广告"}, page=f"/desk/tickets/{spam}")
    env = demo.scalar(select(Agency).where(Agency.name == "市生态环境局"))

    response = post_form(
        client, "/tickets/bulk",
        {"number": [first, spam, second], "action": "assign", "agency": str(env.id), "reason": "统一转办",
         "back": "/tickets/?words=西湖区"},
        page="/tickets/", follow_redirects=True,
    )

    html = response.get_data(as_text=True)
    assert response.request.path == "/tickets/" and response.request.args["words"] == "西湖区"
    assert "派单（转办）：已处理 2 件" in html
    assert f"1 件未能处理 —— {spam}：工单当前状态为“无效”，不能转办。" in html
    assert ticket(demo, first).agency_id == env.id and ticket(demo, second).agency_id == env.id
    assert ticket(demo, spam).status is Status.INVALID


def test_merge_and_invalid_in_bulk(client, auth, demo):
    target, _ = submit_on_the_station_page(client, demo, HOUSING)
    copy, _ = submit_on_the_station_page(client, demo, HOUSING)
    auth.login("dispatcher")

    html = post_form(client, "/tickets/bulk", {"number": [copy, target], "action": "merge", "into": target},
                     page="/tickets/", follow_redirects=True).get_data(as_text=True)
    assert "合并：已处理 1 件" in html and f"{target}：不能把工单合并到它自己。" in html
    assert ticket(demo, copy).merged_into_id == ticket(demo, target).id

    html = post_form(client, "/tickets/bulk", {"number": [target], "action": "merge", "into": "00000000"},
                     page="/tickets/", follow_redirects=True).get_data(as_text=True)
    assert "没有找到工单 00000000" in html

    html = post_form(client, "/tickets/bulk", {"number": [target], "action": "invalidate"},
                     page="/tickets/", follow_redirects=True).get_data(as_text=True)
    assert "标记无效须填写理由。" in html and ticket(demo, target).status is not Status.INVALID

    html = post_form(client, "/tickets/bulk", {"number": [target], "action": "invalidate", "reason": "测试数据"},
                     page="/tickets/", follow_redirects=True).get_data(as_text=True)
    assert "标记无效：已处理 1 件" in html and ticket(demo, target).status is Status.INVALID

    html = post_form(client, "/tickets/bulk", {"action": "invalidate", "reason": "x"},
                     page="/tickets/", follow_redirects=True).get_data(as_text=True)
    assert "请先勾选要处理的工单。" in html


def test_agency_staff_and_forged_posts_are_refused(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo, HOUSING)
    auth.login("dispatcher")
    assert client.post("/tickets/bulk", data={"number": [number], "action": "invalidate", "reason": "x"}).status_code == 400
    assert ticket(demo, number).status is not Status.INVALID
    auth.logout()

    auth.login(agency_login(demo, ticket(demo, number).agency))
    page = client.get("/tickets/").get_data(as_text=True)
    assert number in page and 'name="number"' not in page and "bulk.js" not in page
    response = post_form(client, "/tickets/bulk", {"number": [number], "action": "invalidate", "reason": "x"},
                         page="/tickets/")
    assert response.status_code == 403
    assert ticket(demo, number).status is not Status.INVALID


def test_the_way_back_stays_on_the_list(client, auth, demo):
    auth.login("dispatcher")
    response = post_form(client, "/tickets/bulk", {"action": "invalidate", "reason": "x", "back": "//evil.example/"},
                         page="/tickets/")
    assert response.headers["Location"].endswith("/tickets/")
