"""Languages: Simplified Chinese by default, English for staff who choose it,
and residents' pages in the language their browser asks for."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from routing.models import User

from ..conftest import post_form
from ..helpers import agency_login, ticket
from .test_flow import submit_on_the_station_page

CATALOGUE = Path(__file__).resolve().parents[2] / "admin" / "translations" / "en" / "LC_MESSAGES"


def choose(client, locale: str, page: str = "/desk/"):
    return post_form(client, "/locale", {"locale": locale, "next": page}, page=page, follow_redirects=True)


def test_a_chinese_user_sees_chinese_and_an_english_user_english(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo)
    auth.login("dispatcher")
    desk = client.get("/desk/").get_data(as_text=True)
    assert "<h1>分拨台</h1>" in desk and "最近受理" in desk and "工单号" in desk and 'lang="zh-CN"' in desk
    assert ">English</button>" in desk  # the switch offers the other language

    page = choose(client, "en").get_data(as_text=True)
    assert "<h1>Dispatch desk</h1>" in page and "Recently received" in page and "<th>Number</th>" in page
    assert ">Monthly report</a>" in page
    assert 'lang="en"' in page and "Log out (" in page and ">中文</button>" in page
    assert "<h1>分拨台</h1>" not in page
    demo.expire_all()
    assert demo.scalar(select(User.locale).where(User.username == "dispatcher")) == "en"

    detail = client.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert f"Ticket {number}" in detail and "Timeline" in detail and "Awaiting acceptance" in detail

    # The choice belongs to the person: it is there after logging in again, until changed back.
    auth.logout()
    auth.login("dispatcher")
    assert "<h1>Dispatch desk</h1>" in client.get("/desk/").get_data(as_text=True)
    assert "<h1>分拨台</h1>" in choose(client, "zh").get_data(as_text=True)


def test_agency_staff_read_their_queue_in_their_language(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo)
    auth.login(agency_login(demo, ticket(demo, number).agency))
    assert "待办工单" in client.get("/agency/").get_data(as_text=True)
    queue = choose(client, "en", "/agency/").get_data(as_text=True)
    assert "Open tickets" in queue and "Accept within the accept deadline" in queue and "待办工单" not in queue


def test_the_login_and_status_pages_follow_the_browser_chinese_by_default(client, demo):
    number, code = submit_on_the_station_page(client, demo)
    assert "<h1>工作人员登录</h1>" in client.get("/login").get_data(as_text=True)
    english = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "<h1>Staff login</h1>" in english and "Username" in english and "Password" in english
    assert "<h1>工作人员登录</h1>" in client.get("/login", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    preferred = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}).get_data(as_text=True)
    assert "<h1>工作人员登录</h1>" in preferred

    status = client.get(f"/status/{number}?code={code}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"<h1>Ticket {number}</h1>" in status and "Progress" in status and "Awaiting acceptance" in status
    assert "Sent to the agency" in status and "已派至承办单位" not in status
    status = client.get(f"/status/{number}?code={code}").get_data(as_text=True)
    assert f"<h1>工单 {number}</h1>" in status and "办理过程" in status and "已派至承办单位" in status


def test_the_switch_takes_known_languages_with_a_token_from_logged_in_people(client, auth, demo):
    assert client.post("/locale", data={"locale": "en"}).status_code == 400  # no CSRF token
    auth.login("dispatcher")
    assert post_form(client, "/locale", {"locale": "fr"}, page="/desk/").status_code == 400
    response = post_form(client, "/locale", {"locale": "en", "next": "//evil.example/"}, page="/desk/")
    assert response.headers["Location"].endswith("/home")


def test_the_committed_catalogue_is_complete_and_compiled():
    with open(CATALOGUE / "messages.po", "rb") as f:
        source = read_po(f)
    with open(CATALOGUE / "messages.mo", "rb") as f:
        compiled = read_mo(f)
    translated = {m.id: m.string for m in source if m.id}
    assert all(translated.values()), [k for k, v in translated.items() if not v]
    assert {m.id: m.string for m in compiled if m.id} == translated
