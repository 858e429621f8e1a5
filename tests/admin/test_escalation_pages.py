"""Warnings and escalation on the staff pages: badges (临期 / 超期), the
reminders and notices each agency may see, the dispatcher's list, the digest."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from routing.clock import now
from routing.flow import escalation
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.store.people import Agency
from routing.store.tickets import Ticket

REMINDER_TEXT = "请市住建局尽快签收"


def late_housing_ticket(session, days_ago: int = 20) -> Ticket:
    """A housing ticket assigned long ago and never accepted, chased by the sweep."""
    t = open_ticket(
        session,
        Inbound(channel="api", text="小区电梯坏了三个星期没人修。"),
        Labels(topic="城乡建设", subtopic=None, confidence=0.9),
        now() - timedelta(days=days_ago),
    )
    session.commit()
    escalation.escalate(session, now(), escalation.EscalationPolicy())
    session.commit()
    return t


def agency(session, name: str) -> Agency:
    return session.scalar(select(Agency).where(Agency.name == name))


def test_the_agency_sees_the_overdue_badge_and_both_records_on_its_queue(client, auth, demo):
    t = late_housing_ticket(demo)
    auth.login("zhujian")
    page = client.get("/agency/").get_data(as_text=True)
    assert "催办与通报（2）" in page
    assert REMINDER_TEXT in page and "通报市政府办公厅督办" in page
    assert f'href="/agency/tickets/{t.number}"' in page
    assert 'class="level level-red">超期' in page
    assert 'class="level level-red">超期' in client.get(f"/agency/tickets/{t.number}").get_data(as_text=True)


def test_another_agency_never_sees_those_records(client, auth, demo):
    t = late_housing_ticket(demo)
    auth.login("huanbao")
    page = client.get("/agency/").get_data(as_text=True)
    assert t.number not in page and REMINDER_TEXT not in page and "催办与通报" not in page


def test_the_supervisor_sees_the_notice_but_not_the_reminder_nor_the_ticket(client, auth, demo):
    t = late_housing_ticket(demo)
    auth.login("bangongting")
    page = client.get("/agency/").get_data(as_text=True)
    assert "催办与通报（1）" in page and "通报市政府办公厅督办" in page and t.number in page
    assert REMINDER_TEXT not in page
    # The notice names the ticket; the ticket itself stays the housing bureau's.
    assert f'href="/agency/tickets/{t.number}"' not in page
    assert client.get(f"/agency/tickets/{t.number}").status_code == 404


def test_the_dispatcher_lists_open_records_most_overdue_first(client, auth, demo):
    older = late_housing_ticket(demo, days_ago=30)
    newer = late_housing_ticket(demo, days_ago=20)
    auth.login("dispatcher")
    assert "催办与通报（4）" in client.get("/desk/").get_data(as_text=True)
    page = client.get("/desk/escalations").get_data(as_text=True)
    assert page.count(f'href="/desk/tickets/{older.number}"') == 2
    assert page.index(older.number) < page.index(newer.number)
    assert 'class="level level-red">超期' in client.get(f"/desk/tickets/{older.number}").get_data(as_text=True)


def test_only_dispatchers_open_the_escalation_list(client, auth, demo):
    late_housing_ticket(demo)
    auth.login("zhujian")
    assert client.get("/desk/escalations").status_code == 403


def test_a_ticket_near_its_deadline_shows_the_yellow_badge(client, auth, demo):
    t = open_ticket(demo, Inbound(channel="api", text="楼道灯坏了。"),
                    Labels(topic="城乡建设", subtopic=None, confidence=0.9), now() - timedelta(days=2))
    t.accept_by = now() + timedelta(minutes=5)
    demo.commit()
    auth.login("zhujian")
    assert 'class="level level-yellow">临期' in client.get(f"/agency/tickets/{t.number}").get_data(as_text=True)


def test_the_agency_reads_its_own_digest_and_no_one_elses(client, auth, demo):
    t = late_housing_ticket(demo)
    housing = agency(demo, "市住建局")
    today = now()
    escalation.make_digest(demo, housing.id, today.date(), today, escalation.EscalationPolicy())
    demo.commit()
    auth.login("zhujian")
    page = client.get("/agency/").get_data(as_text=True)
    assert "每日简报" in page and "超期 <strong>" in page and t.number in page
    assert f"{today:%Y-%m-%d} 每日简报" in client.get("/agency/digests").get_data(as_text=True)
    auth.logout()
    auth.login("huanbao")
    assert "还没有简报" in client.get("/agency/digests").get_data(as_text=True)
