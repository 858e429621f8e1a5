"""Assignment disputes (派单争议): an agency disputes within the accept deadline,
the dispatcher centre rules — upheld, the ticket moves on; rejected, it stays,
for good."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from routing.flow import disputes, workflow
from routing.flow.inbound import Inbound, Labels
from routing.flow.steps import PermissionDenied, WorkflowError
from routing.flow.tickets import open_ticket
from routing.reports.disputes import open_disputes
from routing.reports.overdue import overdue_condition
from routing.store.areas import District
from routing.store.people import Role
from routing.store.tickets import Status, Ticket

from .test_workflow import user as person

# A Wednesday; the accept deadline runs past National Day, to 10-08 17:30.
NOW = datetime(2026, 9, 30, 10, 0)


@pytest.fixture
def assigned(demo, housing):
    """A ticket from 西湖区 that the rules gave to the city's bureau."""
    t = open_ticket(
        demo,
        Inbound(channel="api", text="西湖区文新街道某小区门口的人行道被占用摆摊。"),
        Labels(topic="城乡建设", subtopic=None, confidence=0.9),
        NOW,
    )
    t.district = demo.scalar(select(District).where(District.name == "西湖区"))
    demo.commit()
    assert t.status is Status.ASSIGNED and t.agency_id == housing.id
    return t


def dispute(session, ticket, staff, at=NOW, **kwargs):
    arguments = {"reason_class": "not_our_duty", "basis": "《杭州市城市管理条例》第二十条", **kwargs}
    return disputes.dispute(session, ticket, staff, at, **arguments)


def test_a_dispute_waits_for_the_ruling_within_four_working_hours(demo, assigned, housing_staff, agencies):
    dispute(demo, assigned, housing_staff, proposed=agencies["西湖区人民政府"])
    demo.commit()
    assert assigned.status is Status.DISPUTED and assigned.agency.name == "市住建局"
    assert assigned.ruling_by == datetime(2026, 9, 30, 14, 0)
    event = assigned.events[-1]
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        "dispute", "assigned", "disputed", housing_staff.label,
    )
    assert event.reason == "《杭州市城市管理条例》第二十条"
    assert event.detail["reason_class"] == "not_our_duty" and event.detail["reason_label"] == "非本单位职责"
    assert event.detail["proposed"] == "西湖区人民政府"
    # The agency's deadlines stand still while the dispatcher centre holds it.
    late = datetime(2026, 10, 9, 9, 0)
    assert demo.scalar(select(Ticket.id).where(overdue_condition(late), Ticket.id == assigned.id)) is None


def test_the_ruling_deadline_counts_office_hours_only(demo, assigned, housing_staff):
    # 16:30 on the last working day before National Day: one hour that day, three after the holidays.
    dispute(demo, assigned, housing_staff, at=datetime(2026, 9, 30, 16, 30), ruling_hours=4)
    assert assigned.ruling_by == datetime(2026, 10, 8, 11, 30)


def test_an_upheld_dispute_sends_the_ticket_on_with_fresh_deadlines(demo, assigned, housing_staff, dispatcher, agencies):
    dispute(demo, assigned, housing_staff, proposed=agencies["西湖区人民政府"])
    first_answer_by = assigned.answer_by
    ruled = datetime(2026, 10, 8, 9, 0)
    disputes.uphold(demo, assigned, dispatcher, ruled, agency=agencies["西湖区人民政府"], reason="属地管理")
    demo.commit()
    assert assigned.status is Status.ASSIGNED and assigned.agency.name == "西湖区人民政府"
    assert assigned.ruling_by is None and not assigned.dispute_rejected
    assert assigned.answer_by > first_answer_by and assigned.accept_by > ruled
    ruling, moved = assigned.events[-2:]
    assert (ruling.action, ruling.actor, ruling.reason) == ("uphold_dispute", dispatcher.label, "属地管理")
    assert ruling.detail["ruling"] == "upheld" and ruling.detail["to"] == "西湖区人民政府"
    assert ruling.detail["agency"] == "市住建局" and ruling.detail["reason_class"] == "not_our_duty"
    # 10:00–17:30 on 09-30, then 08:30–09:00 after the holidays.
    assert ruling.detail["waited_working_hours"] == 8.0
    assert ruling.detail["fallback"] is True  # the demo names the district government 兜底 for 西湖区
    assert (moved.action, moved.from_status, moved.agency_id) == ("reassign", "disputed", agencies["市住建局"].id)
    assert disputes.upheld_ruling(assigned) is ruling
    # The new agency may dispute in its turn: 首接负责 binds only after a rejection.
    assert disputes.may_dispute(assigned, ruled)


