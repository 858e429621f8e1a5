"""The rest of the workflow through the staff pages: waiting on the resident,
extensions, reopening, merging and marking spam invalid."""

from __future__ import annotations

from datetime import date

from routing.store.tickets import Status

from ..conftest import post_form
from ..helpers import agency_login, ticket
from .test_flow import COMPLAINT, submit_on_the_station_page


def agency_page(number):
    return f"/agency/tickets/{number}"


def desk_page(number):
    return f"/desk/tickets/{number}"


def test_an_agency_waits_on_the_resident_and_gets_more_time_from_the_dispatcher(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo)
    t = ticket(demo, number)
    auth.login(agency_login(demo, t.agency))
    post_form(client, f"/agency/tickets/{number}/accept", {}, page=agency_page(number))
    post_form(client, f"/agency/tickets/{number}/ask", {"question": "请告知小区名称和楼号。"}, page=agency_page(number))
    t = ticket(demo, number)
    assert t.status is Status.WAITING and t.paused_at is not None
    assert "待群众补充" in client.get(agency_page(number)).get_data(as_text=True)
    post_form(client, f"/agency/tickets/{number}/resume", {}, page=agency_page(number))
    assert ticket(demo, number).status is Status.ACCEPTED

    later = (ticket(demo, number).answer_by.date().replace(day=1).toordinal() + 62)
    until = date.fromordinal(later).isoformat()
    page = post_form(client, f"/agency/tickets/{number}/extension", {"until": until, "reason": ""},
                     page=agency_page(number), follow_redirects=True).get_data(as_text=True)
    assert "请填写延期理由" in page and ticket(demo, number).extension_until is None
    post_form(client, f"/agency/tickets/{number}/extension", {"until": until, "reason": "需要多部门会商"},
              page=agency_page(number))
    assert ticket(demo, number).extension_until.date().isoformat() == until
    # The agency cannot decide its own request.
    refused = post_form(client, f"/desk/tickets/{number}/approve_extension", {}, page=agency_page(number))
    assert refused.status_code == 403 and ticket(demo, number).extension_until is not None
    auth.logout()

    auth.login("dispatcher")
    assert "延期审批" in client.get(desk_page(number)).get_data(as_text=True)
    post_form(client, f"/desk/tickets/{number}/approve_extension", {}, page=desk_page(number))
    t = ticket(demo, number)
    assert t.answer_by.date().isoformat() == until and t.extension_until is None
    assert [e.action for e in t.events][-2:] == ["request_extension", "approve_extension"]


def test_a_dispatcher_merges_duplicates_reopens_an_answer_and_marks_spam(client, auth, demo):
    first, _ = submit_on_the_station_page(client, demo)
    second, second_code = submit_on_the_station_page(client, demo, COMPLAINT + "我也是这个小区的业主。")
    spam, _ = submit_on_the_station_page(client, demo, "低价代开发票，加微信联系，量大从优。")

    auth.login("dispatcher")
    page = post_form(client, f"/desk/tickets/{second}/merge", {"into": "20990101000001"}, page=desk_page(second),
                     follow_redirects=True).get_data(as_text=True)
    assert "没有找到工单" in page
    post_form(client, f"/desk/tickets/{second}/merge", {"into": first, "reason": "同一小区同一事项"}, page=desk_page(second))
    assert ticket(demo, second).status is Status.MERGED
    post_form(client, f"/desk/tickets/{spam}/invalidate", {"reason": "广告"}, page=desk_page(spam))
    assert ticket(demo, spam).status is Status.INVALID
    auth.logout()

    t = ticket(demo, first)
    auth.login(agency_login(demo, t.agency))
    post_form(client, f"/agency/tickets/{first}/accept", {}, page=agency_page(first))
    post_form(client, f"/agency/tickets/{first}/answer", {"answer": "已责令物业恢复原价。"}, page=agency_page(first))
    auth.logout()
    # The resident of the merged ticket reads the same answer.
    status = client.get(f"/status/{second}?code={second_code}").get_data(as_text=True)
    assert "已责令物业恢复原价。" in status

    auth.login("dispatcher")
    post_form(client, f"/desk/tickets/{first}/reopen", {"reason": "群众反映仍按三百元收费"}, page=desk_page(first))
    t = ticket(demo, first)
    assert t.status is Status.ASSIGNED and t.answer is None
    assert t.events[-1].reason == "群众反映仍按三百元收费"


def test_the_resident_rates_the_answer_on_the_status_page_with_the_code_only(client, auth, demo):
    number, code = submit_on_the_station_page(client, demo)
    t = ticket(demo, number)
    auth.login(agency_login(demo, t.agency))
    post_form(client, f"/agency/tickets/{number}/accept", {}, page=agency_page(number))
    post_form(client, f"/agency/tickets/{number}/answer", {"answer": "已恢复原收费标准。"}, page=agency_page(number))
    auth.logout()

    status_page = f"/status/{number}?code={code}"
    assert "您对答复满意吗" in client.get(status_page).get_data(as_text=True)
    wrong = post_form(client, f"/status/{number}/rating", {"code": "WRONGCODE", "rating": "satisfied"}, page=status_page)
    assert wrong.status_code == 404 and ticket(demo, number).status is Status.ANSWERED
    page = post_form(client, f"/status/{number}/rating", {"code": code, "rating": "unsatisfied", "comment": "还是三百元"},
                     page=status_page, follow_redirects=True).get_data(as_text=True)
    assert "重新办理" in page
    t = ticket(demo, number)
    assert t.status is Status.ASSIGNED and t.events[-1].reason == "群众不满意：还是三百元"
    assert "您对答复满意吗" not in client.get(status_page).get_data(as_text=True)
