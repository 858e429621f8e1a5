"""The JSON API with input a client controls: a field of the wrong type, an odd
number, an unstorable character or a coordinate off the globe gets a 4xx in
JSON naming the field, and stores nothing; text with characters no store can
keep is stored without them."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from routing.store.tickets import Message, Ticket

from .test_api import COMPLAINT, count

REFUSED = {
    "a list as channel": ({"text": COMPLAINT, "channel": ["web"]}, "channel"),
    "an object as channel": ({"text": COMPLAINT, "channel": {"a": 1}}, "channel"),
    "a station id beyond any column": ({"text": COMPLAINT, "station": 10**30}, "station"),
    "a station of superscript digits": ({"text": COMPLAINT, "station": "²³"}, "station"),
    "a station of Arabic-Indic digits": ({"text": COMPLAINT, "station": "١٢"}, "station"),
    "a station of a negative id": ({"text": COMPLAINT, "station": -5}, "station"),
    "a NaN latitude": ({"text": COMPLAINT, "location": {"latitude": float("nan"), "longitude": 120.1}},
                       "location.latitude"),
    "an infinite longitude": ({"text": COMPLAINT, "location": {"latitude": 30.2, "longitude": float("inf")}},
                              "location.longitude"),
    "text of control characters only": ({"text": "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f"}, "text"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_malformed_fields_are_refused_by_name_and_store_nothing(client, demo, case):
    data, field = REFUSED[case]
    before = count(demo, Ticket), count(demo, Message)
    response = client.post("/api/v1/submissions", data=json.dumps(data), content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["field"] == field and response.get_json()["error"]
    assert (count(demo, Ticket), count(demo, Message)) == before


def test_deeply_nested_arrays_are_refused(client, demo):
    before = count(demo, Ticket)
    nested = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/v1/submissions", data=nested, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["field"] == "body"
    assert count(demo, Ticket) == before


def test_a_lone_surrogate_and_a_nul_are_dropped_from_the_stored_text(client, demo):
    raw = '{"text": "%s\\ud800\\u0000\\u0007"}' % COMPLAINT
    response = client.post("/api/v1/submissions", data=raw, content_type="application/json")
    assert response.status_code == 201
    ticket = demo.scalar(select(Ticket).where(Ticket.number == response.get_json()["ticket"]))
    assert ticket.text == COMPLAINT


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80) | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "text": st.one_of(st.just(COMPLAINT), st.text(max_size=60), JSON),
        "channel": st.one_of(st.sampled_from(["web", "api", "deputy", "wechat"]), JSON),
        "station": st.one_of(st.sampled_from(["１２", "١", "²", "0", "99999999999999999999"]), JSON),
        "contact": JSON,
        "location": st.one_of(
            st.fixed_dictionaries({"latitude": st.floats(), "longitude": st.floats()}), JSON),
    },
)


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(FIELDS)
def test_no_submission_body_gets_a_server_error(client, demo, data):
    before = count(demo, Ticket)
    response = client.post("/api/v1/submissions", data=json.dumps(data), content_type="application/json")
    assert response.status_code < 500, response.get_data(as_text=True)
    assert response.is_json
    if response.status_code >= 400:
        assert count(demo, Ticket) == before
