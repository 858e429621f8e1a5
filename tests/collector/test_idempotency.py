"""An ``Idempotency-Key`` belongs to its caller and to the body it came with:
a retry gets the first ticket, another caller's key is another request, and
the same key with another complaint is refused (422), storing nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

import collector.api
import collector.intake
from routing.store.api_clients import issue_key
from routing.store.idempotency import MAX_CALLER, IdempotencyKey, body_hash, forget_expired, request_of
from routing.store.tickets import Message, Ticket

LAMP = "西湖区文新街道竞舟路的路灯坏了一个多星期，晚上很黑，请尽快修好。"
PARKING = "西湖区文新街道的小区物业擅自上调停车费，每月涨到三百元，业主们都不同意，请有关部门调查处理。"


def tickets(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Ticket))


def post(client, body, key, api_key=None, **kwargs):
    headers = {"Idempotency-Key": key}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return client.post("/api/v1/submissions", json=body, headers=headers, **kwargs)


def keys_for(session, *names) -> list[str]:
    keys = [issue_key(session, name, datetime(2026, 11, 27, 9))[1] for name in names]
    session.commit()
    return keys


def blind_first_look(monkeypatch) -> None:
    """The first look finds nothing, as when the other request had not yet
    committed its key: both go on to store a ticket."""
    real, looks = collector.intake.remembered, []

    def look(*args, **kwargs):
        looks.append(args)
        return None if len(looks) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(collector.intake, "remembered", look)


def messages(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Message))


def test_two_callers_with_the_same_key_make_two_tickets(client, demo):
    hotline, app_key = keys_for(demo, "12345热线", "区级App")
    first = post(client, {"text": LAMP}, "retry-1", hotline)
    second = post(client, {"text": PARKING}, "retry-1", app_key)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["ticket"] != second.get_json()["ticket"]
    # Each caller's retry still finds its own ticket.
    assert post(client, {"text": LAMP}, "retry-1", hotline).get_json() == first.get_json()
    assert post(client, {"text": PARKING}, "retry-1", app_key).get_json() == second.get_json()
    texts = {t.number: t.text for t in demo.scalars(select(Ticket))}
    assert texts[first.get_json()["ticket"]] == LAMP
    assert texts[second.get_json()["ticket"]] == PARKING


def test_callers_without_an_api_key_are_told_apart_by_address(client, demo):
    first = post(client, {"text": LAMP}, "k", environ_base={"REMOTE_ADDR": "10.0.0.1"})
    second = post(client, {"text": PARKING}, "k", environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["ticket"] != second.get_json()["ticket"]


def test_a_key_with_another_body_is_refused_and_stores_nothing(client, demo):
    (hotline,) = keys_for(demo, "12345热线")
    assert post(client, {"text": LAMP}, "once", hotline).status_code == 201
    before = tickets(demo), messages(demo)
    refused = post(client, {"text": PARKING}, "once", hotline)
    assert refused.status_code == 422
    assert refused.get_json()["field"] == "Idempotency-Key"
    assert "Idempotency-Key" in refused.get_json()["error"]
    assert (tickets(demo), messages(demo)) == before


def test_the_same_body_written_differently_is_the_same_request(client, demo):
    body = {"text": LAMP, "contact": {"name": "王先生", "phone": "13900000000"}, "location": "竞舟路"}
    first = post(client, body, "same")
    reordered = client.post(
        "/api/v1/submissions",
        data='{"location":"竞舟路",  "contact": {"phone":"13900000000","name":"王先生"}, "text":"%s"}' % LAMP,
        headers={"Idempotency-Key": "same", "Content-Type": "application/json"},
    )
    assert (first.status_code, reordered.status_code) == (201, 200)
    assert reordered.get_json() == first.get_json()
    assert body_hash({"a": 1, "b": [1, 2]}) == body_hash({"b": [1, 2], "a": 1})
    assert body_hash({"a": 1}) != body_hash({"a": 2})


def test_a_key_is_forgotten_after_its_hours(client, demo, app, monkeypatch):
    assert app.config["IDEMPOTENCY_HOURS"] == 24
    start = datetime(2026, 12, 1, 9)
    monkeypatch.setattr(collector.api, "now", lambda: start)
    first = post(client, {"text": LAMP}, "daily")
    monkeypatch.setattr(collector.api, "now", lambda: start + timedelta(hours=23))
    assert post(client, {"text": PARKING}, "daily").status_code == 422
    # A day later the key names a new request, even before the sweep has forgotten it.
    monkeypatch.setattr(collector.api, "now", lambda: start + timedelta(hours=25))
    later = post(client, {"text": PARKING}, "daily")
    assert later.status_code == 201
    assert later.get_json()["ticket"] != first.get_json()["ticket"]
    assert post(client, {"text": PARKING}, "daily").get_json() == later.get_json()


def test_the_sweep_forgets_expired_keys_only(demo):
    ticket = demo.scalars(select(Ticket)).first()
    now = datetime(2026, 12, 2, 9)
    for key, age in (("old", 25), ("fresh", 1)):
        demo.add(IdempotencyKey(caller="client:1", key=key, body_hash="0" * 64, ticket=ticket, created_at=now - timedelta(hours=age)))
    demo.flush()
    assert forget_expired(demo, now, 24) == 1
    assert demo.scalars(select(IdempotencyKey.key)).all() == ["fresh"]


def test_a_simultaneous_retry_gets_the_winners_ticket(client, demo, monkeypatch):
    """Both requests looked before either stored its key: the loser's insert
    fails on the unique key, and it answers with the winner's ticket."""
    won = post(client, {"text": LAMP}, "race")
    assert won.status_code == 201
    before = tickets(demo), messages(demo)
    blind_first_look(monkeypatch)
    lost = post(client, {"text": LAMP}, "race")
    assert lost.status_code == 200
    assert lost.get_json() == won.get_json()
    assert (tickets(demo), messages(demo)) == before


def test_a_simultaneous_request_with_another_body_is_refused(client, demo, monkeypatch):
    assert post(client, {"text": LAMP}, "race").status_code == 201
    before = tickets(demo), messages(demo)
    blind_first_look(monkeypatch)
    assert post(client, {"text": PARKING}, "race").status_code == 422
    assert (tickets(demo), messages(demo)) == before


def test_a_caller_name_longer_than_its_column_is_kept_as_its_hash():
    long_address = "address:" + "f" * 200
    assert len(request_of(long_address, "k", {}).caller) <= MAX_CALLER
    assert request_of(long_address, "k", {}) == request_of(long_address, "k", {})
    assert request_of(long_address, "k", {}) != request_of(long_address + "0", "k", {})
    assert request_of("client:7", "k", {}).caller == "client:7"
