"""The resident's lookup (查询) by ticket number and code: a wrong code of any
kind is a wrong code — a 404 that says what to check, never a crash."""

from __future__ import annotations

import pytest

from ..admin.test_flow import submit_on_the_station_page
from ..conftest import post_form

ODD_CODES = ["ü", "码码码码码码码码", "\u0660\u0661", "ABC\u00a0", "𝟘𝟙𝟚"]


@pytest.mark.parametrize("code", ODD_CODES)
def test_a_code_with_non_ascii_characters_is_a_wrong_code_on_the_page(client, demo, code):
    number, _ = submit_on_the_station_page(client, demo)
    response = client.get(f"/status/{number}", query_string={"code": code})
    assert response.status_code == 404
    assert "请核对工单号和查询码" in response.get_data(as_text=True)


@pytest.mark.parametrize("code", ODD_CODES)
def test_a_code_with_non_ascii_characters_is_a_wrong_code_in_the_api(client, demo, code):
    number, _ = submit_on_the_station_page(client, demo)
    response = client.get(f"/api/v1/tickets/{number}", query_string={"code": code})
    assert response.status_code == 404 and "查询码" in response.get_json()["error"]


def test_a_rating_with_a_non_ascii_code_is_refused(client, demo):
    number, _ = submit_on_the_station_page(client, demo)
    response = post_form(client, f"/status/{number}/rating", {"code": "ü", "rating": "satisfied"},
                         page="/")
    assert response.status_code == 404


def test_the_right_code_still_opens_the_ticket(client, demo):
    number, code = submit_on_the_station_page(client, demo)
    assert client.get(f"/status/{number}", query_string={"code": code.lower()}).status_code == 200


@pytest.mark.parametrize("app_config", [{"RATELIMIT_LOOKUP_TICKET": "3 per hour"}])
def test_wrong_codes_for_one_ticket_are_throttled_from_every_address(client, demo, app):
    number, code = submit_on_the_station_page(client, demo)
    for index in range(3):
        guesser = app.test_client()
        wrong = guesser.get(f"/status/{number}", query_string={"code": f"WRONG{index}"},
                            environ_base={"REMOTE_ADDR": f"10.1.0.{index}"})
        assert wrong.status_code == 404
    page = app.test_client().get(f"/status/{number}", query_string={"code": code})
    assert page.status_code == 429 and "查询码输错次数过多，请 60 分钟后再试" in page.get_data(as_text=True)
    api = app.test_client().get(f"/api/v1/tickets/{number}", query_string={"code": code})
    assert api.status_code == 429 and api.get_json()["field"] == "code" and int(api.headers["Retry-After"]) > 0


@pytest.mark.parametrize("app_config", [{"RATELIMIT_LOOKUP": "5 per minute"}])
def test_lookups_from_one_address_are_limited(client, demo):
    number, code = submit_on_the_station_page(client, demo)
    answers = [client.get(f"/status/{number}", query_string={"code": code}).status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]
