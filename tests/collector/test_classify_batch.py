"""The classifying job (intake.classify) in batches, as the workers run it
when WeChat is busy: the same tickets as job by job, and safe to run again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from collector.intake import CLASSIFY, read_later
from routing.flow.inbound import Inbound, Location
from routing.flow.tickets import open_ticket
from routing.store.jobs import DONE, Job
from routing.store.tickets import Status, Ticket, TicketEvent
from routing.store.workers import run_pending

from ..helpers import ticket_rows

NOW = datetime(2026, 9, 30, 9, 0)

MESSAGES = [
    ("西湖区文新街道某小区物业擅自涨停车费，每月三百元，业主都不同意，请有关部门调查。", None),
    ("湖滨街道东坡路一家酒吧每天半夜音响开得很大，凌晨两点还在放音乐。", None),
    ("滨江区长河街道工地夜里十二点以后还在打桩施工，噪音太大，根本睡不着。", None),
    ("公司拖欠工资三个月了，老板一直推脱，请劳动监察部门帮忙讨薪。", "拱墅区米市巷街道"),
    ("楼道里有很浓的煤气味，邻居家好像没人。", None),
    ("小区停水两天了，物业也不说什么时候来水。", "余杭区良渚街道"),
    ("你好，请问在这里可以反映什么样的问题？", None),
]


def received(session) -> list[int]:
    tickets = [
        open_ticket(session, Inbound(channel="wechat", text=text, location=Location(text=place)), None, NOW)
        for text, place in MESSAGES
    ]
    for ticket in tickets:
        read_later(session, ticket, NOW)
    session.commit()
    return [ticket.id for ticket in tickets]


def rounded(rows: list[dict]) -> list[dict]:
    # The classifier's arithmetic on a batch may differ from one text's in the last bit.
    return [row | {"confidence": row["confidence"] and round(row["confidence"], 12)} for row in rows]


def test_a_batch_of_jobs_stores_what_the_jobs_one_by_one_store(app, demo):
    services = app.extensions["tingjian"]
    alone, together = received(demo), received(demo)
    classify = services.jobs.handlers[CLASSIFY]
    for ticket_id in alone:
        with services.db.Session() as session:
            classify(session, {"ticket_id": ticket_id}, NOW)
            session.commit()
    for job in demo.scalars(select(Job).where(Job.kind == CLASSIFY)):
        if job.payload["ticket_id"] in alone:
            job.status = DONE  # done just now, one by one
    demo.commit()

    run_pending(services.db, services.jobs, lambda: NOW)  # one batch
    assert rounded(ticket_rows(demo, together)) == rounded(ticket_rows(demo, alone))
    assert {row["status"] for row in ticket_rows(demo, together)} == {Status.ASSIGNED, Status.TRIAGE}


def test_running_a_batch_again_changes_nothing(app, demo):
    """A worker that dies after committing runs nothing twice: the lease runs
    out, the job is done, and a ticket already read is left alone."""
    services = app.extensions["tingjian"]
    ids = received(demo)
    batch = services.jobs.batches[CLASSIFY]
    with services.db.Session() as session:
        batch(session, [{"ticket_id": i} for i in ids], NOW)
        session.commit()
    before = ticket_rows(demo, ids)
    with services.db.Session() as session:
        batch(session, [{"ticket_id": i} for i in ids], NOW)
        session.commit()
    demo.expire_all()
    assert ticket_rows(demo, ids) == before
    assert demo.scalar(select(func.count()).select_from(TicketEvent).where(
        TicketEvent.ticket_id.in_(ids), TicketEvent.action == "classify")) == len(ids)
    assert demo.scalar(select(func.count()).where(Ticket.id.in_(ids), Ticket.status == Status.RECEIVED)) == 0
