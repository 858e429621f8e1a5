"""待发通知: the dispatcher sees which notices wait and why, and which failed."""

from __future__ import annotations

from datetime import timedelta

from routing.clock import now
from routing.flow import steps
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.store.jobs import FAILED, enqueue
from routing.store.tickets import Ticket


def notices(session) -> tuple[Ticket, Ticket]:
    """Two WeChat residents' tickets: one notice waiting out an outage, one refused for good."""
    tickets = [
        open_ticket(session, Inbound(channel="wechat", text=text, sender=sender),
                    Labels(topic="城乡建设", subtopic=None, confidence=0.9), now())
        for text, sender in (("小区电梯坏了三个星期没人修。", "oWaiting"), ("路灯不亮。", "oGone"))
    ]
    session.flush()
    waiting = enqueue(session, steps.NOTIFY_RESIDENT, {"ticket_id": tickets[0].id, "action": "accept"}, now())
    waiting.attempts, waiting.run_after = 12, now() + timedelta(minutes=30)
    waiting.last_error = "WeChatClientException: Error code: None, message: None (HTTP 502)"
    failed = enqueue(session, steps.NOTIFY_RESIDENT, {"ticket_id": tickets[1].id, "action": "answer"}, now())
    failed.attempts, failed.status, failed.finished_at = 1, FAILED, now()
    failed.last_error = "Permanent: 微信拒绝发送（43004，对方未关注公众号）：require subscribe"
    session.commit()
    return tickets[0], tickets[1]


def test_the_dispatcher_sees_waiting_and_failed_notices_with_why(client, auth, demo):
    waiting, refused = notices(demo)
    auth.login("dispatcher")
    page = client.get("/desk/notices").get_data(as_text=True)
    assert "<h1>待发通知" in page and 'name="viewport"' in page
    waiting_part, failed_part = page.split("发送失败", 1)
    assert waiting.number in waiting_part and "12" in waiting_part and "HTTP 502" in waiting_part
    assert (now() + timedelta(minutes=30)).strftime("%m-%d %H:%M") in waiting_part
    assert refused.number in failed_part and "43004" in failed_part and "对方未关注公众号" in failed_part
    assert "微信公众号" in page and "群众" in page


def test_agency_staff_and_anonymous_visitors_cannot_see_the_notices(client, auth, demo):
    waiting, _ = notices(demo)
    response = client.get("/desk/notices")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    auth.login("zhujian")
    response = client.get("/desk/notices")
    assert response.status_code == 403 and waiting.number not in response.get_data(as_text=True)
