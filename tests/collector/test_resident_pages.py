"""The resident's public pages lose nothing they typed: a long paste is
refused with its length, not cut; corrections do not use up the rate limit,
and the limit's page keeps the text; a wrong code leads back to the lookup."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from routing.clock import now
from routing.flow import workflow
from routing.store.people import User
from routing.store.tickets import Ticket

from ..admin.test_flow import submit_on_the_station_page
from ..conftest import post_form
from ..helpers import ticket

LONG = "小区门口的路灯坏了很久，晚上出门很不方便。" * 300  # 6,300 characters


def textarea(page: str, name: str = "text") -> str:
    return re.search(rf'<textarea[^>]*name="{name}"[^>]*>', page).group(0)


def test_the_text_box_does_not_cut_a_long_paste_and_says_how_long_it_was(client, demo):
    page = client.get("/").get_data(as_text=True)
    assert "maxlength" not in textarea(page)  # a browser would cut the paste silently
    before = demo.scalar(select(func.count()).select_from(Ticket))
    response = post_form(client, "/", {"text": LONG}, page="/")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"您写了 {len(LONG)} 字" in page and "最多 5000 字" in page
    assert LONG in html.unescape(page)  # still there, to shorten
    assert demo.scalar(select(func.count()).select_from(Ticket)) == before


@pytest.mark.parametrize("app_config", [{"RATELIMIT_SUBMIT": "2 per minute"}])
def test_forms_sent_back_to_correct_do_not_count_against_the_limit(client, demo):
    for _ in range(5):
        assert post_form(client, "/", {"text": "短"}, page="/").status_code == 400
    submit_on_the_station_page(client, demo)
    submit_on_the_station_page(client, demo)
    third = "第三次提交：小区门口的路灯坏了半个月，晚上很黑。"
    response = post_form(client, "/", {"text": third, "name": "王先生"}, page="/")
    assert response.status_code == 429
    page = html.unescape(response.get_data(as_text=True))
    assert "提交太频繁" in page
    assert third in page and 'value="王先生"' in page  # nothing to type again
    assert '<form method="post"' in page


def test_a_wrong_code_leads_back_to_the_lookup_with_the_number_filled_in(client, demo):
    number, _ = submit_on_the_station_page(client, demo)
    response = client.get(f"/status/{number}?code=WRONG123")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    back = re.search(r'<a href="([^"]+)">返回查询页重新输入</a>', page).group(1)
    assert back == f"/status?number={number}"
    lookup = client.get(back).get_data(as_text=True)
    assert f'value="{number}"' in lookup and "请填写查询码" not in lookup


def test_a_closed_ticket_shows_no_deadline_and_the_timeline_in_words(client, demo):
    number, code = submit_on_the_station_page(client, demo)
    assert "答复时限" in client.get(f"/status/{number}?code={code}").get_data(as_text=True)
    t = ticket(demo, number)
    dispatcher = demo.scalar(select(User).where(User.username == "dispatcher"))
    workflow.invalidate(demo, t, dispatcher, now(), reason="重复提交")
    demo.commit()
    page = client.get(f"/status/{number}?code={code}").get_data(as_text=True)
    assert "答复时限" not in page
    timeline = page.split("办理过程", 1)[1]
    assert "已受理" in timeline and "不予受理" in timeline
    assert not re.search(r"</time> [a-z_]+", timeline)


def test_in_english_the_form_and_the_timeline_are_in_english(client, demo):
    number, code = submit_on_the_station_page(client, demo)
    english = {"Accept-Language": "en"}
    form = client.get("/", headers=english).get_data(as_text=True)
    assert "不指定" not in form
    page = client.get(f"/status/{number}?code={code}", headers=english).get_data(as_text=True)
    timeline = page.split("</h2>", 100)[-1]
    assert "已受理" not in timeline and "Received" in timeline
