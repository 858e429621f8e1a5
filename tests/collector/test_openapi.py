"""The JSON API described: its OpenAPI 3.1 document is valid, names every
route under /api/v1 and nothing else, and every answer it documents is what
the server sends, checked against the document's own schemas."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.api_docs import document
from routing.flow import workflow
from routing.flow.lookup import PUBLIC_ACTIONS
from routing.flow.ratings import RATINGS, rate
from routing.store.api_clients import issue_key, revoke
from routing.store.people import User
from routing.store.tickets import Kind, Status

from ..helpers import agency_login, ticket
from .test_api import COMPLAINT

LIMIT = 4
DOC = "urn:tingjian:openapi"


@pytest.fixture
def app_config() -> dict:
    # Low enough to reach within a test, high enough for the answers that take a few requests.
    return {"RATELIMIT_API": f"{LIMIT} per minute"}


def test_the_document_is_valid_openapi_3_1():
    validate(document())
    assert document()["openapi"].startswith("3.1.")


def test_the_document_is_served_as_json(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == document()


def documented_routes() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document()["paths"].items() for method in item}


def test_every_route_under_api_v1_is_documented_and_nothing_else(app):
    served = {
        (method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert served == documented_routes()


def test_the_documented_values_are_the_domains(app):
    schemas = document()["components"]["schemas"]
    status = schemas["PublicStatus"]["properties"]
    assert status["status"]["enum"] == [s.value for s in Status]
    assert status["kind"]["enum"] == [k.value for k in Kind]
    assert set(status["rating"]["enum"]) == set(RATINGS) | {None}
    assert set(schemas["Step"]["properties"]["action"]["enum"]) == PUBLIC_ACTIONS
    submission = schemas["Submission"]["properties"]["text"]
    assert (submission["minLength"], submission["maxLength"]) == (5, 5000)


# -- the answers, as the server sends them ----------------------------------------


def assert_documented(response, method: str, path: str) -> None:
    """The response's status is documented for the operation, its content type
    is the documented one, its body valid by the documented schema (JSON
    Schema 2020-12, as OpenAPI 3.1's are), and its documented headers sent."""
    status = str(response.status_code)
    answers = document()["paths"][path][method]["responses"]
    assert status in answers, f"{method} {path} answered {status}, which is not documented"
    answer = answers[status]
    pointer = f"/paths/{path.replace('/', '~1')}/{method}/responses/{status}"
    if "$ref" in answer:
        pointer = answer["$ref"].removeprefix("#")
        answer = document()["components"]["responses"][pointer.rsplit("/", 1)[-1]]
    assert response.mimetype in answer["content"], response.mimetype
    for header, spec in answer.get("headers", {}).items():
        assert not spec.get("required") or header in response.headers, f"no {header} header"
    if response.mimetype != "application/json":
        return
    media = response.mimetype.replace("/", "~1")
    registry = Registry().with_resource(DOC, Resource(contents=document(), specification=DRAFT202012))
    validator = Draft202012Validator({"$ref": f"{DOC}#{pointer}/content/{media}/schema"}, registry=registry)
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(response.get_json())]
    assert not problems, problems


SUBMISSIONS, TICKETS = "/api/v1/submissions", "/api/v1/tickets/{number}"


def submit(client: FlaskClient, body=None, **headers):
    return client.post(SUBMISSIONS, json={"text": COMPLAINT} if body is None else body, headers=headers)


def a_key(demo: Session, name: str = "12345热线") -> str:
    _, key = issue_key(demo, name, datetime(2026, 11, 27, 9))
    demo.commit()
    return key


def revoked_key(demo: Session) -> str:
    key = a_key(demo)
    revoke(demo, "12345热线")
    demo.commit()
    return key


def answered(client: FlaskClient, demo: Session) -> str:
    """A ticket answered by its agency, rated 不满意 and answered again: every
    field of the public status has a value, and ``answers`` has two."""
    receipt = submit(client).get_json()
    found = ticket(demo, receipt["ticket"])
    assert found.status is Status.ASSIGNED, "the demo's model routes the complaint"
    staff = demo.scalar(select(User).where(User.username == agency_login(demo, found.agency)))
    moment = datetime(2026, 12, 1, 10)
    workflow.accept(demo, found, staff, moment)
    workflow.answer(demo, found, staff, moment, "已约谈物业，要求说明收费依据。")
    rate(demo, found, moment, "unsatisfied", "还是涨了")
    workflow.accept(demo, found, staff, moment)
    workflow.answer(demo, found, staff, moment, "已责令物业恢复原收费标准。")
    demo.commit()
    return f"/api/v1/tickets/{receipt['ticket']}?code={receipt['code']}"


