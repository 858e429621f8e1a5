"""The retention schedule and erasure from the console and the command line:
``flask --app admin privacy retention [--dry-run]``, ``privacy erase NUMBER
CODE``, and /admin/privacy/erase for administrators only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from admin import create_app
from routing.clock import now
from routing.flow import ratings, retention, workflow
from routing.flow.inbound import Contact, Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.store.access_log import ERASE, AccessEntry
from routing.store.people import Agency, User
from routing.store.tickets import Ticket

from ..conftest import post_form
from ..helpers import agency_login

PHONE = "13955550001"


def _ticket(session, days_ago: int, closed: bool, phone: str = PHONE) -> Ticket:
    """A resident's ticket of 市住建局, opened ``days_ago`` days ago and, if
    ``closed``, rated and closed a day later."""
    agency = session.scalar(select(Agency).where(Agency.name == "市住建局"))
    staff = session.scalar(select(User).where(User.username == agency_login(session, agency)))
    opened = now() - timedelta(days=days_ago)
    ticket = open_ticket(session, Inbound(channel="web", text=f"楼道灯不亮，电话{phone}",
                                          contact=Contact(name="郑秀英", phone=phone)),
                         Labels(topic="城乡建设", confidence=0.9), opened)
    if closed:
        workflow.accept(session, ticket, staff, opened)
        workflow.answer(session, ticket, staff, opened, "已修好。")
        ratings.rate(session, ticket, opened + timedelta(days=1), "satisfied")
    session.commit()
    return ticket


@pytest.fixture
def old_and_new(demo):
    return _ticket(demo, 4 * 365 + 10, True), _ticket(demo, 30, True, phone="13955550002")


def test_the_dry_run_says_what_would_go_and_removes_nothing(runner, demo, old_and_new):
    old, new = old_and_new
    result = runner.invoke(args=["privacy", "retention", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "存储期限：联系方式和原始消息 3 年，照片和录音 1 年，访问日志 180 天" in result.output
    assert "试运行，未删除" in result.output
    assert f"{retention.ITEMS['tickets']}：将处理 1 条" in result.output
    demo.expire_all()
    assert demo.get(Ticket, old.id).contact_phone == PHONE


def test_the_run_anonymises_the_old_ticket_only(runner, demo, old_and_new):
    old, new = old_and_new
    result = runner.invoke(args=["privacy", "retention"])
    assert result.exit_code == 0, result.output
    assert f"{retention.ITEMS['tickets']}：已处理 1 条" in result.output
    demo.expire_all()
    assert demo.get(Ticket, old.id).contact_phone is None and demo.get(Ticket, old.id).anonymised_at is not None
    assert demo.get(Ticket, new.id).contact_phone == "13955550002"
    again = runner.invoke(args=["privacy", "retention"])
    assert f"{retention.ITEMS['tickets']}：已处理 0 条" in again.output


def test_the_command_line_erases_a_closed_ticket_and_refuses_an_open_one(runner, demo):
    closed, open_ = _ticket(demo, 30, True), _ticket(demo, 2, False, phone="13955550003")
    refused = runner.invoke(args=["privacy", "erase", open_.number, open_.code])
    assert refused.exit_code != 0 and "尚未办结" in refused.output
    done = runner.invoke(args=["privacy", "erase", closed.number, closed.code, "--reason", "群众来电申请"])
    assert done.exit_code == 0 and f"工单 {closed.number} 的个人信息已删除" in done.output
    demo.expire_all()
    assert demo.get(Ticket, open_.id).contact_phone == "13955550003"
    entry = demo.scalar(select(AccessEntry).where(AccessEntry.action == ERASE))
    assert (entry.role, entry.ticket_id, entry.detail["reason"]) == ("cli", closed.id, "群众来电申请")


def test_only_administrators_reach_the_erasure_page(client, auth, demo):
    auth.login("dispatcher")
    assert client.get("/admin/privacy/erase").status_code == 403
    auth.logout()
    auth.login("admin")
    page = client.get("/admin/privacy/erase").get_data(as_text=True)
    assert "应群众要求删除个人信息" in page and "办结 3 年后" in page


def test_an_administrator_erases_a_closed_ticket_from_the_console(client, auth, demo):
    closed, open_ = _ticket(demo, 30, True), _ticket(demo, 2, False, phone="13955550003")
    auth.login("admin")
    url = "/admin/privacy/erase"
    refused = post_form(client, url, {"number": open_.number, "code": open_.code, "reason": "群众申请"},
                        follow_redirects=True).get_data(as_text=True)
    assert f"工单 {open_.number} 尚未办结" in refused
    done = post_form(client, url, {"number": closed.number, "code": closed.code, "reason": "群众申请"},
                     follow_redirects=True).get_data(as_text=True)
    assert f"工单 {closed.number} 的个人信息已删除，统计数据保留。" in done
    demo.expire_all()
    assert demo.get(Ticket, closed.id).contact_phone is None
    assert demo.get(Ticket, open_.id).contact_phone == "13955550003"
    entry = demo.scalar(select(AccessEntry).where(AccessEntry.action == ERASE))
    assert entry.user.username == "admin" and entry.ticket_id == closed.id


def test_the_nightly_job_is_registered_with_the_settings(app):
    registry = app.extensions["tingjian"].jobs
    assert retention.RETENTION in registry.periodic and retention.RETENTION + ".more" in registry.handlers


@pytest.mark.parametrize(("name", "value"), [("RETENTION_CONTACT_YEARS", "0"), ("RETENTION_MEDIA_YEARS", "一年")])
def test_a_wrong_retention_setting_stops_the_start_saying_what_is_wrong(monkeypatch, tmp_path, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"{name} must be a whole number of years from 1 to 30"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
                    "MODEL_DIR": str(tmp_path), "TINGJIAN_ENV": "development"})
