"""Deadline policies (时限规则): defaults from published practice, editable
with checks, applied to new assignments only, audited."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from routing.flow.deadlines import (
    PolicyError,
    PolicyTableError,
    Terms,
    add_months,
    compute_deadlines,
    default_policy,
    package_knows,
    remove_calendar_day,
    set_calendar_days,
    update_policies,
    update_policy,
)
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.store.audit import changes
from routing.store.configuration import DeadlinePolicy, RoutingRule
from routing.store.people import Agency, Role, User
from routing.store.tickets import Kind, Urgency

NOW = datetime(2026, 3, 2, 10, 0)


def dispatcher(session) -> User:
    user = User(username="d", display_name="值班员", role=Role.DISPATCHER, password_hash="x")
    session.add(user)
    session.flush()
    return user


def test_defaults_deputy_suggestions_three_months_emergencies_two_hours_utilities_a_day():
    assert default_policy(Kind.DEPUTY_SUGGESTION, Urgency.NORMAL) == Terms(3, 0, None, 3)
    for kind in Kind:
        assert default_policy(kind, Urgency.URGENT).answer_hours == 2
        assert default_policy(kind, Urgency.UTILITY).answer_hours == 24


def test_a_deputy_suggestion_is_due_three_months_after_assignment_on_a_working_day(session):
    due = compute_deadlines(session, Kind.DEPUTY_SUGGESTION, Urgency.NORMAL, datetime(2026, 3, 2, 10, 0))
    assert due.answer_by == datetime(2026, 6, 2, 17, 30)
    # Three months from 2026-07-01 end on 10-01, National Day: the next working day.
    due = compute_deadlines(session, Kind.DEPUTY_SUGGESTION, Urgency.NORMAL, datetime(2026, 7, 1, 10, 0))
    assert due.answer_by.date() == date(2026, 10, 8)
    assert add_months(datetime(2026, 11, 30), 3) == date(2027, 2, 28)


def test_an_outage_of_water_is_answered_within_24_hours(session):
    due = compute_deadlines(session, Kind.COMPLAINT, Urgency.UTILITY, datetime(2026, 9, 30, 20, 0))
    assert due.answer_by == datetime(2026, 10, 1, 20, 0) and due.accept_by == datetime(2026, 9, 30, 21, 0)


@pytest.mark.parametrize(
    ("kind", "terms", "message"),
    [
        (Kind.COMPLAINT, Terms(-1, 15), "负数"),
        (Kind.COMPLAINT, Terms(1, 0), "只填写一种"),
        (Kind.COMPLAINT, Terms(1, 10, 24), "只填写一种"),
        (Kind.COMPLAINT, Terms(5, 3), "不能早于签收"),
        (Kind.COMPLAINT, Terms(1, 0, 24), "1 小时内签收"),
        (Kind.DEPUTY_SUGGESTION, Terms(3, 0, None, 7), "最长 6 个月"),
        (Kind.DEPUTY_SUGGESTION, Terms(3, 150), "最长 6 个月"),
    ],
)
def test_policy_terms_are_checked(session, kind, terms, message):
    with pytest.raises(PolicyError, match=message):
        update_policy(session, kind, Urgency.NORMAL, terms, dispatcher(session), NOW)


def test_a_policy_change_applies_to_new_assignments_only_and_is_audited(session):
    session.add(RoutingRule(topic="城乡建设", agency=Agency(name="市住建局")))
    user = dispatcher(session)
    labels = Labels(topic="城乡建设", confidence=0.9)
    first = open_ticket(session, Inbound(channel="api", text="电梯坏了"), labels, NOW)
    session.commit()
    answer_by = first.answer_by
    update_policy(session, Kind.COMPLAINT, Urgency.NORMAL, Terms(1, 5), user, NOW)
    session.commit()
    second = open_ticket(session, Inbound(channel="api", text="电梯又坏了"), labels, NOW)
    session.refresh(first)
    assert first.answer_by == answer_by
    assert second.answer_by == datetime(2026, 3, 9, 17, 30) < answer_by
    [change] = changes(session, "policy")
    assert change.before["answer_days"] == 15 and change.after["answer_days"] == 5
    assert change.actor == "值班员（分拨员）" and change.summary == "投诉举报 · 一般"


def test_calendar_days_are_entered_and_removed_with_an_audit_trail(session):
    user = dispatcher(session)
    assert package_knows(2026) and not package_knows(2099)
    set_calendar_days(session, [date(2099, 2, 6), date(2099, 2, 7)], is_workday=False, note="春节", actor=user, now=NOW)
    assert remove_calendar_day(session, date(2099, 2, 7), actor=user, now=NOW)
    assert not remove_calendar_day(session, date(2099, 2, 7), actor=user, now=NOW)
    session.commit()
    assert [c.action for c in changes(session, "calendar")] == ["remove", "add"]


def test_the_policy_table_is_saved_as_one_change_or_not_at_all(session):
    user = dispatcher(session)
    table = {(kind, urgency): default_policy(kind, urgency) for kind in Kind for urgency in Urgency}
    wrong = table | {
        (Kind.COMPLAINT, Urgency.NORMAL): Terms(3, 2),
        (Kind.DEPUTY_SUGGESTION, Urgency.NORMAL): Terms(3, 0, None, 7),
        (Kind.HELP, Urgency.NORMAL): Terms(1, 12),
    }
    with pytest.raises(PolicyTableError) as raised:
        update_policies(session, wrong, user, NOW)
    assert set(raised.value.errors) == {(Kind.COMPLAINT, Urgency.NORMAL), (Kind.DEPUTY_SUGGESTION, Urgency.NORMAL)}
    assert "最长 6 个月" in str(raised.value.errors[Kind.DEPUTY_SUGGESTION, Urgency.NORMAL])
    assert session.scalar(select(func.count()).select_from(DeadlinePolicy)) == 0

    right = table | {(Kind.HELP, Urgency.NORMAL): Terms(1, 12)}
    assert update_policies(session, right, user, NOW) == [(Kind.HELP, Urgency.NORMAL)]
    assert [c.summary for c in changes(session, "policy")] == ["求助 · 一般"]
    # The same table again changes nothing and records nothing.
    assert update_policies(session, right, user, NOW) == []
    assert len(changes(session, "policy")) == 1
