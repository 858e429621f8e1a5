"""Open311's POST with input a client controls: whatever the form holds, the
answer is the specification's (a 4xx with its errors, or the new request),
never a server error, and a refused request stores nothing."""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from collector.open311_services import code_of
from routing.clock import now
from routing.store.api_clients import issue_key
from routing.store.tickets import Message, Ticket

from .test_api import COMPLAINT, count

PROPERTY = code_of("城乡建设/物业管理")
TEXT = st.text(max_size=40)
NUMBER = st.one_of(st.floats().map(str), st.sampled_from(["", "nan", "-inf", "1e400", "91", "30.2", "١٢", "0x1f"]), TEXT)
# The fields a request needs are mostly right, so that the rest is tried on requests that could pass.
FORM = st.fixed_dictionaries(
    {
        "api_key": st.sampled_from(["KEY", "KEY", "KEY", "", "tj_wrong", "KEY\x00"]),
        "service_code": st.one_of(st.just(PROPERTY), st.just(PROPERTY), st.just("unclassified"), TEXT),
        "description": st.one_of(st.just(COMPLAINT), st.just(COMPLAINT), TEXT, st.just("\x00" * 10)),
        "address_string": st.one_of(st.just("文新街道"), st.just("文新街道"), TEXT, st.just("某" * 300)),
    },
    optional={
        "lat": NUMBER,
        "long": NUMBER,
        "address_id": TEXT,
        "attribute[WHISHETN]": TEXT,
        "media_url": st.one_of(st.just("https://img.example.com/1.jpg"), TEXT, st.just("http://" + "a" * 1100)),
        "email": st.one_of(st.just("zhang@example.com"), TEXT),
        "first_name": TEXT,
        "last_name": TEXT,
        "phone": st.one_of(st.just("13800000000"), TEXT),
        "device_id": TEXT,
        "account_id": st.text(max_size=80),
    },
)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(FORM, st.sampled_from(["json", "xml", "html"]))
def test_no_posted_form_gets_a_server_error_and_a_refused_one_stores_nothing(client, demo, form, fmt):
    if "KEY" in form["api_key"]:
        _client, key = issue_key(demo, "fuzz", now())
        demo.commit()
        form = {**form, "api_key": form["api_key"].replace("KEY", key)}
    before = count(demo, Ticket), count(demo, Message)
    response = client.post(f"/open311/v2/requests.{fmt}", data=form)
    event(f"status {response.status_code}")
    assert response.status_code < 500, response.get_data(as_text=True)
    assert response.content_type.startswith("application/json" if fmt == "json" else "text/xml")
    if response.status_code >= 400:
        assert (count(demo, Ticket), count(demo, Message)) == before
    else:
        assert count(demo, Ticket) == before[0] + 1
