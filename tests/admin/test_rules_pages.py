"""The dispatcher's settings pages: routing rules (with a dry run that writes
nothing), deadline policies and the calendar; and what assisting agencies see."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from routing.store.configuration import CalendarOverride, ConfigChange, DeadlinePolicy, RoutingRule
from routing.store.people import Agency
from routing.store.tickets import Kind, Message, Status, Ticket, TicketEvent, Urgency

from ..conftest import post_form
from ..helpers import agency_login, ticket
from .test_flow import COMPLAINT, submit_on_the_station_page


def agency(session, name: str) -> Agency:
    return session.scalar(select(Agency).where(Agency.name == name))


def local_rule(session, topic="城乡建设", district="西湖区") -> RoutingRule:
    return session.scalar(
        select(RoutingRule).where(
            RoutingRule.topic == topic, RoutingRule.subtopic.is_(None),
            RoutingRule.agency_id == agency(session, f"{district}人民政府").id,
        )
    )


def counts(session) -> dict[str, int]:
    session.expire_all()
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model))
        for model in (RoutingRule, ConfigChange, Ticket, TicketEvent, Message)
    }


def rule_data(session, **changes) -> dict:
    data = {"topic": "城乡建设", "district": "", "street": "", "keywords": "", "priority": "0", "note": "",
            "active": "y", "sample": ""}
    data.update(changes)
    return data


@pytest.mark.parametrize("url", ["/desk/rules/", "/desk/rules/new", "/desk/policies", "/desk/calendar"])
def test_settings_pages_are_for_dispatchers_and_admins_only(client, auth, demo, url):
    assert client.get(url).status_code == 302  # to the login
    auth.login("zhujian")
    assert client.get(url).status_code == 403
    auth.logout()
    for username in ("dispatcher", "admin"):
        auth.login(username)
        assert client.get(url).status_code == 200
        auth.logout()


def rule_rows(client, url: str) -> str:
    return client.get(url).get_data(as_text=True).partition("<tbody>")[2]


def test_the_rule_list_filters_by_topic_and_agency(client, auth, demo):
    auth.login("dispatcher")
    rows = rule_rows(client, "/desk/rules/?topic=环境保护")
    assert "市生态环境局" in rows and "市人社局" not in rows
    # The demo's keyword rule, with the police assisting on bar noise.
    assert "关键词：酒吧、KTV、夜宵、广场舞" in rows and "市公安局" in rows
    xihu = agency(demo, "西湖区人民政府")
    rows = rule_rows(client, f"/desk/rules/?agency={xihu.id}")
    assert "西湖区人民政府" in rows and "市生态环境局" not in rows and "上城区人民政府" not in rows


def test_trying_a_sample_text_shows_the_unsaved_edit_winning_and_writes_nothing(client, auth, demo):
    auth.login("dispatcher")
    rule = local_rule(demo)
    city = agency(demo, "市城管局")
    before = counts(demo)
    url = f"/desk/rules/{rule.id}"
    response = post_form(client, url, rule_data(
        demo, district=str(rule.district_id), agency=str(city.id), keywords="停车费",
        assisting=[str(agency(demo, "市市场监管局").id)], sample=COMPLAINT, action="test",
    ))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "试用结果（未保存）" in page
    assert "城乡建设" in page and "西湖区" in page and "文新街道" in page
    assert "本规则（按当前填写的内容）" in page and "命中关键词：停车费" in page
    assert "<strong>市城管局</strong>" in page and "市市场监管局" in page
    assert "西湖区人民政府（规则 #%d）" % rule.id in page  # what the stored rules say
    assert counts(demo) == before
    demo.expire_all()
    stored = demo.get(RoutingRule, rule.id)
    assert stored.agency.name == "西湖区人民政府" and stored.keywords == "" and stored.assisting == []


def test_a_new_rule_is_saved_audited_and_moves_no_assigned_ticket_but_says_how_many_it_would(client, auth, demo):
    number, _ = submit_on_the_station_page(client, demo)
    assigned_to = ticket(demo, number).agency.name
    auth.login("dispatcher")
    city = agency(demo, "市城管局")
    response = post_form(client, "/desk/rules/new", rule_data(
        demo, keywords="停车费", agency=str(city.id), priority="10", note="停车收费归城管", action="save",
    ), page="/desk/rules/new", follow_redirects=True)
    page = response.get_data(as_text=True)
    # This one, and the demo's sample about the same parking fees.
    moved = demo.scalars(select(Ticket.number).where(Ticket.text.contains("停车费")).order_by(Ticket.id)).all()
    assert len(moved) == 2 and number in moved
    assert "规则已保存。按新规则，有 2 张未办结工单会派给不同单位（%s）" % "、".join(moved) in page
    assert "已派出的工单不会自动改派" in page
    assert ticket(demo, number).agency.name == assigned_to
    rule = demo.scalar(select(RoutingRule).where(RoutingRule.keywords == "停车费"))
    assert rule.priority == 10 and rule.updated_by == "分拨中心值班员（分拨员）"
    change = demo.scalar(select(ConfigChange).where(ConfigChange.subject == "rule", ConfigChange.subject_id == rule.id))
    assert change.action == "create" and change.after["agency"] == "市城管局" and change.before is None
    assert "变更记录" in page and "停车收费归城管" in page

    # The next ticket like it goes by the new rule.
    second, _ = submit_on_the_station_page(client, demo)
    assert ticket(demo, second).agency.name == "市城管局"


def test_a_rule_is_deactivated_not_deleted_and_edits_are_checked(client, auth, demo):
    auth.login("dispatcher")
    rule = local_rule(demo)
    url = f"/desk/rules/{rule.id}"
    housing = agency(demo, "市住建局")
    response = post_form(client, url, rule_data(
        demo, agency=str(housing.id), assisting=[str(housing.id)], action="save",
    ))
    assert response.status_code == 400 and "主办单位不能同时是协办单位" in response.get_data(as_text=True)
    response = post_form(client, f"{url}/deactivate", {}, page=url, follow_redirects=True)
    assert "已停用" in response.get_data(as_text=True)
    demo.expire_all()
    assert demo.get(RoutingRule, rule.id).active is False
    actions = demo.scalars(select(ConfigChange.action).where(ConfigChange.subject_id == rule.id)).all()
    assert actions == ["deactivate"]


def policy_boxes(page: str) -> dict[str, str]:
    """The policy table's boxes as the page fills them in."""
    return dict(re.findall(r'name="([a-z_]+-[a-z_]+-(?:accept|answer)_[a-z]+)"[^>]*?value="([^"]*)"', page))


