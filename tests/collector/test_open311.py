"""Open311 GeoReport v2 under /open311/v2: the topics as services, a request
posted with an API key becomes a ticket through the same intake as every
channel, and tickets are read back as service requests — every JSON answer
valid against the specification's published schemas, every XML answer
carrying the same fields."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from collector.open311_services import code_of
from routing.clock import now
from routing.flow import workflow
from routing.store.api_clients import issue_key, revoke
from routing.store.people import User
from routing.store.tickets import Message, Status, Ticket

from ..helpers import agency_login, ticket
from .open311_schemas import as_texts, assert_valid, xml_items
from .test_api import COMPLAINT, count

BASE = "/open311/v2"
PROPERTY = code_of("城乡建设/物业管理")


@pytest.fixture
def key(demo) -> str:
    _client, key = issue_key(demo, "市民随手拍", now())
    demo.commit()
    return key


def post_request(client, key, fmt="json", **fields):
    form = {"api_key": key, "service_code": PROPERTY, "description": COMPLAINT, "lat": "30.2741", "long": "120.1313",
            "address_string": "西湖区文新街道某小区", **fields}
    return client.post(f"{BASE}/requests.{fmt}", data={k: v for k, v in form.items() if v is not None})


def test_discovery_names_the_endpoint_and_its_formats(client, demo):
    body = client.get(f"{BASE}/discovery.json").get_json()
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://tingjian.test/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    tree = ElementTree.fromstring(client.get(f"{BASE}/discovery.xml").data)
    assert [f.text for f in tree.find("endpoints/endpoint/formats")] == endpoint["formats"]


def test_services_are_the_topics_the_classifier_knows_with_stable_codes(app, client, demo):
    response = client.get(f"{BASE}/services.json")
    assert response.status_code == 200 and response.content_type == "application/json; charset=utf-8"
    services = response.get_json()
    assert_valid(services, "services.json")
    labels = app.extensions["tingjian"].classifier.current().model.labels
    assert {s["service_code"] for s in services} == {code_of(label) for label in labels}
    # The code is the label's, whichever model is active: pinned, so that clients' codes keep working.
    property_service = next(s for s in services if s["service_code"] == PROPERTY)
    assert PROPERTY == "4713ac55b3"
    assert property_service | {"description": None} == {
        "service_code": PROPERTY, "service_name": "城乡建设 / 物业管理", "description": None, "metadata": False,
        "type": "realtime", "keywords": "城乡建设, 物业管理", "group": "城乡建设",
    }
    assert xml_items(client.get(f"{BASE}/services.xml").data, "services", "service") == [as_texts(s) for s in services]


def test_a_service_definition_has_no_attributes_and_an_unknown_service_is_404(client, demo):
    definition = client.get(f"{BASE}/services/{PROPERTY}.json").get_json()
    assert_valid(definition, "service-definition.json")
    assert definition == {"service_code": PROPERTY, "attributes": []}
    tree = ElementTree.fromstring(client.get(f"{BASE}/services/{PROPERTY}.xml").data)
    assert tree.tag == "service_definition" and tree.findtext("service_code") == PROPERTY
    missing = client.get(f"{BASE}/services/nosuchcode.json")
    assert missing.status_code == 404
    assert [set(e) for e in missing.get_json()] == [{"code", "description"}] and missing.get_json()[0]["code"] == 404
    missing = client.get(f"{BASE}/services/nosuchcode.xml")
    assert missing.status_code == 404 and ElementTree.fromstring(missing.data).findtext("error/code") == "404"


def test_a_posted_request_becomes_a_classified_routed_ticket_of_the_open311_channel(client, demo, key):
    response = post_request(client, key, first_name="三", last_name="张", phone="13800000000",
                            email="zhang@example.com", media_url="https://img.example.com/1.jpg")
    assert response.status_code == 200, response.get_data(as_text=True)
    (created,) = response.get_json()
    assert_valid(created, "swagger.json#RequestResponse")
    made = ticket(demo, created["service_request_id"])
    assert made.channel == "open311" and made.text == COMPLAINT
    assert (made.topic, made.subtopic) == ("城乡建设", "物业管理")
    assert made.status is Status.ASSIGNED and made.agency is not None and made.answer_by is not None
    assert (made.contact_name, made.contact_phone) == ("张三", "13800000000")
    assert (made.latitude, made.longitude, made.location_text) == (30.2741, 120.1313, "西湖区文新街道某小区")
    payload = made.messages[0].payload
    assert payload["service_code"] == PROPERTY and payload["api_client"] == "市民随手拍"
    assert payload["email"] == "zhang@example.com" and payload["media_url"] == "https://img.example.com/1.jpg"
    # What happens next, and the resident's way to the status page.
    assert made.agency.name in created["service_notice"] and f"code={made.code}" in created["service_notice"]
    xml = post_request(client, key, "xml", description=COMPLAINT + "（再次反映）", lat=None, long=None)
    tree = ElementTree.fromstring(xml.data)
    assert xml.status_code == 200 and tree.tag == "service_requests"
    assert ticket(demo, tree.findtext("request/service_request_id")).latitude is None


@pytest.mark.parametrize("given", ["none", "wrong", "revoked"])
def test_posting_without_a_valid_api_key_is_403_and_stores_nothing(client, demo, key, given):
    if given == "revoked":
        revoke(demo, "市民随手拍")
        demo.commit()
    before = count(demo, Ticket), count(demo, Message)
    response = post_request(client, {"none": None, "wrong": "tj_wrong", "revoked": key}[given])
    assert response.status_code == 403 and response.get_json()[0]["code"] == 403
    assert (count(demo, Ticket), count(demo, Message)) == before


REFUSED = {
    "no service_code": ({"service_code": None}, "service_code"),
    "an unknown service_code": ({"service_code": "nosuchcode"}, "service_code"),
    "no description": ({"description": None}, "description"),
    "a description too short": ({"description": "路灯坏"}, "description"),
    "no location": ({"lat": None, "long": None, "address_string": None}, "lat"),
    "an address_id alone": ({"lat": None, "long": None, "address_string": None, "address_id": "17"}, "address_id"),
    "a latitude without longitude": ({"long": None}, "lat"),
    "a latitude not a number": ({"lat": "north"}, "lat"),
    "a latitude off the globe": ({"lat": "91"}, "lat"),
    "a NaN longitude": ({"long": "nan"}, "long"),
    "an attribute no service has": ({"attribute[WHISHETN]": "124"}, "attribute"),
    "a media_url not on the web": ({"media_url": "javascript:alert(1)"}, "media_url"),
    "a malformed email": ({"email": "not an address"}, "email"),
    "a phone of letters": ({"phone": "call me"}, "phone"),
    "an address too long": ({"address_string": "某" * 201}, "address_string"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_requests_are_400_naming_the_parameter_and_store_nothing(client, demo, key, case):
    fields, parameter = REFUSED[case]
    before = count(demo, Ticket), count(demo, Message)
    response = post_request(client, key, **fields)
    assert response.status_code == 400, response.get_data(as_text=True)
    (error,) = response.get_json()
    assert error["code"] == 400 and parameter in error["description"]
    assert (count(demo, Ticket), count(demo, Message)) == before


def test_a_request_reads_back_with_its_state_deadline_and_agency_and_no_personal_data(client, demo, key):
    number = post_request(client, key, first_name="三", last_name="张", phone="13800000000",
                          email="zhang@example.com", media_url="https://img.example.com/1.jpg").get_json()[0][
        "service_request_id"]
    made = ticket(demo, number)
    response = client.get(f"{BASE}/requests/{number}.json")
    assert response.status_code == 200
    body = response.get_json()
    assert_valid(body, "requests.json")
    (request,) = body
    assert request["status"] == "open" and request["status_notes"] == "待签收"
    assert (request["service_code"], request["service_name"]) == (PROPERTY, "城乡建设 / 物业管理")
    assert request["agency_responsible"] == made.agency.name
    assert request["requested_datetime"] == made.created_at.isoformat() + "+08:00"
    assert request["expected_datetime"] == made.answer_by.isoformat() + "+08:00"
    assert (request["address"], request["lat"], request["long"]) == ("西湖区文新街道某小区", 30.2741, 120.1313)
    assert request["media_url"] == "https://img.example.com/1.jpg" and request["description"] == COMPLAINT
    text = response.get_data(as_text=True)
    assert not any(secret in text for secret in ("张三", "13800000000", "zhang@example.com", made.code))
    (xml,) = xml_items(client.get(f"{BASE}/requests/{number}.xml").data, "service_requests", "request")
    assert xml == as_texts(request)
    assert client.get(f"{BASE}/requests/20990101999999.json").status_code == 404
    assert client.get(f"{BASE}/requests/not-a-number.xml").status_code == 404


def test_another_channels_ticket_shows_only_its_district_and_street(client, demo):
    number = client.post("/api/v1/submissions", json={
        "text": COMPLAINT, "location": {"latitude": 30.27, "longitude": 120.13, "label": "我家楼下"},
        "contact": {"name": "李女士", "phone": "13900000000"},
    }).get_json()["ticket"]
    (request,) = client.get(f"{BASE}/requests/{number}.json").get_json()
    assert request["address"] == "西湖区文新街道"
    assert (request["lat"], request["long"], request["description"], request["media_url"]) == (None,) * 4
    assert "我家楼下" not in str(request) and "李女士" not in str(request)


def test_an_answered_request_is_closed_with_the_answer_in_its_notes(client, demo, key):
    number = post_request(client, key).get_json()[0]["service_request_id"]
    made = ticket(demo, number)
    staff = demo.scalar(select(User).where(User.username == agency_login(demo, made.agency)))
    workflow.accept(demo, made, staff, now())
    workflow.answer(demo, made, staff, now(), "已约谈物业公司，停车费恢复原价。")
    demo.commit()
    (request,) = client.get(f"{BASE}/requests/{number}.json").get_json()
    assert request["status"] == "closed"
    assert request["status_notes"] == "已答复；答复：已约谈物业公司，停车费恢复原价。"
    assert request["updated_datetime"] == ticket(demo, number).updated_at.isoformat() + "+08:00"


def test_requests_are_found_by_ids_service_status_dates_and_pages(client, demo, key):
    numbers = [post_request(client, key, description=f"{COMPLAINT}（第 {i} 次）").get_json()[0]["service_request_id"]
               for i in range(3)]

    def found(**args):
        response = client.get(f"{BASE}/requests.json", query_string=args)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert_valid(response.get_json(), "requests.json")
        return [r["service_request_id"] for r in response.get_json()]

    assert found(service_request_id=f"{numbers[0]},{numbers[2]}, nonsense") == [numbers[2], numbers[0]]
    assert found(service_code=PROPERTY)[:3] == numbers[::-1]
    assert found(service_code=PROPERTY, status="closed") == []
    assert found(status="open,closed", page_size="2") == numbers[:0:-1]
    assert found(page_size="2", page="2")[:1] == [numbers[0]]
    today = now()
    assert found(start_date=(today - timedelta(days=1)).isoformat() + "+08:00")[:3] == numbers[::-1]
    assert found(end_date=(today - timedelta(days=1)).isoformat() + "Z") == []


@pytest.mark.parametrize("args, status", [
    ({"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-06-01T00:00:00+08:00"}, 400),
    ({"start_date": "2026-06-01", "end_date": "2026-01-01"}, 400),
    ({"start_date": "yesterday"}, 400),
    ({"start_date": "0001-01-01"}, 400),
    ({"status": "pending"}, 400),
    ({"page": "0"}, 400),
    ({"page_size": "1001"}, 400),
    ({"page": "١"}, 400),
    ({"service_code": "nosuchcode"}, 404),
])
def test_bad_queries_get_the_specifications_errors(client, demo, args, status):
    for fmt in ("json", "xml"):
        response = client.get(f"{BASE}/requests.{fmt}", query_string=args)
        assert response.status_code == status
    assert client.get(f"{BASE}/requests.json", query_string=args).get_json()[0]["code"] == status


def test_a_jurisdiction_other_than_the_citys_is_404(app, client, demo, key):
    app.config["OPEN311_JURISDICTION"] = "hangzhou.gov.cn"
    assert client.get(f"{BASE}/services.json", query_string={"jurisdiction_id": "hangzhou.gov.cn"}).status_code == 200
    assert client.get(f"{BASE}/services.json").status_code == 200
    before = count(demo, Ticket)
    assert post_request(client, key, jurisdiction_id="sf.gov").status_code == 404
    assert count(demo, Ticket) == before


def test_unknown_formats_and_methods_are_answered_in_the_specifications_errors(client, demo):
    response = client.get(f"{BASE}/services.html")
    assert response.status_code == 400 and ElementTree.fromstring(response.data).tag == "errors"
    response = client.delete(f"{BASE}/requests.json")
    assert response.status_code == 405 and response.get_json()[0]["code"] == 405
    response = client.get(f"{BASE}/tokens/1.xml")
    assert response.status_code == 404 and ElementTree.fromstring(response.data).findtext("error/code") == "404"
    assert client.delete("/api/v1/submissions").status_code == 405  # elsewhere as before
