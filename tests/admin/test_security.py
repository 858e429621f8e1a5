"""Safe in the browser: untrusted text stays text, staff sessions expire when
idle, cookies are locked down, and the public form is rate-limited."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from admin import create_app
from admin.security import LAST_SEEN
from admin.settings import from_environment
from routing.store.people import Agency

from ..conftest import post_form
from ..helpers import agency_login, ticket
from .test_flow import submit_on_the_station_page

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(1)>"
STATIC = Path(__file__).parents[2] / "admin" / "static"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"


def session_cookie(response) -> str:
    return next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))


def assert_inert(html: str) -> None:
    assert "<script>alert" not in html and "<img src=x" not in html


def test_script_in_a_complaint_is_shown_as_text_everywhere(client, auth, demo):
    # Three residents (a hot issue is one several people raised).
    numbers = [submit_on_the_station_page(client, demo, PAYLOAD, phone=f"1380000000{i}")[0] for i in range(3)]
    number = numbers[0]
    t = ticket(demo, number)
    assert t.text == PAYLOAD  # stored as the resident wrote it, escaped only when shown

    auth.login("dispatcher")
    desk = client.get("/desk/").get_data(as_text=True)
    assert_inert(desk)
    assert "&lt;script&gt;" in desk
    page = client.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert_inert(page)
    assert ESCAPED in page

    data = client.get("/dashboard/data?days=7")
    assert data.mimetype == "application/json" and data.headers["X-Content-Type-Options"] == "nosniff"
    hot = data.get_json()["hot"]
    assert any(group["text"] == PAYLOAD for group in hot)  # the dashboard's script sets it as text
    assert "innerHTML" not in (STATIC / "dashboard.js").read_text()
    auth.logout()

    # Routed to an agency (or sent to triage first): the agency's page and its
    # answer on the resident's status page escape it too.
    if t.agency is None:
        auth.login("dispatcher")
        agency = demo.scalar(select(Agency).where(Agency.name == "市住建局"))
        post_form(client, f"/desk/tickets/{number}/correct", {"topic": "", "agency": str(agency.id)},
                  page=f"/desk/tickets/{number}")
        auth.logout()
        t = ticket(demo, number)
    auth.login(agency_login(demo, t.agency))
    agency_page = f"/agency/tickets/{number}"
    html = client.get(agency_page).get_data(as_text=True)
    assert_inert(html)
    assert ESCAPED in html
    post_form(client, f"{agency_page}/accept", {}, page=agency_page)
    post_form(client, f"{agency_page}/answer", {"answer": PAYLOAD}, page=agency_page)
    auth.logout()

    status = client.get(f"/status/{number}?code={t.code}").get_data(as_text=True)
    assert_inert(status)
    assert ESCAPED in status


def test_pages_carry_a_policy_that_refuses_inline_and_foreign_scripts(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src", 1)[1].split(";")[0]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_the_session_cookie_is_http_only_and_same_site(client, auth, demo):
    response = auth.login("dispatcher")
    cookie = session_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_secure_behind_https(tmp_path, monkeypatch):
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    settings = from_environment(str(tmp_path), {"SECRET_KEY": "x"})
    assert settings["SESSION_COOKIE_SECURE"] is True and settings["REMEMBER_COOKIE_SECURE"] is True
    assert settings["IDLE_MINUTES"] == 30


@pytest.fixture
def secure_app(database_url, model_dir):
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": database_url, "MODEL_DIR": str(model_dir),
                      "JOBS_IN_PROCESS": False, "SESSION_COOKIE_SECURE": True})
    yield app
    app.extensions["tingjian"].db.dispose()


def test_the_session_cookie_is_secure_when_set(secure_app):
    client = secure_app.test_client()
    response = client.get("/login", base_url="https://localhost")
    assert "Secure" in session_cookie(response)


def test_an_idle_staff_session_must_log_in_again(client, auth, demo, app):
    auth.login("dispatcher")
    assert client.get("/desk/").status_code == 200
    with client.session_transaction() as session:
        session[LAST_SEEN] = time.time() - app.config["IDLE_MINUTES"] * 60 - 1
    response = client.get("/desk/?x=1")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"] and "next=" in response.headers["Location"]
    login = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "30 分钟没有操作" in login and "请重新登录" in login
    assert client.get("/desk/").status_code == 302  # logged out, not just warned

    auth.login("dispatcher")  # a fresh login starts a fresh idle clock
    assert client.get("/desk/").status_code == 200


@pytest.mark.parametrize("app_config", [{"RATELIMIT_SUBMIT": "2 per minute"}])
def test_the_public_form_is_rate_limited_with_a_polite_page(client, demo):
    submit_on_the_station_page(client, demo)
    submit_on_the_station_page(client, demo)
    response = post_form(client, "/", {"text": "第三次提交同样的问题，看看会不会被拦下来。"})
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "提交太频繁" in page and "请稍等几分钟再试" in page
    assert client.get("/").status_code == 200  # reading the form is never limited
