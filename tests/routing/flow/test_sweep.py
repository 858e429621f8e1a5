"""The periodic sweep, the resident's rating, and first responsibility (首接负责)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from routing.flow import ratings, steps, sweep, workflow
from routing.store import people
from routing.store.jobs import Job, ensure_periodic
from routing.store.people import Role
from routing.store.tickets import Status
from routing.store.workers import run_pending

from .test_workflow import NOW, accepted_ticket, housing, new_ticket, user  # noqa: F401 - fixtures


def answered_ticket(demo, housing):  # noqa: F811
    t, staff = accepted_ticket(demo, housing)
    workflow.answer(demo, t, staff, NOW, "已修好。")
    demo.commit()
    return t


def test_an_answer_nobody_rates_closes_after_five_working_days(demo, housing):  # noqa: F811
    t = answered_ticket(demo, housing)
    # 8, 9, 10 (make-up Saturday), 12 and 13 October are the five working days.
    assert sweep.close_unrated(demo, datetime(2026, 10, 13, 12, 0), days=5) == 0
    assert t.status is Status.ANSWERED
    assert sweep.close_unrated(demo, datetime(2026, 10, 13, 18, 0), days=5) == 1
    assert t.status is Status.CLOSED and t.events[-1].actor == steps.SYSTEM
    assert "未评价" in t.events[-1].reason


def test_a_merged_ticket_whose_answer_nobody_rates_closes_with_the_answered_one(demo, housing):  # noqa: F811
    dispatcher = user(demo, Role.DISPATCHER, name="desk")
    duplicate, unanswered, waiting = new_ticket(demo), new_ticket(demo), new_ticket(demo)
    workflow.merge(demo, waiting, unanswered, dispatcher, NOW)  # its ticket has no answer yet
    t, staff = accepted_ticket(demo, housing)
    workflow.merge(demo, duplicate, t, dispatcher, NOW)
    workflow.answer(demo, t, staff, NOW, "已修好。")
    demo.commit()
    assert steps.awaiting_rating(duplicate) and not steps.awaiting_rating(waiting)
    assert sweep.close_unrated(demo, datetime(2026, 10, 13, 18, 0), days=5) == 2
    assert (t.status, duplicate.status, waiting.status) == (Status.CLOSED, Status.CLOSED, Status.MERGED)
    assert "未评价" in duplicate.events[-1].reason


def test_the_sweep_runs_once_per_slot_and_schedules_the_next(app, demo, housing):  # noqa: F811
    t = answered_ticket(demo, housing)
    database, jobs = app.extensions["tingjian"].db, app.extensions["tingjian"].jobs
    start = datetime(2026, 10, 20, 9, 7)
    ensure_periodic(database, jobs, start)
    ensure_periodic(database, jobs, start)  # a second process starting: no second chain
    demo.expire_all()
    assert list(demo.scalars(select(Job.key).where(Job.kind == sweep.SWEEP))) == ["sweep:202610200915"]

    # The app's own job registry, as its workers have it (5 days to rate, by default).
    assert app.config["SATISFACTION_DAYS"] == 5
    run_pending(database, app.extensions["tingjian"].jobs, lambda: datetime(2026, 10, 20, 9, 15))
    demo.expire_all()
    assert demo.scalar(select(Job.status).where(Job.key == "sweep:202610200915")) == "done"
    keys = list(demo.scalars(select(Job.key).where(Job.kind == sweep.SWEEP).order_by(Job.id)))
    assert keys == ["sweep:202610200915", "sweep:202610200930"]
    assert demo.get(type(t), t.id).status is Status.CLOSED


def test_a_resident_who_is_satisfied_closes_and_one_who_is_not_reopens(demo, housing):  # noqa: F811
    t = answered_ticket(demo, housing)
    with pytest.raises(steps.WorkflowError, match="满意"):
        ratings.rate(demo, t, NOW, "great")
    ratings.rate(demo, t, NOW, "unsatisfied", "电梯还是坏的")
    assert t.status is Status.ASSIGNED and t.agency_id == housing.id and t.rating is None
    assert [e.action for e in t.events][-2:] == ["rate", "reopen"]
    assert t.events[-1].reason == "群众不满意：电梯还是坏的"

    staff = demo.scalar(select(people.User).where(people.User.username == "staff"))
    later = NOW + timedelta(days=20)
    workflow.accept(demo, t, staff, later)
    workflow.answer(demo, t, staff, later, "已更换电梯。")
    ratings.rate(demo, t, later, "basically_satisfied")
    assert t.status is Status.CLOSED and t.rating == "basically_satisfied"
    with pytest.raises(steps.WorkflowError):
        ratings.rate(demo, t, later, "satisfied")


def test_after_the_accept_deadline_the_agency_can_no_longer_return_the_ticket(demo, housing):  # noqa: F811
    t, staff = accepted_ticket(demo, housing)
    late = t.accept_by + timedelta(minutes=1)
    with pytest.raises(steps.WorkflowError, match="首接负责"):
        workflow.return_ticket(demo, t, staff, late, "不归我们管")
    # The dispatcher still can move it on.
    dispatcher = user(demo, Role.DISPATCHER, name="disp")
    workflow.correct(demo, t, dispatcher, late, topic="环境保护", reason="确属环保")
    assert t.agency_id != housing.id
