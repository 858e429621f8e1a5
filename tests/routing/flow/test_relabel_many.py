"""Routing a batch of received tickets at once (``relabel_many``) stores
exactly what routing them one by one (``relabel`` and the ORM's flush)
stores: the same tickets, timelines and assisting agencies."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from routing.dispatch.agency_choice import LearnedAgency
from routing.flow import steps
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket, relabel, relabel_many
from routing.store.areas import Station
from routing.store.batch import write_tickets
from routing.store.jobs import Job, enqueue
from routing.store.people import Agency
from routing.store.tickets import Kind, Status, Ticket, TicketEvent, Urgency

from ...helpers import ticket_rows

CREATED = datetime(2026, 9, 30, 9, 0)
READ = datetime(2026, 9, 30, 9, 0, 2)


def received(session: Session, text: str, *, station: Station | None = None) -> Ticket:
    return open_ticket(session, Inbound(channel="wechat", text=text, station=station), None, CREATED)


@pytest.fixture
def agencies(demo) -> dict[str, Agency]:
    return {a.name: a for a in demo.scalars(select(Agency))}


def cases(session: Session, agencies: dict[str, Agency]) -> list[tuple[Ticket, Labels]]:
    """One received ticket of each kind of routing, with the labels the classifier gave it."""
    station = session.scalar(select(Station).where(Station.name == "湖滨街道人大代表联络站"))
    noise = "湖滨街道东坡路一家酒吧每天半夜音响开得很大，凌晨两点还在放音乐。"
    housing = "小区电梯坏了三个星期没人修。"
    deputy = received(session, "建议在长河街道增加一个公交站。")
    deputy.kind = Kind.DEPUTY_SUGGESTION  # a deputy's choice, which the wording does not change
    placed = received(session, housing)
    placed.district = station.district
    assisted = received(session, noise)
    assisted.assisting = [agencies["市公安局"], agencies["市城管局"]]
    return [
        # A keyword rule with an assisting agency (协办).
        (received(session, noise), Labels(topic="环境保护", confidence=0.9, district="上城区", street="湖滨街道")),
        # A district's own matter, in a street with its own office.
        (received(session, housing), Labels(topic="城乡建设", confidence=0.9, district="西湖区", street="文新街道")),
        # The place of the station where it was raised.
        (received(session, housing, station=station), Labels(topic="城乡建设", confidence=0.9)),
        # The learned agency: trusted, below its threshold, unknown.
        (received(session, housing), Labels(topic="城乡建设", confidence=0.9,
                                            learned_agency=LearnedAgency("市住建局", 0.95))),
        (received(session, housing), Labels(topic="城乡建设", confidence=0.9,
                                            learned_agency=LearnedAgency("市生态环境局", 0.5))),
        (received(session, housing), Labels(topic="其他", confidence=0.9,
                                            learned_agency=LearnedAgency("不存在的局", 0.99))),
        # Unsure, unreadable, or no rule: a dispatcher decides.
        (received(session, housing), Labels(topic="城乡建设", confidence=0.3, needs_triage=True,
                                            triage_reason="分类置信度 0.30 低于阈值 0.50")),
        (received(session, housing), Labels(needs_triage=True, triage_reason="分类模型不可用")),
        (received(session, housing), Labels(topic="其他", confidence=0.9)),
        # Danger, and an outage: deadlines in hours.
        (received(session, "楼道里有很浓的煤气味。"), Labels(topic="城乡建设", confidence=0.9, urgency=Urgency.URGENT)),
        (received(session, "停水两天了。"), Labels(topic="城乡建设", confidence=0.9, urgency=Urgency.UTILITY,
                                               kind=Kind.HELP)),
        (deputy, Labels(topic="交通运输", confidence=0.9, kind=Kind.SUGGESTION)),
        # A place already known stays; assisting agencies already set are replaced by the rule's.
        (placed, Labels(topic="城乡建设", confidence=0.9, district="西湖区")),
        (assisted, Labels(topic="环境保护", confidence=0.9, district="上城区")),
    ]


def test_a_batch_stores_what_one_by_one_stores(demo, agencies):
    one_by_one = cases(demo, agencies)
    demo.commit()
    batch = cases(demo, agencies)
    demo.commit()
    versions = {ticket.id: ticket.version for ticket, _ in one_by_one + batch}
    for ticket, labels in one_by_one:  # as the job did, one ticket a flush
        with demo.no_autoflush:
            relabel(demo, ticket, labels, READ)
        demo.flush()
    demo.commit()
    relabel_many(demo, batch, READ)
    demo.commit()

    expected = ticket_rows(demo, [ticket.id for ticket, _ in one_by_one])
    got = ticket_rows(demo, [ticket.id for ticket, _ in batch])
    for mine, theirs in zip(got, expected, strict=True):
        assert {k: (mine[k], theirs[k]) for k in mine if mine[k] != theirs[k]} == {}
    # The cases cover what routing can do.
    assert {row["status"] for row in got} == {Status.ASSIGNED, Status.TRIAGE}
    assert [e["action"] for e in got[0]["events"]] == ["create", "classify", "assign", "assist"]
    assert got[0]["assisting"] == [agencies["市公安局"].id]
    assert got[-1]["assisting"] == [agencies["市公安局"].id]
    # Each ticket written once, as one by one: the optimistic lock counts one change.
    assert {demo.get(Ticket, t).version - before for t, before in versions.items()} == {1}


def test_a_ticket_changed_since_it_was_read_fails_the_batch_and_nothing_is_written(app, demo, agencies):
    tickets = [received(demo, "小区电梯坏了三个星期没人修。") for _ in range(3)]
    demo.commit()
    ids = [t.id for t in tickets]
    loaded = list(demo.scalars(select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id)))
    with app.extensions["tingjian"].db.Session() as dispatcher:  # a dispatcher was quicker
        steps.transition(dispatcher, dispatcher.get(Ticket, ids[1]), "triage", None, READ, reason="人工")
        dispatcher.commit()

    with pytest.raises(StaleDataError):
        relabel_many(demo, [(t, Labels(topic="城乡建设", confidence=0.9)) for t in loaded], READ)
    demo.rollback()
    assert [e.action for e in demo.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ids[0]))] == ["create"]
    assert demo.get(Ticket, ids[1]).status is Status.TRIAGE


def test_pending_work_of_another_shape_is_left_to_the_flush(demo):
    tickets = [received(demo, "小区电梯坏了三个星期没人修。") for _ in range(2)]
    demo.commit()
    for ticket in tickets:
        relabel(demo, ticket, Labels(topic="城乡建设", confidence=0.9), READ)
    enqueue(demo, "notify.resident", {"ticket_id": tickets[0].id, "action": "assign"}, READ)

    assert write_tickets(demo, tickets) is False
    demo.commit()  # the flush writes it all, as before
    assert {t.status for t in tickets} == {Status.ASSIGNED}
    assert demo.scalar(select(Job).where(Job.kind == "notify.resident")) is not None
    assert [e.action for e in tickets[0].events] == ["create", "classify", "assign"]