def test_a_rejected_dispute_binds_the_agency(demo, assigned, housing_staff, dispatcher, housing):
    dispute(demo, assigned, housing_staff)
    ruled = datetime(2026, 9, 30, 13, 0)
    disputes.reject(demo, assigned, dispatcher, ruled, reason="占道经营属住建部门职责，见三定方案")
    demo.commit()
    assert assigned.status is Status.ASSIGNED and assigned.agency_id == housing.id
    assert assigned.dispute_rejected and assigned.ruling_by is None and assigned.accept_by > ruled
    event = assigned.events[-1]
    assert (event.action, event.from_status, event.to_status) == ("reject_dispute", "disputed", "assigned")
    assert event.detail["ruling"] == "rejected" and event.detail["waited_working_hours"] == 3.0
    assert not disputes.may_dispute(assigned, ruled)
    with pytest.raises(WorkflowError, match="争议不成立"):
        dispute(demo, assigned, housing_staff, at=ruled)
    with pytest.raises(WorkflowError, match="首接负责"):
        workflow.return_ticket(demo, assigned, housing_staff, ruled, "还是不归我们管")
    workflow.accept(demo, assigned, housing_staff, ruled)
    assert assigned.status is Status.ACCEPTED


def unchanged(session, ticket, attempt):
    """The step fails and leaves the ticket as it was."""
    session.commit()
    before = (ticket.status, ticket.version, len(ticket.events), ticket.ruling_by)
    with pytest.raises(WorkflowError) as raised:
        attempt()
    session.rollback()
    session.refresh(ticket)
    assert (ticket.status, ticket.version, len(ticket.events), ticket.ruling_by) == before
    return raised.value


def test_only_the_agency_holding_the_ticket_disputes_it(demo, assigned, agencies, dispatcher):
    other = person(demo, Role.AGENCY, agencies["市生态环境局"], "huanbao-staff")
    error = unchanged(demo, assigned, lambda: dispute(demo, assigned, other))
    assert isinstance(error, PermissionDenied) and "不属于您的单位" in str(error)
    error = unchanged(demo, assigned, lambda: dispute(demo, assigned, dispatcher))
    assert isinstance(error, PermissionDenied)


def test_only_a_dispatcher_rules(demo, assigned, housing_staff, agencies):
    dispute(demo, assigned, housing_staff)
    deputy = person(demo, Role.DEPUTY, name="deputy-1")
    for who in (housing_staff, deputy):
        unchanged(demo, assigned, lambda who=who: disputes.reject(demo, assigned, who, NOW, reason="不成立"))
        error = unchanged(
            demo, assigned, lambda who=who: disputes.uphold(demo, assigned, who, NOW, agency=agencies["西湖区人民政府"])
        )
        assert isinstance(error, PermissionDenied)


def test_no_dispute_after_the_accept_deadline_or_the_acceptance(demo, assigned, housing_staff):
    late = assigned.accept_by.replace(minute=31)
    assert "签收时限" in str(unchanged(demo, assigned, lambda: dispute(demo, assigned, housing_staff, at=late)))
    workflow.accept(demo, assigned, housing_staff, NOW)
    assert "办理中" in str(unchanged(demo, assigned, lambda: dispute(demo, assigned, housing_staff)))


def test_a_dispute_names_its_class_and_basis_and_not_its_own_agency(demo, assigned, housing_staff, housing):
    assert "争议理由" in str(unchanged(demo, assigned, lambda: dispute(demo, assigned, housing_staff, reason_class="x")))
    assert "争议依据" in str(unchanged(demo, assigned, lambda: dispute(demo, assigned, housing_staff, basis="  ")))
    assert "本单位以外" in str(unchanged(demo, assigned, lambda: dispute(demo, assigned, housing_staff, proposed=housing)))


