"""Every ticket that intake reads is fingerprinted for the duplicate search,
and its fingerprint follows its text; tickets raised before the index are
fingerprinted once by the backfill."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select

from classifier.similar import fingerprint
from collector.intake import INDEX_EVERY, INDEX_MATTERS, index_unindexed
from routing.clock import now as city_now
from routing.dispatch.matters import fingerprints_of
from routing.dispatch.rules import OPEN
from routing.flow.inbound import Inbound
from routing.flow.tickets import open_ticket
from routing.store.jobs import Job, ensure_periodic
from routing.store.tickets import MatterTerm, Status, Ticket

from .test_wechat import COMPLAINT, app_config, fake, post, settle, xml  # noqa: F401 (fixtures)


def stored_print(session, ticket: Ticket) -> list[tuple[int, float]]:
    return fingerprints_of(session, [ticket.id]).get(ticket.id, [])


def same(stored: list[tuple[int, float]], expected) -> bool:
    """The same terms with the same weights (terms of equal weight come in any order)."""
    stored, expected = dict(stored), dict(expected)
    return stored.keys() == expected.keys() and all(abs(stored[t] - expected[t]) < 1e-5 for t in stored)


def test_a_wechat_ticket_is_fingerprinted_soon_after_it_is_read_and_again_when_more_words_come(client, demo):
    services = client.application.extensions["tingjian"]
    ensure_periodic(services.db, services.jobs, city_now())  # as a worker does when it starts
    post(client, xml("text", 2101, Content=COMPLAINT))
    ticket = demo.scalar(select(Ticket).where(Ticket.channel == "wechat"))
    settle(client, demo)
    ticket = demo.get(Ticket, ticket.id)
    # Read and routed at once; fingerprinted by the periodic job, within INDEX_EVERY.
    assert ticket.status is Status.ASSIGNED and stored_print(demo, ticket) == []
    settle(client, demo, clock=lambda: city_now() + INDEX_EVERY)
    assert same(stored_print(demo, ticket), fingerprint(COMPLAINT))
    # The chain goes on: the run queued the next.
    assert demo.scalar(select(func.count()).select_from(Job).where(Job.kind == INDEX_MATTERS, Job.status == "queued")) == 1

    post(client, xml("text", 2102, Content="路灯杆旁边还有一个井盖也松了，踩上去会晃。"))
    demo.expire_all()
    ticket = demo.get(Ticket, ticket.id)
    assert "井盖" in ticket.text and same(stored_print(demo, ticket), fingerprint(ticket.text))


def test_tickets_raised_before_the_index_are_fingerprinted_once(app, demo):
    open_ids = list(demo.scalars(select(Ticket.id).where(Ticket.status.in_(OPEN), Ticket.text != "")))
    demo.execute(delete(MatterTerm))
    demo.commit()
    seen = []
    done = index_unindexed(demo, city_now() - timedelta(days=365), lambda d, t: seen.append((d, t)), batch=2)
    assert done == len(open_ids) > 2 and seen[-1] == (done, done) and len(seen) == -(-done // 2)
    indexed = set(demo.scalars(select(MatterTerm.ticket_id).distinct()))
    assert indexed == set(open_ids)
    rows = demo.scalar(select(func.count()).select_from(MatterTerm))
    assert index_unindexed(demo, city_now() - timedelta(days=365)) == 0
    assert demo.scalar(select(func.count()).select_from(MatterTerm)) == rows


def test_while_tickets_wait_to_be_read_the_indexing_job_takes_only_a_few(app, demo, monkeypatch):
    from collector import intake

    monkeypatch.setattr(intake, "INDEX_RUN_BUSY", 1)
    now = city_now()
    waiting = [open_ticket(demo, Inbound(channel="wechat", text=f"{i}号楼路灯坏了"), None, now) for i in range(3)]
    intake.read_later(demo, waiting[0], now)  # one ticket still to be read
    demo.flush()
    before = demo.scalar(select(func.count(func.distinct(MatterTerm.ticket_id))))
    intake.index_matters_job(demo, {}, now)
    assert demo.scalar(select(func.count(func.distinct(MatterTerm.ticket_id)))) == before + 1

    demo.execute(delete(Job).where(Job.kind == intake.CLASSIFY))  # read: nothing waits
    intake.index_matters_job(demo, {}, now)
    assert all(stored_print(demo, t) for t in waiting)
