"""One demo site for a whole test module: the demo data and a ticket in
each state people work with, served once, visited by many cases.

A sweep visits dozens of pages in two languages and two screen sizes;
loading the demo and training nothing anew for each of them would take
minutes, so the module's cases share it and only read (the few that write —
a resident's or a deputy's submission — add tickets nobody else counts).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from admin.demo import load_demo
from classifier import ModelStore, shipped_corpus
from collector import deputies
from routing.clock import now
from routing.flow import answers, disputes, workflow
from routing.flow.inbound import Contact, Inbound, Labels, Location
from routing.flow.notes import add_internal_note
from routing.flow.tickets import open_ticket
from routing.store.areas import District, Station, Street
from routing.store.deputies import Deputy
from routing.store.people import Agency, User

from ..helpers import agency_login, fixed_reading

COMPLAINT = "西湖区文新街道某小区门口的人行道地砖松动多处，下雨天老人和孩子经过时容易踩到积水滑倒，请尽快修复。"
PLACE = Labels(topic="城乡建设", subtopic="市政设施", confidence=0.9, district="西湖区", street="文新街道")
RESIDENT = Contact(name="张秀英", phone="13800138000")


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """The app served over HTTP on a free port, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@dataclass
class Site:
    """The served app, the tickets seeded in it (by role: number and code) and the agency's login."""

    app: Flask
    base: str = ""
    numbers: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    agency_user: str = ""
    # Names the data holds (topics, agencies, places): they stay as stored in every language.
    data_names: set[str] = field(default_factory=set)

    def reset_limits(self) -> None:
        """Each case starts with the address's budgets unspent: the cases all come from 127.0.0.1."""
        for limiter in self.app.extensions["limiter"]:
            limiter.reset()


def seed(session: Session, model_dir, site: Site, threshold: float) -> None:
    """The demo, and one ticket in each state the pages show differently."""
    load_demo(session, ModelStore(model_dir), threshold=threshold)
    start = now() - timedelta(days=2)

    def raise_ticket(name: str, labels: Labels = PLACE, contact: Contact = RESIDENT):
        ticket = open_ticket(
            session, Inbound(channel="web", text=COMPLAINT, contact=contact, location=Location(text="文一西路 100 号")),
            labels, start,
        )
        session.flush()
        site.numbers[name], site.codes[name] = ticket.number, ticket.code
        return ticket

    waiting = raise_ticket("waiting")
    staff = session.scalar(select(User).where(User.username == agency_login(session, waiting.agency)))
    site.agency_user = staff.username
    dispatcher = session.scalar(select(User).where(User.username == "dispatcher"))
    workflow.accept(session, waiting, staff, start + timedelta(hours=1))
    workflow.request_extension(
        session, waiting, staff, start + timedelta(hours=2), waiting.answer_by + timedelta(days=10), "需要现场测量"
    )
    workflow.decide_extension(session, waiting, dispatcher, start + timedelta(hours=3), approve=True)
    workflow.ask_resident(session, waiting, staff, start + timedelta(hours=4), "请告诉我们是哪一栋楼？")

    answered = raise_ticket("answered")
    workflow.accept(session, answered, staff, start + timedelta(hours=1))
    add_internal_note(session, answered, staff, start + timedelta(hours=2), "已约物业现场查看")
    answers.answer(session, answered, staff, start + timedelta(hours=5), "经核查，地砖已于本周全部更换。")

    disputed = raise_ticket("disputed")
    other = session.scalar(select(Agency).where(Agency.name == "市生态环境局"))
    disputes.dispute(
        session, disputed, staff, start + timedelta(hours=1), reason_class="not_our_duty",
        basis="《杭州市环境噪声管理条例》第五条", proposed=other,
    )

    raise_ticket("assigned")
    raise_ticket("triage", Labels(topic=None, confidence=0.2, needs_triage=True, triage_reason="待人工分拣"))

    deputy = session.scalar(select(Deputy).order_by(Deputy.id))
    submitted = deputies.submit(session, deputy, deputies.DeputyInput(text=COMPLAINT, constituents=12), fixed_reading, start)
    site.numbers["deputy"] = submitted.number
    session.commit()
    site.data_names = {part for label in shipped_corpus().labels for part in label.split("/")}
    for model in (Agency, District, Street, Station):
        site.data_names.update(session.scalars(select(model.name)))
