"""Warnings and escalation (预警与督办): a ticket turns yellow (临期) when most of
its working time is used and red (超期) when overdue; the sweep sends a reminder
(催办) to the agency when a deadline is reached and a notice (通报) to its
supervisor when it stays overdue; every agency gets a digest each working day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from routing.flow import escalation, steps, workflow
from routing.flow.calendar import WorkCalendar
from routing.flow.escalation import EscalationPolicy, Level, warning_level
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.store.jobs import Job, ensure_periodic
from routing.store.oversight import AgencyDigest, Escalation, EscalationKind
from routing.store.people import Agency, Role
from routing.store.tickets import Status, Ticket, Urgency
from routing.store.workers import run_pending

from .test_workflow import NOW, housing, new_ticket, user  # noqa: F401 - fixtures

CALENDAR = WorkCalendar()
POLICY = EscalationPolicy(warning_share=0.8, escalation_days=2)


def assigned(at: datetime, accept_by: datetime, answer_by: datetime | None = None, **fields) -> Ticket:
    """A ticket as the workflow leaves it after 派单, without a database."""
    values = dict(status=Status.ASSIGNED, urgency=Urgency.NORMAL, created_at=at, assigned_at=at,
                  accept_by=accept_by, answer_by=answer_by or accept_by + timedelta(days=20))
    return Ticket(**(values | fields))


# -- the warning level ---------------------------------------------------------


def test_working_time_skips_nights_weekends_and_the_national_day_holidays():
    # 30 September 10:00 to 8 October 17:30: 7.5 office hours, then 1–7 October off, then 9 hours.
    assert CALENDAR.working_time_between(datetime(2026, 9, 30, 10), datetime(2026, 10, 8, 17, 30)) == timedelta(
        hours=16.5
    )
    assert CALENDAR.working_time_between(datetime(2026, 10, 2), datetime(2026, 10, 7, 23)) == timedelta(0)


def test_a_ticket_turns_yellow_when_most_of_its_working_time_is_used_even_across_a_holiday():
    t = assigned(datetime(2026, 9, 30, 10, 0), accept_by=datetime(2026, 10, 8, 17, 30))
    # Late on the last holiday only 18 clock hours are left, but 9 of the 16.5 office hours.
    assert warning_level(t, datetime(2026, 10, 7, 23, 0), CALENDAR) is Level.NONE
    # 80 % of 16.5 hours is 13.2: 7.5 on 30 September and 5.7 on 8 October, i.e. at 14:12.
    assert warning_level(t, datetime(2026, 10, 8, 14, 0), CALENDAR) is Level.NONE
    assert warning_level(t, datetime(2026, 10, 8, 14, 15), CALENDAR) is Level.YELLOW
    assert warning_level(t, datetime(2026, 10, 8, 17, 30), CALENDAR) is Level.YELLOW
    assert warning_level(t, datetime(2026, 10, 8, 17, 31), CALENDAR) is Level.RED
    assert (Level.YELLOW.label, Level.RED.label) == ("临期", "超期")


def test_a_weekend_does_not_use_up_working_time_and_the_share_is_configurable():
    # Assigned on Friday 20 November at 16:00; to be accepted by Monday's close.
    t = assigned(datetime(2026, 11, 20, 16, 0), accept_by=datetime(2026, 11, 23, 17, 30))
    assert warning_level(t, datetime(2026, 11, 22, 20, 0), CALENDAR) is Level.NONE
    # 10.5 office hours in all; 80 % are used at 15:24 on Monday.
    assert warning_level(t, datetime(2026, 11, 23, 15, 0), CALENDAR) is Level.NONE
    assert warning_level(t, datetime(2026, 11, 23, 15, 30), CALENDAR) is Level.YELLOW
    # With a share of one half, Monday at 12:00 (1.5 + 3.5 of 10.5 hours used) is still calm, 12:30 not.
    assert warning_level(t, datetime(2026, 11, 23, 12, 0), CALENDAR, share=0.5) is Level.NONE
    assert warning_level(t, datetime(2026, 11, 23, 12, 30), CALENDAR, share=0.5) is Level.YELLOW


def test_after_acceptance_the_answer_deadline_counts_and_a_waiting_ticket_does_not_age():
    start = datetime(2026, 11, 2, 9, 0)
    t = assigned(start, accept_by=datetime(2026, 11, 3, 17, 30), answer_by=datetime(2026, 11, 20, 17, 30),
                 status=Status.ACCEPTED, accepted_at=start)
    # The accept deadline has passed, but it no longer matters once accepted.
    assert warning_level(t, datetime(2026, 11, 10, 9, 0), CALENDAR) is Level.NONE
    assert warning_level(t, datetime(2026, 11, 23, 9, 0), CALENDAR) is Level.RED
    # Waiting on the resident since 6 November: the clock stopped there.
    t.status, t.paused_at = Status.WAITING, datetime(2026, 11, 6, 9, 0)
    assert warning_level(t, datetime(2026, 12, 20, 9, 0), CALENDAR) is Level.NONE
    # Stopped only after the deadline had passed: it stays red.
    t.paused_at = datetime(2026, 11, 21, 9, 0)
    assert warning_level(t, datetime(2026, 12, 20, 9, 0), CALENDAR) is Level.RED


def test_emergencies_run_on_the_clock_and_finished_tickets_have_no_warning():
    # An emergency on a Saturday night: two hours to answer, office hours or not.
    night = datetime(2026, 11, 21, 22, 0)
    t = assigned(night, accept_by=night + timedelta(hours=1), answer_by=night + timedelta(hours=2),
                 status=Status.ACCEPTED, urgency=Urgency.URGENT)
    assert warning_level(t, night + timedelta(minutes=60), CALENDAR) is Level.NONE
    assert warning_level(t, night + timedelta(minutes=100), CALENDAR) is Level.YELLOW
    assert warning_level(t, night + timedelta(minutes=121), CALENDAR) is Level.RED
    for status in (Status.ANSWERED, Status.CLOSED, Status.TRIAGE, Status.MERGED):
        t.status = status
        assert warning_level(t, night + timedelta(days=30), CALENDAR) is Level.NONE


# -- reminders and notices -----------------------------------------------------


def records(session, ticket: Ticket) -> list[tuple[str, str, str | None]]:
    session.flush()
    rows = session.scalars(select(Escalation).where(Escalation.ticket_id == ticket.id).order_by(Escalation.id))
    return [(e.kind.value, e.deadline, e.recipient.name if e.recipient else None) for e in rows]


def test_a_reminder_goes_to_the_agency_once_when_the_accept_deadline_is_reached(demo, housing):  # noqa: F811
    t = new_ticket(demo)  # assigned 30 September 10:00, to be accepted by 8 October 17:30
    assert escalation.escalate(demo, t.accept_by - timedelta(minutes=1), POLICY) == (0, 0)
    assert escalation.escalate(demo, t.accept_by, POLICY) == (1, 0)
    assert records(demo, t) == [("reminder", "accept", "市住建局")]
    event = t.events[-1]
    assert (event.action, event.actor, event.actor_id) == ("remind", steps.SYSTEM, None)
    assert "签收时限（2026-10-08 17:30）已到" in event.reason
    # The next sweeps find nothing new to send for the same deadline.
    assert escalation.escalate(demo, t.accept_by + timedelta(minutes=15), POLICY) == (0, 0)
    assert escalation.escalate(demo, t.accept_by + timedelta(hours=1), POLICY) == (0, 0)
    assert records(demo, t) == [("reminder", "accept", "市住建局")]


def test_a_notice_goes_to_the_supervisor_after_two_working_days_overdue(demo, housing):  # noqa: F811
    t = new_ticket(demo)
    assert housing.supervisor.name == "市政府办公厅"
    # 8 October 17:30 plus two working days: 9 October and Saturday 10 October (a make-up working day).
    assert escalation.escalate(demo, datetime(2026, 10, 10, 17, 0), POLICY) == (1, 0)
    assert escalation.escalate(demo, datetime(2026, 10, 10, 17, 30), POLICY) == (0, 1)
    assert records(demo, t) == [("reminder", "accept", "市住建局"), ("notice", "accept", "市政府办公厅")]
    assert t.events[-1].action == "notify_supervisor" and t.events[-1].actor_id is None
    assert "已超期 2 个工作日仍未签收，通报市政府办公厅督办" in t.events[-1].reason
    assert escalation.escalate(demo, datetime(2026, 10, 20, 9, 0), POLICY) == (0, 0)


def test_without_a_supervisor_the_notice_goes_to_the_dispatcher_centre(demo, housing):  # noqa: F811
    housing.supervisor_id = None
    t = new_ticket(demo)
    escalation.escalate(demo, datetime(2026, 10, 12, 9, 0), POLICY)  # long past both steps: a sweep after an outage
    assert records(demo, t) == [("reminder", "accept", "市住建局"), ("notice", "accept", None)]
    assert "通报分拨中心督办" in t.events[-1].reason


def test_each_deadline_is_chased_on_its_own_and_an_extension_is_a_new_deadline(demo, housing):  # noqa: F811
    t = new_ticket(demo)
    staff = user(demo, Role.AGENCY, housing, name="staff")
    dispatcher = user(demo, Role.DISPATCHER, name="disp")
    workflow.accept(demo, t, staff, datetime(2026, 10, 8, 9, 0))
    assert escalation.escalate(demo, datetime(2026, 10, 9, 9, 0), POLICY) == (0, 0)
    assert escalation.escalate(demo, t.answer_by, POLICY) == (1, 0)
    assert records(demo, t) == [("reminder", "answer", "市住建局")]
    assert "答复时限（2026-10-27 17:30）已到" in t.events[-1].reason

    workflow.request_extension(demo, t, staff, datetime(2026, 10, 28, 9, 0), datetime(2026, 11, 10, 17, 30), "需会商")
    workflow.decide_extension(demo, t, dispatcher, datetime(2026, 10, 28, 10, 0), approve=True)
    assert escalation.open_escalations(demo) == []  # the old deadline is gone, and its reminder with it
    assert escalation.escalate(demo, datetime(2026, 11, 9, 9, 0), POLICY) == (0, 0)
    assert escalation.escalate(demo, datetime(2026, 11, 10, 17, 30), POLICY) == (1, 0)
    assert [r[1] for r in records(demo, t)] == ["answer", "answer"]


def test_a_ticket_waiting_on_the_resident_is_not_chased(demo, housing):  # noqa: F811
    t = new_ticket(demo)
    staff = user(demo, Role.AGENCY, housing, name="staff")
    workflow.accept(demo, t, staff, datetime(2026, 10, 8, 9, 0))
    workflow.ask_resident(demo, t, staff, datetime(2026, 10, 9, 9, 0), "请告知楼号。")
    escalation.escalate(demo, datetime(2026, 12, 1, 9, 0), POLICY)
    assert records(demo, t) == []


def test_open_records_are_the_agencys_own_and_notices_for_its_supervisor(demo, housing):  # noqa: F811
    t = new_ticket(demo)
    escalation.escalate(demo, datetime(2026, 10, 12, 9, 0), POLICY)
    office = demo.scalar(select(Agency).where(Agency.name == "市政府办公厅"))
    environment = demo.scalar(select(Agency).where(Agency.name == "市生态环境局"))

    def kinds(agency_id=None):
        return [e.kind for e in escalation.open_escalations(demo, agency_id=agency_id)]

    assert kinds() == [EscalationKind.NOTICE, EscalationKind.REMINDER]  # the dispatcher sees both
    assert kinds(housing.id) == [EscalationKind.NOTICE, EscalationKind.REMINDER]
    assert kinds(office.id) == [EscalationKind.NOTICE]  # the supervisor: notices only
    assert kinds(environment.id) == []  # another agency: nothing
    assert escalation.count_open(demo) == 2
    # Accepting meets the accept deadline: nothing is open any more, the records stay.
    workflow.accept(demo, t, user(demo, Role.AGENCY, housing, name="staff"), datetime(2026, 10, 12, 10, 0))
    assert kinds() == [] and len(records(demo, t)) == 2


def test_the_sweep_job_escalates_and_asks_for_the_digests_once_a_working_day(app, demo, housing):  # noqa: F811
    t = new_ticket(demo)
    database, jobs = app.extensions["tingjian"].db, app.extensions["tingjian"].jobs
    assert (app.config["WARNING_SHARE"], app.config["ESCALATION_DAYS"]) == (0.8, 2)

    # Friday 9 October, 08:30: the office opens; the reminder for the accept deadline is due.
    ensure_periodic(database, jobs, datetime(2026, 10, 9, 8, 20))
    run_pending(database, jobs, lambda: datetime(2026, 10, 9, 8, 30))
    demo.expire_all()
    assert records(demo, t) == [("reminder", "accept", "市住建局")]
    agencies = demo.scalar(select(func.count(Agency.id)).where(Agency.active.is_(True)))
    assert demo.scalar(select(func.count(AgencyDigest.id)).where(AgencyDigest.day == date(2026, 10, 9))) == agencies
    # The next slots make no second digest; the digest jobs were keyed per agency and day.
    run_pending(database, jobs, lambda: datetime(2026, 10, 9, 8, 45))
    run_pending(database, jobs, lambda: datetime(2026, 10, 9, 9, 0))
    demo.expire_all()
    assert demo.scalar(select(func.count(AgencyDigest.id))) == agencies
    assert demo.scalar(select(func.count(Job.id)).where(Job.kind == escalation.DIGESTS)) == 1


def test_no_digest_before_opening_or_on_a_day_off(demo):
    for moment in (datetime(2026, 10, 9, 7, 0), datetime(2026, 10, 11, 9, 0), datetime(2026, 10, 3, 9, 0)):
        escalation.schedule_digests(demo, moment, CALENDAR)
    demo.flush()
    assert demo.scalar(select(func.count(Job.id)).where(Job.kind == escalation.DIGESTS)) == 0


def test_the_digest_counts_new_due_soon_overdue_reminders_and_notices(demo, housing):  # noqa: F811
    late = new_ticket(demo)  # 30 September: overdue to accept by 12 October
    escalation.escalate(demo, datetime(2026, 10, 12, 9, 0), POLICY)
    fresh = open_for(demo, datetime(2026, 10, 12, 15, 0))  # Monday afternoon, to accept by Tuesday's close
    digest = escalation.make_digest(demo, housing.id, date(2026, 10, 13), datetime(2026, 10, 13, 16, 0), POLICY)
    assert digest.detail["new"] == [fresh.number]
    assert digest.detail["overdue"] == [late.number] and digest.detail["due_soon"] == [fresh.number]
    assert (digest.new_tickets, digest.due_soon, digest.overdue, digest.reminders, digest.notices) == (1, 1, 1, 1, 1)
    # Made once: asking again returns the same digest.
    again = escalation.make_digest(demo, housing.id, date(2026, 10, 13), datetime(2026, 10, 13, 17, 0), POLICY)
    assert again.id == digest.id


def test_the_digest_counts_what_the_sweep_that_asks_for_it_raised_and_never_twice(app, demo, housing):  # noqa: F811
    t = new_ticket(demo)  # assigned 30 September 10:00, to be accepted by 8 October 17:30
    database, jobs = app.extensions["tingjian"].db, app.extensions["tingjian"].jobs

    def digest_of(day: date) -> AgencyDigest:
        demo.expire_all()
        return demo.scalar(select(AgencyDigest).where(AgencyDigest.agency_id == housing.id, AgencyDigest.day == day))

    # Friday 9 October, 08:30: one sweep raises the reminder and asks for the day's digests.
    ensure_periodic(database, jobs, datetime(2026, 10, 9, 8, 20))
    run_pending(database, jobs, lambda: datetime(2026, 10, 9, 8, 30))
    friday = digest_of(date(2026, 10, 9))
    assert (friday.reminders, friday.notices, friday.detail["reminders"]) == (1, 0, [t.number])
    # Monday 12 October, 08:30: two working days overdue, the sweep raises the notice;
    # the reminder was in Friday's digest and is not counted again.
    run_pending(database, jobs, lambda: datetime(2026, 10, 12, 8, 30))
    monday = digest_of(date(2026, 10, 12))
    assert (monday.reminders, monday.notices, monday.detail["notices"]) == (0, 1, [t.number])
    assert monday.detail["since"] == friday.created_at.isoformat()


def open_for(session, at: datetime) -> Ticket:
    t = open_ticket(session, Inbound(channel="api", text="楼道灯坏了。"),
                    Labels(topic="城乡建设", subtopic=None, confidence=0.9), at)
    session.flush()
    return t


@pytest.mark.parametrize("days", [1, 3])
def test_the_number_of_working_days_before_a_notice_is_a_setting(demo, housing, days):  # noqa: F811
    t = new_ticket(demo)
    policy = EscalationPolicy(escalation_days=days)
    notice_at = CALENDAR.add_working_days(t.accept_by, days)
    escalation.escalate(demo, notice_at - timedelta(minutes=1), policy)
    assert [r[0] for r in records(demo, t)] == ["reminder"]
    escalation.escalate(demo, notice_at, policy)
    assert [r[0] for r in records(demo, t)] == ["reminder", "notice"]