def test_the_policy_table_shows_every_kind_and_hour_counted_ones_accept_within_the_hour(client, auth, demo):
    auth.login("dispatcher")
    page = client.get("/desk/policies").get_data(as_text=True)
    boxes = policy_boxes(page)
    assert len(boxes) == len(Kind) * len(Urgency) * 4
    assert "代表建议 · 一般" in page and "水电气热" in page
    assert page.count('type="submit" class="primary"') == 1  # one form, one save
    # Urgent tickets are accepted within an hour, not "in 0 working days".
    assert boxes["complaint-urgent-accept_days"] == "" and boxes["complaint-urgent-answer_hours"] == "2"
    assert 'placeholder="1 小时内"' in page
    assert boxes["complaint-normal-accept_days"] == "1" and boxes["complaint-normal-answer_days"] == "15"


def test_the_policy_table_saves_what_changed_and_nothing_when_a_row_is_wrong(client, auth, demo):
    auth.login("dispatcher")
    boxes = policy_boxes(client.get("/desk/policies").get_data(as_text=True))
    stored = {(p.kind, p.urgency): (p.accept_days, p.answer_days, p.answer_months) for p in demo.scalars(select(DeadlinePolicy))}
    wrong = boxes | {"complaint-normal-accept_days": "3", "complaint-normal-answer_days": "2",
                     "deputy_suggestion-normal-answer_months": "7", "help-normal-answer_days": "12",
                     "consultation-normal-answer_days": "两天"}
    response = post_form(client, "/desk/policies", wrong, page="/desk/policies")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "时限表有 3 行需要修改，均未保存" in page
    assert "答复时限不能早于签收时限" in page and "最长 6 个月" in page and "请填写 0 或正整数" in page
    assert 'value="两天"' in page  # what was typed is kept
    demo.expire_all()
    assert {(p.kind, p.urgency): (p.accept_days, p.answer_days, p.answer_months)
            for p in demo.scalars(select(DeadlinePolicy))} == stored
    assert demo.scalar(select(func.count()).select_from(ConfigChange).where(ConfigChange.subject == "policy")) == 0

    right = boxes | {"complaint-normal-answer_days": "10"}
    page = post_form(client, "/desk/policies", right, page="/desk/policies", follow_redirects=True).get_data(as_text=True)
    assert "已保存 1 项时限：投诉举报 · 一般" in page
    demo.expire_all()
    policy = demo.scalar(select(DeadlinePolicy).where(
        DeadlinePolicy.kind == Kind.COMPLAINT, DeadlinePolicy.urgency == Urgency.NORMAL))
    assert (policy.accept_days, policy.answer_days) == (1, 10)
    assert demo.scalar(select(func.count()).select_from(ConfigChange).where(ConfigChange.subject == "policy")) == 1
    page = post_form(client, "/desk/policies", right, page="/desk/policies", follow_redirects=True).get_data(as_text=True)
    assert "时限没有变化" in page
    assert demo.scalar(select(func.count()).select_from(ConfigChange).where(ConfigChange.subject == "policy")) == 1


