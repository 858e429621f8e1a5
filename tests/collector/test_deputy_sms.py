"""Deputies who have not bound WeChat get their notices (代表通知) by SMS, at
their account's mobile number, through the registry's SMS channel and its
``deputy_notice`` template: once per ticket and event, beside the portal's
notice, recorded on the timeline with the number masked. A bound deputy
hears on WeChat and gets no SMS."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from routing.clock import now as city_now
from routing.flow import workflow
from routing.store.tickets import TicketEvent

from .fake_sms import KEY_ID, KEY_SECRET, FakeSms
from .fake_wechat import FakeWeChat, FakeWeChatServer
from .test_deputy_notices import DEPUTY_OPENID, notices, raise_suggestion, run_jobs, the_deputy

MOBILE = "13900139001"


@pytest.fixture
def sms():
    with FakeSms("tencent") as server:
        yield server


@pytest.fixture
def wechat():
    with FakeWeChatServer(FakeWeChat(appid="wx-deputies", secret="app-secret")) as server:
        yield server


@pytest.fixture
def app_config(sms, wechat):
    return wechat.app_config("token", "a" * 43) | {
        "SMS_PROVIDER": "tencent",
        "SMS_ACCESS_KEY_ID": KEY_ID,
        "SMS_ACCESS_KEY_SECRET": KEY_SECRET,
        "SMS_SIGN_NAME": "听见",
        "SMS_SDK_APP_ID": "1400000001",
        "SMS_REGION": "ap-guangzhou",
        "SMS_ENDPOINT": sms.endpoint,
        "SMS_TEMPLATES": "receipt=1001,deputy_notice=2001",
    }


def answered(demo, *, mobile: str | None = MOBILE, openid: str | None = None):
    deputy = the_deputy(demo)
    deputy.user.mobile, deputy.wechat_openid = mobile, openid
    demo.commit()
    at = city_now()
    ticket, staff = raise_suggestion(demo, at)
    workflow.accept(demo, ticket, staff, at)
    workflow.answer(demo, ticket, staff, at, "已会同公交集团研究，明年增设站台。", grade="B")
    demo.commit()
    return ticket


def told(demo, ticket) -> dict:
    demo.expire_all()
    [event] = demo.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == "notify_deputy")
    )
    return event.detail


def test_a_deputy_without_wechat_gets_the_answer_by_sms_once(app, demo, sms, wechat):
    ticket = answered(demo)
    run_jobs(app)
    run_jobs(app)
    [sent] = sms.sent
    assert sent["phone"].endswith(MOBILE) and sent["template"] == "2001"
    assert ticket.number in sent["params"] and f"https://tingjian.test/deputy/tickets/{ticket.number}" in sent["params"]
    [notice] = notices(demo)
    assert notice.event == "answer"  # the portal's notice stands beside it
    assert told(demo, ticket) == {
        "deputy": the_deputy(demo).name,
        "event": "answer",
        "channels": ["portal", "sms"],
        "recipient": "139****9001",
        "template": "2001",
    }
    assert wechat.fake.sent == []


def test_a_deputy_bound_to_wechat_gets_no_sms(app, demo, sms, wechat):
    ticket = answered(demo, openid=DEPUTY_OPENID)
    run_jobs(app)
    assert sms.sent == [] and [m["touser"] for m in wechat.fake.sent] == [DEPUTY_OPENID]
    assert told(demo, ticket)["channels"] == ["portal", "wechat"]


def test_a_deputy_without_a_mobile_number_has_the_portal_only(app, demo, sms):
    ticket = answered(demo, mobile=None)
    run_jobs(app)
    assert sms.sent == [] and len(notices(demo)) == 1
    assert told(demo, ticket)["channels"] == ["portal"]


def test_an_sms_refused_for_good_leaves_the_portal_notice_and_says_why(app, demo, sms):
    sms.script.append("FailedOperation.PhoneNumberInBlacklist")
    ticket = answered(demo)
    run_jobs(app)
    detail = told(demo, ticket)
    assert detail["channels"] == ["portal"] and "PhoneNumberInBlacklist" in detail["sms_refused"]
    assert len(notices(demo)) == 1
