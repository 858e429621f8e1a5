"""不再接收短信 as a domain rule: the resident's stop clears the ticket's
consent and is an event on its timeline; asked again it is refused and
changes nothing. A contact's consent is kept on the ticket it opens."""

from __future__ import annotations

from datetime import datetime

import pytest

from routing.flow.inbound import Contact, Inbound, Labels
from routing.flow.resident import STOP_SMS, stop_sms
from routing.flow.steps import WorkflowError
from routing.flow.tickets import open_ticket

AT = datetime(2026, 12, 3, 10, 0)


def opened(session, consent: bool = True):
    inbound = Inbound(
        channel="web", text="小区门口路灯坏了半个月。", contact=Contact(phone="13800135678", sms_notice=consent)
    )
    ticket = open_ticket(session, inbound, Labels(topic="城乡建设", confidence=0.9), AT)
    session.flush()
    return ticket


def test_the_contacts_consent_is_kept_on_the_ticket(demo):
    assert opened(demo).sms_notice is True
    assert opened(demo, consent=False).sms_notice is False


def test_a_stop_clears_the_consent_and_is_on_the_timeline(demo):
    ticket = opened(demo)
    event = stop_sms(demo, ticket, AT)
    demo.flush()
    assert ticket.sms_notice is False
    assert (event.action, event.at, event.to_status) == (STOP_SMS, AT, ticket.status.value)


def test_a_second_stop_is_refused_and_writes_nothing(demo):
    ticket = opened(demo, consent=False)
    before = len(ticket.events)
    with pytest.raises(WorkflowError):
        stop_sms(demo, ticket, AT)
    demo.flush()
    demo.refresh(ticket)
    assert len(ticket.events) == before and ticket.sms_notice is False