def test_the_calendar_shows_the_whole_year_holidays_make_up_days_and_entries(client, auth, demo):
    auth.login("dispatcher")
    post_form(client, "/desk/calendar?year=2026", {"first": "2026-03-09", "is_workday": "0", "note": "台风停工"},
              page="/desk/calendar?year=2026")
    page = client.get("/desk/calendar?year=2026").get_data(as_text=True)
    cells = re.findall(r'<td class="day ([a-z ]+)" title="([^"]+)"', page)
    assert len(cells) == 365
    titles = {title.split()[0]: (classes, title) for classes, title in cells}
    assert titles["2026-02-17"] == ("holiday", "2026-02-17 放假 · 春节")
    assert titles["2026-02-14"][0] == "makeup"
    assert titles["2026-03-07"][0] == "weekend"
    assert titles["2026-03-09"] == ("holiday entered", "2026-03-09 放假 · 台风停工 · 人工录入")
    workdays = sum(1 for classes, _ in cells if classes.split()[0] in ("workday", "makeup"))
    assert f"全年 {workdays} 个工作日" in page


def test_the_calendar_page_warns_for_unknown_years_and_adds_and_removes_days(client, auth, demo, runner):
    auth.login("dispatcher")
    page = client.get("/desk/calendar?year=2099").get_data(as_text=True)
    assert "chinesecalendar 没有 2099 年的放假安排" in page
    assert "按国务院公布的放假安排" in client.get("/desk/calendar?year=2026").get_data(as_text=True)
    response = post_form(client, "/desk/calendar?year=2099",
                         {"first": "2099-01-28", "last": "2099-02-03", "is_workday": "0", "note": "春节"},
                         page="/desk/calendar?year=2099", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "已录入 7 天放假" in page and "2099-02-03" in page and "没有 2099 年" not in page
    post_form(client, "/desk/calendar?year=2099", {"first": "2099-02-07", "is_workday": "1", "note": "春节调休"},
              page="/desk/calendar?year=2099")
    # The same entries the CLI shows.
    shown = runner.invoke(args=["calendar", "show", "2099"]).output
    assert "2099-02-07  上班  春节调休" in shown and "2099-01-28  放假  春节" in shown
    post_form(client, "/desk/calendar/2099-02-07/remove", {}, page="/desk/calendar?year=2099")
    demo.expire_all()
    assert demo.scalar(select(CalendarOverride).where(CalendarOverride.day == date(2099, 2, 7))) is None
    assert demo.scalar(select(func.count()).select_from(CalendarOverride)) == 7
    trail = demo.scalars(select(ConfigChange.action).where(ConfigChange.subject == "calendar")
                         .order_by(ConfigChange.id)).all()
    assert trail == ["add", "add", "remove"]


def test_assisting_agencies_see_the_ticket_and_give_opinions_but_do_not_act_as_lead(client, auth, demo):
    rule = local_rule(demo)
    rule.assisting = [agency(demo, "市城管局")]
    demo.commit()
    number, _ = submit_on_the_station_page(client, demo)
    t = ticket(demo, number)
    assert t.agency.name == "西湖区人民政府" and [a.name for a in t.assisting] == ["市城管局"]
    assert "协办单位：市城管局" in [e.reason for e in t.events]

    page_url = f"/agency/tickets/{number}"
    auth.login(agency_login(demo, agency(demo, "市城管局")))
    assert number in client.get("/agency/").get_data(as_text=True)
    page = client.get(page_url).get_data(as_text=True)
    assert "本单位是这张工单的协办单位" in page and "提交协办意见" in page and "签收</button>" not in page
    assert "13800000000" not in page  # the resident's phone is for the lead agency
    response = post_form(client, f"/agency/tickets/{number}/accept", {}, page=page_url, follow_redirects=True)
    assert "这张工单不属于您的单位" in response.get_data(as_text=True)
    assert ticket(demo, number).status is Status.ASSIGNED
    post_form(client, f"/agency/tickets/{number}/opinion", {"opinion": "停车收费公示问题由我局配合检查。"}, page=page_url)
    auth.logout()

    auth.login(agency_login(demo, agency(demo, "市人社局")))
    assert client.get(page_url).status_code == 404
    auth.logout()

    auth.login(agency_login(demo, agency(demo, "西湖区人民政府")))
    page = client.get(page_url).get_data(as_text=True)
    assert "协办意见" in page and "停车收费公示问题由我局配合检查。" in page and "签收</button>" in page
