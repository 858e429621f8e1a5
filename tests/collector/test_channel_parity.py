"""One decision for every channel: the same words about the same place are
routed alike whether they come through the station's form, the JSON API,
WeChat (answered at once, read by the classify job) or a deputy's portal —
the same topic, lead agency, assisting agencies, place, and triage or not."""

from __future__ import annotations

import time
from datetime import datetime
from itertools import count

import pytest
from sqlalchemy import select

from collector.intake import CLASSIFY, read_later
from routing.clock import now as city_now
from routing.flow.inbound import Inbound
from routing.flow.tickets import open_ticket
from routing.store.areas import Street
from routing.store.configuration import RoutingRule
from routing.store.people import Agency
from routing.store.tickets import Status, Ticket
from routing.store.workers import run_pending

from ..conftest import AuthActions, post_form

# The WeChat channel configured against the fake API, as in the callback's own tests.
from .test_wechat import app_config, fake, post, xml  # noqa: F401 (fixtures)

NOW = datetime(2026, 9, 30, 9, 0)

# What residents wrote, by what each case shows.
CASES = {
    # A street rule with assisting agencies: the street office leads, the district's bureau helps.
    "street lamp in 文新街道": "西湖区文新街道某小区门口的路灯坏了两个星期，晚上一片漆黑，老人出门很不安全。",
    # A district rule (城乡建设 is answered by the district's government) in another street of it.
    "district matter": "西湖区转塘那边一条小路的路面塌了一个大坑，车辆经过很危险，请尽快修补。",
    # A keyword rule with an assisting agency: bar noise goes to the environment bureau, helped by the police.
    "bar noise with assisting police": "湖滨街道东坡路一家酒吧每天半夜音响开得很大，凌晨两点还在放音乐，周边居民根本睡不着觉。",
    # A city rule, no place in the text.
    "city bureau": "请问灵活就业人员在杭州交社保，断缴了三个月还能补缴吗？需要带什么材料去办？",
    # Below the threshold: a dispatcher decides.
    "low confidence": "你好，请问在这里可以反映什么样的问题？多久会有答复？",
}


@pytest.fixture
def city(demo):
    """The demo's rules, and one for 文新街道's own ground: its street office
    leads on 城乡建设 there, with 西湖区人民政府 and 市住建局 assisting."""
    agency = {a.name: a for a in demo.scalars(select(Agency))}
    wenxin = demo.scalar(select(Street).where(Street.name == "文新街道"))
    demo.add(
        RoutingRule(
            topic="城乡建设", district_id=wenxin.district_id, street_id=wenxin.id,
            agency=agency["西湖区文新街道办事处"], assisting=[agency["西湖区人民政府"], agency["市住建局"]],
        )
    )
    demo.commit()
    return demo


def decision(ticket: Ticket) -> dict:
    return {
        "triage": ticket.status is Status.TRIAGE,
        "status": ticket.status,
        "topic": (ticket.topic, ticket.subtopic),
        "agency": ticket.agency.name if ticket.agency else None,
        "assisting": sorted(a.name for a in ticket.assisting),
        "district": ticket.district.name if ticket.district else None,
        "street": ticket.street.name if ticket.street else None,
    }


def by_number(session, number: str) -> Ticket:
    session.expire_all()
    return session.scalar(select(Ticket).where(Ticket.number == number))


_senders = count(1)


def through_wechat(client, session, text: str) -> Ticket:
    """A new resident's first text, answered at once; then the classify job reads it."""
    sender = f"oParity{next(_senders):06d}"
    response = post(client, xml("text", msg_id=int(time.time() * 1000) + next(_senders), sender=sender, Content=text))
    assert response.status_code == 200
    services = client.application.extensions["tingjian"]
    run_pending(services.db, services.jobs, city_now)
    session.expire_all()
    return session.scalars(
        select(Ticket).where(Ticket.channel == "wechat", Ticket.text == text).order_by(Ticket.id.desc())
    ).first()


def through_api(client, session, text: str) -> Ticket:
    response = client.post("/api/v1/submissions", json={"text": text})
    assert response.status_code == 201, response.get_json()
    return by_number(session, response.get_json()["ticket"])


def through_form(client, session, text: str) -> Ticket:
    response = post_form(client, "/", {"text": text, "station": "", "location": "", "name": "", "phone": ""})
    assert response.status_code == 302
    with client.session_transaction() as cookie:
        number = cookie["receipt"]["number"]
    return by_number(session, number)


def through_deputy(client, session, text: str) -> Ticket:
    auth = AuthActions(client)
    auth.login("deputy")
    try:
        response = post_form(
            client, "/deputy/", {"text": text, "mode": "complaint", "constituents": "1", "place": "", "station": ""},
            content_type="multipart/form-data",
        )
        assert response.status_code == 302
    finally:
        auth.logout()
    session.expire_all()
    return session.scalars(
        select(Ticket).where(Ticket.channel == "deputy", Ticket.text == text).order_by(Ticket.id.desc())
    ).first()


CHANNELS = {"web form": through_form, "api": through_api, "wechat": through_wechat, "deputy": through_deputy}


def test_every_channel_routes_the_same_text_alike(client, city):
    decisions = {
        case: {name: decision(through(client, city, text)) for name, through in CHANNELS.items()}
        for case, text in CASES.items()
    }
    for case, by_channel in decisions.items():
        api = by_channel["api"]
        assert all(d == api for d in by_channel.values()), (case, by_channel)

    # And the decisions are the ones the rules ask for.
    lamp = decisions["street lamp in 文新街道"]["wechat"]
    assert lamp["agency"] == "西湖区文新街道办事处" and lamp["street"] == "文新街道"
    assert lamp["assisting"] == ["市住建局", "西湖区人民政府"]
    district = decisions["district matter"]["wechat"]
    assert district["agency"] == "西湖区人民政府" and district["street"] == "转塘街道"
    noise = decisions["bar noise with assisting police"]["wechat"]
    assert noise["agency"] == "市生态环境局" and noise["assisting"] == ["市公安局"]
    assert decisions["city bureau"]["wechat"]["agency"] == "市人社局"
    assert decisions["low confidence"]["wechat"]["triage"]


def test_a_batch_of_wechat_tickets_is_routed_as_each_alone(app, city):
    """The classify job reads many tickets at once when WeChat is busy: a
    ticket's place counts there as it does for a ticket read alone."""
    services = app.extensions["tingjian"]
    tickets = [open_ticket(city, Inbound(channel="wechat", text=text), None, NOW) for text in CASES.values()]
    for ticket in tickets:
        read_later(city, ticket, NOW)
    city.commit()
    ids = [t.id for t in tickets]
    with services.db.Session() as session:
        services.jobs.batches[CLASSIFY](session, [{"ticket_id": i} for i in ids], NOW)
        session.commit()
    city.expire_all()
    lamp = city.get(Ticket, ids[0])
    assert lamp.agency.name == "西湖区文新街道办事处"
    assert sorted(a.name for a in lamp.assisting) == ["市住建局", "西湖区人民政府"]
