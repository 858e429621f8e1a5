"""The administrators' channel page: which channels are on and what an off
one lacks, a test message through the real channel (a fake WeCom here), and
each agency's channel choice. Administrators only; forms carry CSRF."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from routing.store.contacts import AgencyChannel, StaffMessage
from routing.store.people import Agency

from ..collector.fake_staff_channels import FakeServer, FakeWeCom
from ..conftest import post_form


@pytest.fixture(scope="module")
def wecom():
    with FakeServer(FakeWeCom()) as server:
        yield server


@pytest.fixture
def app_config(wecom) -> dict:
    return {
        "WECOM_CORP_ID": wecom.fake.corp_id,
        "WECOM_AGENT_ID": str(wecom.fake.agent_id),
        "WECOM_SECRET": wecom.fake.secret,
        "WECOM_API_BASE": f"{wecom.url}/cgi-bin/",
    }


@pytest.mark.parametrize("login", ["dispatcher", "zhujian", "deputy"])
def test_only_administrators_reach_it(client, auth, demo, login):
    auth.login(login)
    assert client.get("/admin/channels/").status_code == 403


def test_the_page_shows_on_and_off_with_the_missing_settings(client, auth, demo):
    auth.login("admin")
    page = client.get("/admin/channels/").get_data(as_text=True)
    assert "企业微信应用消息" in page and "已开启" in page
    assert "电子邮件" in page and "SMTP_HOST, SMTP_FROM" in page


def test_in_english_the_channels_have_english_names(client, auth, demo):
    auth.login("admin")
    post_form(client, "/locale", {"locale": "en", "next": "/admin/channels/"}, page="/admin/channels/")
    page = client.get("/admin/channels/").get_data(as_text=True)
    assert "WeCom application message" in page and "DingTalk group robot" in page and "<td>SMS</td>" in page
    assert "企业微信应用消息" not in page and "钉钉群机器人" not in page


def test_a_test_message_goes_out_and_is_recorded_masked(client, auth, demo, wecom):
    auth.login("admin")
    answer = post_form(
        client,
        "/admin/channels/test",
        {"channel": "wecom", "recipient": "zhangsan"},
        page="/admin/channels/",
        follow_redirects=True,
    )
    assert "测试消息已发出" in answer.get_data(as_text=True)
    assert wecom.fake.sent[-1]["touser"] == "zhangsan"
    demo.expire_all()
    record = demo.scalar(select(StaffMessage).where(StaffMessage.template == "test"))
    assert record.result == "sent" and record.recipient == "zha***gsan"


def test_a_refused_test_says_why(client, auth, demo):
    auth.login("admin")
    answer = post_form(
        client,
        "/admin/channels/test",
        {"channel": "wecom", "recipient": "nobody"},
        page="/admin/channels/",
        follow_redirects=True,
    )
    assert "81013" in answer.get_data(as_text=True)


def test_an_agency_chooses_its_channel_and_bad_input_changes_nothing(client, auth, demo):
    auth.login("admin")
    agency = demo.scalar(select(Agency).where(Agency.active.is_(True)).order_by(Agency.id))
    bad = post_form(
        client,
        "/admin/channels/agency",
        {"agency": agency.id, "kind": "email", "address": "nomail"},
        page="/admin/channels/",
    )
    assert bad.status_code == 400 and "电子邮件地址不对" in bad.get_data(as_text=True)
    assert demo.get(AgencyChannel, agency.id) is None
    post_form(
        client,
        "/admin/channels/agency",
        {"agency": agency.id, "kind": "wecom", "address": "zhangsan|lisi"},
        page="/admin/channels/",
    )
    demo.expire_all()
    assert demo.get(AgencyChannel, agency.id).address == "zhangsan|lisi"
    post_form(client, "/admin/channels/agency", {"agency": agency.id, "kind": ""}, page="/admin/channels/")
    demo.expire_all()
    assert demo.get(AgencyChannel, agency.id) is None