def test_a_ticket_not_in_dispute_cannot_be_ruled_on(demo, assigned, dispatcher, agencies):
    error = unchanged(demo, assigned, lambda: disputes.reject(demo, assigned, dispatcher, NOW, reason="不成立"))
    assert "不能争议不成立" in str(error)
    unchanged(demo, assigned, lambda: disputes.uphold(demo, assigned, dispatcher, NOW, agency=agencies["西湖区人民政府"]))


def test_a_ruling_says_where_and_why(demo, assigned, housing_staff, dispatcher, housing):
    dispute(demo, assigned, housing_staff)
    assert "裁定理由" in str(unchanged(demo, assigned, lambda: disputes.reject(demo, assigned, dispatcher, NOW, reason="")))
    assert "选择改派" in str(unchanged(demo, assigned, lambda: disputes.uphold(demo, assigned, dispatcher, NOW, agency=None)))
    assert "其他单位" in str(unchanged(demo, assigned, lambda: disputes.uphold(demo, assigned, dispatcher, NOW, agency=housing)))


def test_the_queue_lists_open_disputes_overdue_first(demo, assigned, housing_staff, housing):
    second = open_ticket(
        demo, Inbound(channel="api", text="小区电梯坏了三个星期没人修。"),
        Labels(topic="城乡建设", subtopic=None, confidence=0.9), NOW,
    )
    dispute(demo, assigned, housing_staff, at=datetime(2026, 9, 30, 9, 0))
    dispute(demo, second, housing_staff, at=datetime(2026, 9, 30, 11, 0))
    demo.commit()
    queue = open_disputes(demo, datetime(2026, 9, 30, 13, 30))
    assert [d.ticket.id for d in queue] == [assigned.id, second.id]
    assert [d.overdue for d in queue] == [True, False]
    assert [d.waited_hours for d in queue] == [4.5, 2.5]
    assert queue[0].event.detail["basis"] == "《杭州市城市管理条例》第二十条"


def test_a_return_carries_its_reason_class(demo, assigned, housing_staff):
    workflow.return_ticket(demo, assigned, housing_staff, NOW, "与 2026093000001 重复", reason_class="duplicate")
    event = assigned.events[-1]
    assert event.detail["reason_class"] == "duplicate" and event.detail["reason_label"] == "重复件"


def test_a_return_without_a_class_is_other_and_an_unknown_class_is_refused(demo, assigned, housing_staff):
    assert "退回原因" in str(
        unchanged(demo, assigned, lambda: workflow.return_ticket(demo, assigned, housing_staff, NOW, "x", reason_class="?"))
    )
    workflow.return_ticket(demo, assigned, housing_staff, NOW, "不归我们管")
    assert assigned.events[-1].detail["reason_class"] == "other"


def test_the_district_names_its_fallback_agency(demo):
    xihu = demo.scalar(select(District).where(District.name == "西湖区"))
    assert xihu.fallback_agency.name == "西湖区人民政府"


def test_the_scorecard_counts_disputes_and_their_rulings(demo, assigned, housing_staff, dispatcher, housing, agencies):
    from routing.reports.scorecard import scorecard

    second = open_ticket(
        demo, Inbound(channel="api", text="小区电梯坏了三个星期没人修。"),
        Labels(topic="城乡建设", subtopic=None, confidence=0.9), NOW,
    )
    third = open_ticket(
        demo, Inbound(channel="api", text="小区门口的井盖丢了。"),
        Labels(topic="城乡建设", subtopic=None, confidence=0.9), NOW,
    )
    dispute(demo, assigned, housing_staff)
    disputes.uphold(demo, assigned, dispatcher, NOW, agency=agencies["西湖区人民政府"])
    dispute(demo, second, housing_staff)
    disputes.reject(demo, second, dispatcher, NOW, reason="属住建职责")
    workflow.return_ticket(demo, third, housing_staff, NOW, "重复", reason_class="duplicate")
    demo.commit()
    card = scorecard(demo, datetime(2026, 9, 1), datetime(2026, 10, 1), NOW, agency_id=housing.id)
    row = card.rows[0]
    assert (row.disputes, row.disputes_upheld, row.disputes_rejected, row.returns) == (2, 1, 1, 1)
    # Its cohort: the rejected ticket, back with it; the others left it, and count back in.
    assert row.assigned == 1 and row.return_rate == 1.0
