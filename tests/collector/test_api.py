"""The JSON API: a submission becomes a ticket; bad input changes nothing;
each client (its key, else its address) has its own rate limit."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from routing.store.api_clients import issue_key, revoke
from routing.store.areas import Station
from routing.store.people import ApiClient
from routing.store.tickets import Message, Ticket, TicketEvent

COMPLAINT = "西湖区文新街道的小区物业擅自上调停车费，每月涨到三百元，业主们都不同意，请有关部门调查处理。"


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_submission_returns_ticket_code_and_status_url(client, demo):
    station = demo.scalar(select(Station).where(Station.name == "文新街道人大代表联络站"))
    response = client.post(
        "/api/v1/submissions",
        json={
            "text": COMPLAINT,
            "channel": "web",
            "station": station.id,
            "contact": {"name": "李女士", "phone": "13800000000"},
            "location": "文新街道某小区",
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"ticket", "code", "status_url"}
    assert body["status_url"].endswith(f"/status/{body['ticket']}?code={body['code']}")

    ticket = demo.scalar(select(Ticket).where(Ticket.number == body["ticket"]))
    assert ticket.code == body["code"]
    assert ticket.station_id == station.id
    assert ticket.contact_phone == "13800000000"
    assert ticket.district.name == "西湖区"
    assert ticket.messages[0].payload["text"] == COMPLAINT


def test_station_can_be_named(client, demo):
    response = client.post("/api/v1/submissions", json={"text": COMPLAINT, "station": "湖滨街道人大代表联络站"})
    assert response.status_code == 201
    ticket = demo.scalar(select(Ticket).where(Ticket.number == response.get_json()["ticket"]))
    assert ticket.station.name == "湖滨街道人大代表联络站"


def test_public_status_needs_the_right_code_and_has_no_personal_data(client, demo):
    body = client.post(
        "/api/v1/submissions",
        json={"text": COMPLAINT, "contact": {"name": "李女士", "phone": "13800000000"}},
    ).get_json()

    status = client.get(f"/api/v1/tickets/{body['ticket']}?code={body['code']}")
    assert status.status_code == 200
    data = status.get_json()
    assert data["ticket"] == body["ticket"]
    assert data["status"] in {"assigned", "triage"}
    assert {"topic", "agency", "accept_by", "answer_by", "answer"} <= set(data)
    raw = status.get_data(as_text=True)
    assert "13800000000" not in raw and "李女士" not in raw and COMPLAINT not in raw

    assert client.get(f"/api/v1/tickets/{body['ticket']}?code=WRONG123").status_code == 404
    assert client.get(f"/api/v1/tickets/{body['ticket']}").status_code == 404
    assert client.get(f"/api/v1/tickets/999999?code={body['code']}").status_code == 404


def test_lookup_code_is_case_insensitive_for_people_typing_it(client, demo):
    body = client.post("/api/v1/submissions", json={"text": COMPLAINT}).get_json()
    assert client.get(f"/api/v1/tickets/{body['ticket']}?code={body['code'].lower()}").status_code == 200


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({}, "text"),
        ({"text": 12345}, "text"),
        ({"text": ["物业", "停车费"]}, "text"),
        ({"text": "太长" * 3000}, "text"),
        ({"text": COMPLAINT, "station": "不存在的联络站"}, "station"),
        ({"text": COMPLAINT, "station": 99999}, "station"),
        ({"text": COMPLAINT, "station": {"id": 1}}, "station"),
        ({"text": COMPLAINT, "channel": "carrier-pigeon"}, "channel"),
        ({"text": COMPLAINT, "contact": "13800000000"}, "contact"),
        ({"text": COMPLAINT, "contact": {"phone": "call me"}}, "contact.phone"),
        ({"text": COMPLAINT, "location": {"latitude": "north", "longitude": 120.1}}, "location.latitude"),
        ({"text": COMPLAINT, "location": {"latitude": 30.2}}, "location"),
        ({"text": COMPLAINT, "location": {"label": {}, "latitude": 30.2, "longitude": 120.1}}, "location.label"),
        ({"text": COMPLAINT, "location": {"text": 7}}, "location.text"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_stores_nothing(client, demo, payload, field):
    before = (count(demo, Ticket), count(demo, Message), count(demo, TicketEvent))
    response = client.post("/api/v1/submissions", json=payload)
    assert response.status_code == 400
    assert response.get_json()["field"] == field
    assert response.get_json()["error"]
    assert (count(demo, Ticket), count(demo, Message), count(demo, TicketEvent)) == before


def test_body_that_is_not_json_is_refused(client, demo):
    before = count(demo, Ticket)
    response = client.post("/api/v1/submissions", data="text=hello", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.get_json()["field"] == "body"
    response = client.post("/api/v1/submissions", data="{not json", content_type="application/json")
    assert response.status_code == 400
    response = client.post("/api/v1/submissions", json=["a list"])
    assert response.status_code == 400
    assert count(demo, Ticket) == before


def test_megabyte_body_is_refused_before_it_is_read(client, demo):
    before = count(demo, Ticket)
    response = client.post("/api/v1/submissions", json={"text": "很" * (1024 * 1024)})
    assert response.status_code == 413
    assert response.get_json()["field"] == "text"
    assert count(demo, Ticket) == before


def test_retry_with_the_same_idempotency_key_returns_the_same_ticket(client, demo):
    before = count(demo, Ticket)
    first = client.post("/api/v1/submissions", json={"text": COMPLAINT}, headers={"Idempotency-Key": "abc-1"})
    again = client.post("/api/v1/submissions", json={"text": COMPLAINT}, headers={"Idempotency-Key": "abc-1"})
    other = client.post("/api/v1/submissions", json={"text": COMPLAINT}, headers={"Idempotency-Key": "abc-2"})
    assert first.status_code == 201 and again.status_code == 200 and other.status_code == 201
    assert again.get_json() == first.get_json()
    assert other.get_json()["ticket"] != first.get_json()["ticket"]
    assert count(demo, Ticket) == before + 2


def test_unknown_api_route_answers_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert "error" in response.get_json()


def test_a_location_names_the_place_when_the_text_does_not(client, demo):
    response = client.post(
        "/api/v1/submissions",
        json={"text": "小区门口的路灯坏了两个星期，晚上一片漆黑。", "channel": "web", "location": "拱墅区米市巷街道大关路"},
    )
    assert response.status_code == 201
    ticket = demo.scalar(select(Ticket).where(Ticket.number == response.get_json()["ticket"]))
    assert (ticket.district.name, ticket.street.name) == ("拱墅区", "米市巷街道")


def test_an_outage_of_water_gets_a_24_hour_deadline(client, demo):
    text = "西湖区文新街道某小区从昨天早上开始停水，到现在还没来水，物业说不清楚原因，家里老人孩子没法生活。"
    response = client.post("/api/v1/submissions", json={"text": text, "channel": "web"})
    ticket = demo.scalar(select(Ticket).where(Ticket.number == response.get_json()["ticket"]))
    assert ticket.urgency.value == "utility" and ticket.prediction["utility_words"] == ["停水"]
    assert ticket.status.value == "assigned"
    assert (ticket.answer_by - ticket.assigned_at).total_seconds() == 24 * 3600


def issue(demo, name: str) -> str:
    _, key = issue_key(demo, name, datetime(2026, 11, 27, 9))
    demo.commit()
    return key


def submit_with(client, key: str | None, text: str = COMPLAINT, address: str = "127.0.0.1"):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post("/api/v1/submissions", json={"text": text}, headers=headers, environ_base={"REMOTE_ADDR": address})


@pytest.mark.parametrize("app_config", [{"RATELIMIT_API": "2 per minute"}])
def test_each_key_has_its_own_limit_and_a_refused_request_stores_nothing(client, demo):
    hotline, district_app = issue(demo, "12345热线"), issue(demo, "西湖区APP")
    assert submit_with(client, hotline).status_code == 201
    assert client.get("/api/v1/tickets/none?code=x", headers={"Authorization": f"Bearer {hotline}"}).status_code == 404
    tickets, messages = count(demo, Ticket), count(demo, Message)

    refused = submit_with(client, hotline, "第三次请求，超过了这把钥匙每分钟两次的上限。")
    assert refused.status_code == 429 and refused.mimetype == "application/json"
    body = refused.get_json()
    # Seconds until the minute's window ends (rounded up).
    assert set(body) == {"error", "retry_after"} and 1 <= body["retry_after"] <= 61
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert (count(demo, Ticket), count(demo, Message)) == (tickets, messages)

    # Another key, and callers without one (counted by their address), are still served.
    assert submit_with(client, district_app).status_code == 201
    assert submit_with(client, None).status_code == 201
    assert submit_with(client, None).status_code == 201
    assert submit_with(client, None).status_code == 429
    # A different address is another caller.
    assert submit_with(client, None, address="10.0.0.9").status_code == 201


def test_a_wrong_or_revoked_key_is_refused_and_nothing_stored(client, demo):
    key = issue(demo, "12345热线")
    revoke(demo, "12345热线")
    demo.commit()
    tickets = count(demo, Ticket)
    for wrong in (key, "tj_guessed"):
        response = submit_with(client, wrong)
        assert response.status_code == 401 and response.get_json()["field"] == "Authorization"
    assert count(demo, Ticket) == tickets
    assert demo.scalar(select(ApiClient.key_hash)) != key  # only a hash is kept


def test_keys_are_issued_listed_and_revoked_on_the_command_line(runner, client, demo):
    issued = runner.invoke(args=["api-key", "create", "12345热线"])
    assert issued.exit_code == 0, issued.output
    key = issued.output.strip().splitlines()[-1]
    assert key.startswith("tj_") and submit_with(client, key).status_code == 201
    assert "12345热线\t有效" in runner.invoke(args=["api-key", "list"]).output
    assert runner.invoke(args=["api-key", "revoke", "12345热线"]).exit_code == 0
    assert submit_with(client, key).status_code == 401
    assert runner.invoke(args=["api-key", "revoke", "没有这个"]).exit_code != 0