# For each documented answer, how to get it from the server: (method, path, status) → requests, the last one checked.
PROVOKE: dict[tuple[str, str, str], Callable[[FlaskClient, Session], object]] = {
    ("post", SUBMISSIONS, "201"): lambda c, d: submit(c, **{"Idempotency-Key": "k-1"}),
    ("post", SUBMISSIONS, "200"): lambda c, d: [submit(c, **{"Idempotency-Key": "k-1"}) for _ in range(2)][-1],
    ("post", SUBMISSIONS, "400"): lambda c, d: submit(c, {"text": COMPLAINT, "contact": {"phone": "call me"}}),
    ("post", SUBMISSIONS, "401"): lambda c, d: submit(c, Authorization=f"Bearer {revoked_key(d)}"),
    ("post", SUBMISSIONS, "413"): lambda c, d: submit(c, {"text": "很" * (1024 * 1024)}),
    ("post", SUBMISSIONS, "422"): lambda c, d: [
        submit(c, {"text": body}, **{"Idempotency-Key": "k-2"}) for body in (COMPLAINT, COMPLAINT + "补充。")
    ][-1],
    ("post", SUBMISSIONS, "429"): lambda c, d: [submit(c, Authorization=f"Bearer {a_key(d)}") for _ in range(LIMIT + 1)][-1],
    ("get", TICKETS, "200"): lambda c, d: c.get(answered(c, d)),
    ("get", TICKETS, "401"): lambda c, d: c.get("/api/v1/tickets/1?code=X", headers={"Authorization": "Bearer tj_guess"}),
    ("get", TICKETS, "404"): lambda c, d: c.get("/api/v1/tickets/999999?code=WRONG123"),
    ("get", TICKETS, "429"): lambda c, d: [c.get("/api/v1/tickets/1?code=X") for _ in range(LIMIT + 1)][-1],
    ("get", "/api/v1/openapi.json", "200"): lambda c, d: c.get("/api/v1/openapi.json"),
    ("get", "/api/v1/docs", "200"): lambda c, d: c.get("/api/v1/docs"),
}


def documented_answers() -> list[tuple[str, str, str]]:
    return [
        (method, path, status)
        for path, item in document()["paths"].items()
        for method, op in item.items()
        for status in op["responses"]
    ]


def test_each_documented_answer_is_provoked_here():
    assert set(PROVOKE) == set(documented_answers())


@pytest.mark.parametrize(("method", "path", "status"), documented_answers(), ids="-".join)
def test_the_server_answers_as_documented(client, demo, method, path, status):
    response = PROVOKE[(method, path, status)](client, demo)
    assert str(response.status_code) == status, response.get_data(as_text=True)[:300]
    assert_documented(response, method, path)


@pytest.mark.parametrize("app_config", [{"RATELIMIT_LOOKUP_TICKET": "2 per hour"}])
def test_too_many_wrong_codes_is_a_429_as_the_rate_limits(client, demo):
    receipt = submit(client).get_json()
    answers = [client.get(f"/api/v1/tickets/{receipt['ticket']}?code=WRONG{i}") for i in range(3)]
    assert [a.status_code for a in answers] == [404, 404, 429]
    assert answers[-1].get_json()["field"] == "code"
    assert answers[-1].get_json()["retry_after"] >= 1 and int(answers[-1].headers["Retry-After"]) >= 1
    assert_documented(answers[-1], "get", TICKETS)


# -- the page for people ---------------------------------------------------------------


def test_the_page_lists_every_operation_its_parameters_and_answers_from_the_document(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for path, item in document()["paths"].items():
        for method, op in item.items():
            assert f"{method.upper()} {path}" in html and f'id="{op["operationId"]}"' in html
            for parameter in op.get("parameters", []):
                assert f"<code>{parameter['name']}</code>" in html
            for status in op["responses"]:
                assert f'id="{op["operationId"]}-{status}"' in html
    for name in document()["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    assert '<a href="#schema-Submission">Submission</a>' in html
    assert "Authorization: Bearer &lt;key&gt;" in html  # what the document says is text, never markup
    assert "<script" not in html  # nothing for the Content-Security-Policy to refuse


def test_the_page_speaks_english_to_those_who_ask(client):
    html = client.get("/api/v1/docs", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h3>Responses</h3>" in html and "<h3>答复</h3>" not in html
