"""Languages: Simplified Chinese by default, English for staff who choose it,
and residents' pages in the language their browser asks for."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from routing.store.people import User

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


def test_every_text_marked_in_the_code_is_in_the_catalogue():
    """A text marked for translation but missing from the catalogue shows in
    Chinese to an English reader: extract as the README's pybabel command does."""
    root = CATALOGUE.parents[3]
    with open(root / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "N_": None}
    marked = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(root, method_map, options_map, keywords)
    }
    with open(CATALOGUE / "messages.po", "rb") as f:
        catalogue = {m.id for m in read_po(f) if m.id}
    assert marked - catalogue == set()


def page_in(client, locale: str, path: str) -> str:
    """``path`` as a person who chose ``locale`` (with the switch in any page's header) sees it."""
    post_form(client, "/locale", {"locale": locale, "next": path}, page="/")
    return client.get(path).get_data(as_text=True)


# Page by page: words an English reader must find, and Chinese ones that must
# then be gone (and that a Chinese reader finds on the same page).
STAFF_PAGES = {
    "/dashboard/": (("Tickets in all", "Overdue and due soon", "Loading…", "Last 7 days"), ("工单总数", "超期与即将到期")),
    "/desk/rules/": (("<h1>Routing rules</h1>", "New rule", "Conditions"), ("<h1>派单规则</h1>", "新建规则")),
    "/desk/rules/new": (("New routing rule", "Lead agency", "Sample text", "Any district"), ("新建派单规则", "主办单位")),
    "/desk/policies": (("Accept and answer deadlines by kind", "Complaint · Normal", "Accept (working days)"),
                       ("投诉举报 · 一般", "签收（工作日）")),
    "/desk/calendar?year=2031": (("chinesecalendar has no holiday schedule for 2031", "Make-up working day"),
                                 ("暂按周一至周五计算工作日", "调休上班")),
    "/scorecards": (("Accepted on time (%)", "What the figures mean", "This month"), ("按时签收率(%)", "指标说明")),
    "/scorecards/deputy-suggestions": (("Deputy suggestion statistics", "No deputy suggestions in this period.", "Conclusion rate"),
                                       ("代表建议办理统计", "统计区间内没有代表建议。")),
    "/tickets/?sort=answer_by": (("Text contains", "Clear filters", "Handle the ticked tickets", "Sort by this column, descending"),
                                 ("内容包含", "清除条件", "批量处理勾选的工单")),
    "/reports/monthly": (("Whole city: monthly ticket report", "1. Overview", "Tickets received", 'lang="en"'),
                         ("全市工单办理月报", "一、总体情况")),
    "/desk/escalations": (("<h1>Reminders and notices", "longest overdue first", "Back to the desk"),
                          ("<h1>催办与通报", "返回分拨台")),
    "/desk/notices": (("<h1>Notices waiting", "No failed notices.", "never lost"), ("<h1>待发通知", "没有发送失败的通知。")),
    "/desk/transcribe/": (("<h1>Transcription (", "No voice notes waiting for transcription."), ("没有等待转写的语音。",)),
    "/no-such-page": (("Page not found", "There is no such page.", "Back to the home page"), ("页面不存在", "返回首页")),
}


def test_an_english_dispatcher_reads_every_staff_page_in_english_and_a_chinese_one_in_chinese(client, auth, demo):
    auth.login("dispatcher")
    for path, (english, chinese) in STAFF_PAGES.items():
        page = page_in(client, "en", path)
        for words in english:
            assert words in page, (path, words)
        for words in chinese:
            assert words not in page, (path, words)
        page = page_in(client, "zh", path)
        for words in chinese:
            assert words in page, (path, words)


def test_the_dashboard_data_and_script_words_follow_the_reader(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo)
    late = ticket(demo, number)
    late.accept_by = datetime(2026, 1, 5, 9)
    demo.commit()
    auth.login("dispatcher")
    page = page_in(client, "en", "/dashboard/")
    assert "&#34;load_failed&#34;" in page or '"load_failed"' in page
    assert "The data could not be loaded" in page and "数据加载失败" not in page
    figures = client.get("/dashboard/data?days=90").get_json()
    channels = {t["name"] for t in figures["by"]["channel"]["totals"]}
    assert "Liaison station page" in channels and "联络站网页" not in channels
    overdue = next(r for r in figures["due"]["overdue"] if r["number"] == number)
    assert overdue["status"] == "Awaiting acceptance" and overdue["which"] == "Accept"
    choose(client, "zh", "/dashboard/")
    channels = {t["name"] for t in client.get("/dashboard/data?days=90").get_json()["by"]["channel"]["totals"]}
    assert "联络站网页" in channels


def test_a_deputy_uses_the_portal_in_english(client, auth, demo):
    auth.login("deputy")
    portal = page_in(client, "en", "/deputy/")
    assert "(deputy to the city people's congress)" in portal.replace("&#39;", "'")
    assert "Recent submissions" in portal and "Kind" in portal and "Passing on constituents" in portal
    assert "代表工作台" not in portal and "最近反映" not in portal
    # A submission the portal refuses says why in English.
    refused = post_form(client, "/deputy/", {"mode": "complaint", "text": "", "constituents": "1"}, page="/deputy/")
    assert refused.status_code == 400 and "Please write what was raised, or record a voice note." in refused.get_data(as_text=True)
    assert "最近反映" in page_in(client, "zh", "/deputy/")


def test_a_workflow_error_is_flashed_in_the_readers_language(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo)
    auth.login("dispatcher")
    detail = f"/desk/tickets/{number}"
    choose(client, "en", detail)
    # Closing needs an answer first: the workflow refuses, and says so in English.
    page = post_form(client, f"{detail}/close", {"reason": ""}, page=detail, follow_redirects=True).get_data(as_text=True)
    assert 'The ticket is "Awaiting acceptance" now: it cannot take the step "Close".' in page.replace("&#34;", '"')
    assert "不能办结" not in page
    choose(client, "zh", detail)
    page = post_form(client, f"{detail}/close", {"reason": ""}, page=detail, follow_redirects=True).get_data(as_text=True)
    assert "工单当前状态为“待签收”，不能办结。" in page


def test_an_agencys_step_forms_and_digests_follow_its_staff(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo)
    auth.login(agency_login(demo, ticket(demo, number).agency))
    detail = page_in(client, "en", f"/agency/tickets/{number}")
    assert '<label for="reason">Reason for returning</label>' in detail and "Return to dispatch" in detail and "退回理由" not in detail
    digests = page_in(client, "en", "/agency/digests")
    assert "Daily digest" in digests and "每日简报" not in digests


def test_the_residents_form_follows_the_browser(client, demo):
    english = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Report a problem" in english and "The problem you want to report" in english and "Place (optional)" in english
    chinese = client.get("/").get_data(as_text=True)
    assert "向人大代表反映问题" in chinese and "您要反映的问题" in chinese
