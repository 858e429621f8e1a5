"""Erasure on request (应群众要求删除个人信息): by the ticket's number and
lookup code, only once the ticket is closed, with every class of personal
data removed at once, on the timeline and in the access log."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from routing.flow.erasure import ERASE_ACTION, erase_personal_data
from routing.flow.steps import WorkflowError
from routing.store.access_log import ERASE, AccessEntry
from routing.store.people import Role
from routing.store.tickets import TicketEvent

from .test_retention import everything, make_ticket, planted, where_found
from .test_workflow import user

NOW = datetime(2026, 3, 2, 10)


@pytest.fixture
def closed(demo, housing_staff, dispatcher):
    ticket = make_ticket(demo, 2026, housing_staff, dispatcher, closed=True)
    demo.commit()
    return ticket


@pytest.fixture
def admin(demo):
    return user(demo, Role.ADMIN, name="root")


def test_a_closed_tickets_data_is_erased_at_once_and_the_erasure_is_recorded(demo, closed, admin):
    erase_personal_data(demo, closed.number, closed.code, admin, "群众 3 月 2 日来电申请", NOW, address="10.0.0.1")
    demo.commit()
    values = everything(demo)
    v = planted(2026)
    # What hangs on the ticket goes. Not this ticket's, and kept by their own
    # clock: the resident's subscription, the hotline file and history, the
    # finished jobs, and the access log (append-only: who looked stays on record).
    own_clock = {"message.external_id", "message.sender", "message.payload", "ticket_import.content",
                 "historical_ticket.text", "job.last_error", "access_log.address", "access_log.detail"}
    for needle in (v["name"], v["phone"], v["other_phone"], v["openid"], v["address"], v["id_number"], v["caller"]):
        assert set(where_found(values, needle)) <= own_clock, needle
    assert where_found(values, v["name"]) == ["ticket_import.content"]
    assert where_found(values, v["photo"]) == []
    demo.refresh(closed)
    assert closed.anonymised_at == NOW and closed.contact_phone is None
    event = demo.scalar(select(TicketEvent).where(TicketEvent.ticket_id == closed.id, TicketEvent.action == ERASE_ACTION))
    assert (event.actor_id, event.reason) == (admin.id, "群众 3 月 2 日来电申请")
    entry = demo.scalar(select(AccessEntry).where(AccessEntry.action == ERASE))
    assert (entry.user_id, entry.ticket_id, entry.address, entry.detail) == (
        admin.id, closed.id, "10.0.0.1", {"reason": "群众 3 月 2 日来电申请"})


def test_an_open_ticket_is_refused_and_nothing_changes(demo, housing_staff, dispatcher, admin):
    ticket = make_ticket(demo, "open", housing_staff, dispatcher, closed=False)
    demo.commit()
    before = everything(demo)
    with pytest.raises(WorkflowError, match=f"工单 {ticket.number} 尚未办结，办结后才能删除个人信息。"):
        erase_personal_data(demo, ticket.number, ticket.code, admin, "群众申请", NOW)
    demo.rollback()
    assert everything(demo) == before


@pytest.mark.parametrize("wrong", ["code", "number"])
def test_a_wrong_number_or_code_is_refused_without_saying_which(demo, closed, admin, wrong):
    number, code = (closed.number, "WRONGCODE") if wrong == "code" else ("99999999999", closed.code)
    with pytest.raises(WorkflowError, match="工单编号或查询码不对"):
        erase_personal_data(demo, number, code, admin, "群众申请", NOW)


def test_a_second_erasure_is_refused_and_records_nothing(demo, closed, admin):
    erase_personal_data(demo, closed.number, closed.code, admin, "群众申请", NOW)
    demo.commit()
    with pytest.raises(WorkflowError, match="已经删除"):
        erase_personal_data(demo, closed.number, closed.code, admin, "群众申请", NOW)
    demo.rollback()
    assert demo.scalar(select(func.count()).select_from(AccessEntry).where(AccessEntry.action == ERASE)) == 1


def test_an_erasure_needs_its_grounds(demo, closed, admin):
    with pytest.raises(WorkflowError, match="请填写删除依据"):
        erase_personal_data(demo, closed.number, closed.code, admin, "  ", NOW)
