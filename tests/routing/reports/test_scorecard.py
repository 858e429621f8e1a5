"""Scorecards (办理质效) on a handful of tickets whose figures are counted by hand.

March 2026 has no holidays; 2 March is a Monday. A complaint assigned at
9:00 on the 2nd must be accepted by 3 March 17:30 and answered by 23 March
17:30 (15 working days). The scorecard is read on 10 April.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from routing.flow import ratings, workflow
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.reports.overdue import overdue_tickets
from routing.reports.scorecard import month_of, previous_month, quarter_of, scorecard
from routing.store.people import Agency, Role

from ..flow.test_workflow import env_agency, housing, user  # noqa: F401 - fixtures

MARCH = (datetime(2026, 3, 1), datetime(2026, 4, 1))
READ_AT = datetime(2026, 4, 10, 12, 0)


def at(day: int, hour: int = 9, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, 0)


def opened(session, when: datetime):
    """A complaint routed by rule to 市住建局 at ``when``."""
    return open_ticket(
        session,
        Inbound(channel="api", text="小区电梯坏了三个星期没人修。"),
        Labels(topic="城乡建设", confidence=0.9),
        when,
    )


@pytest.fixture
def figures(demo, housing, env_agency):  # noqa: F811
    s = demo
    staff = user(s, Role.AGENCY, housing, name="zj")
    env_staff = user(s, Role.AGENCY, env_agency, name="hb")
    dispatcher = user(s, Role.DISPATCHER, name="disp")
    tickets = {}

    # A: accepted and answered on time (49 hours, 2 working days), rated 满意.
    a = tickets["A"] = opened(s, at(2))
    workflow.accept(s, a, staff, at(2, 10))
    workflow.answer(s, a, staff, at(4, 10), "已修好。")
    ratings.rate(s, a, at(5), "satisfied")
    # B: accepted late, answered late (28 days = 672 hours, 20 working days).
    b = tickets["B"] = opened(s, at(2))
    workflow.accept(s, b, staff, at(5))
    workflow.answer(s, b, staff, at(30), "已修好。")
    # C: never accepted — late on both counts, and overdue now.
    tickets["C"] = opened(s, at(2))
    # D: waiting on the resident since before its answer deadline — the clock stopped: undecided.
    d = tickets["D"] = opened(s, at(2))
    workflow.accept(s, d, staff, at(2, 10))
    workflow.ask_resident(s, d, staff, at(3), "请告知楼号。")
    # E: answered, rated 不满意 and reopened on the 4th; the new round: accepted
    # and answered on time (48 hours, 2 working days), rated 基本满意.
    e = tickets["E"] = opened(s, at(2))
    workflow.accept(s, e, staff, at(2, 10))
    workflow.answer(s, e, staff, at(3, 10), "已修好。")
    ratings.rate(s, e, at(4, 10), "unsatisfied", "没修好")
    workflow.accept(s, e, staff, at(5))
    workflow.answer(s, e, staff, at(6, 10), "已更换电梯。")
    ratings.rate(s, e, at(9), "basically_satisfied")
    # F: returned by 市住建局, assigned to 市生态环境局, accepted, never answered.
    f = tickets["F"] = opened(s, at(2))
    workflow.return_ticket(s, f, staff, at(2, 11), "不归我们管")
    workflow.assign(s, f, env_agency, dispatcher, at(2, 12))
    workflow.accept(s, f, env_staff, at(3))
    # G: accepted by 市住建局, then a dispatcher transfers it to 市生态环境局 on the 10th; nobody accepts it.
    g = tickets["G"] = opened(s, at(2))
    workflow.accept(s, g, staff, at(2, 10))
    workflow.correct(s, g, dispatcher, at(10), agency=env_agency, reason="属于环保")
    # H: assigned in February (not in March's cohort), rated 满意 in March.
    h = tickets["H"] = opened(s, at(27, month=2))
    workflow.accept(s, h, staff, at(27, 10, month=2))
    workflow.answer(s, h, staff, at(2), "已处理。")
    ratings.rate(s, h, at(3), "satisfied")
    s.commit()
    return tickets


def test_an_agencys_month_counted_by_hand(demo, housing, figures):  # noqa: F811
    card = scorecard(demo, *MARCH, READ_AT, agency_id=housing.id)
    [row] = card.rows
    assert row.agency == "市住建局"
    assert row.assigned == 5  # A B C D E; F and G left it
    assert (row.accepted_on_time, row.accepted_late, row.accept_rate) == (3, 2, 0.6)  # A D E | B C
    assert (row.answered_on_time, row.answered_late, row.answer_rate) == (2, 2, 0.5)  # A E | B C; D undecided
    assert row.answered == 3
    assert row.average_handling_hours == pytest.approx((49 + 672 + 48) / 3)
    assert row.average_handling_working_days == pytest.approx((2 + 20 + 2) / 3)
    # Ratings given in March on its answers: A 满意, E 不满意 then 基本满意, H 满意.
    assert (row.rated, row.satisfied, row.satisfaction_rate) == (4, 3, 0.75)
    assert (row.returns, row.transfers) == (1, 1)  # F, G
    # 重办率: E redone once, over the answers given in March: A, B, E twice, H.
    assert (row.answers, row.redos, row.redo_rate) == (5, 1, 0.2)
    assert row.overdue == 1  # C; D's clock stands still


def test_every_agency_and_the_total(demo, housing, env_agency, figures):  # noqa: F811
    card = scorecard(demo, *MARCH, READ_AT)
    rows = {row.agency: row for row in card.rows}
    # Every active agency has a row, with or without tickets.
    assert set(rows) == set(demo.scalars(select(Agency.name).where(Agency.active.is_(True))))
    env = rows["市生态环境局"]
    assert env.assigned == 2  # F, G
    assert (env.accepted_on_time, env.accepted_late) == (1, 1)  # F | G
    assert (env.answered_on_time, env.answered_late) == (0, 2)
    assert env.answer_rate == 0.0 and env.satisfaction_rate is None and env.average_handling_hours is None
    assert (env.returns, env.transfers, env.overdue) == (0, 0, 2)
    assert rows["市交通运输局"].assigned == 0 and rows["市交通运输局"].accept_rate is None
    total = card.total
    assert (total.assigned, total.accepted_on_time, total.accepted_late) == (7, 4, 3)
    assert (total.rated, total.satisfied, total.returns, total.transfers, total.overdue) == (4, 3, 1, 1, 3)


def test_an_open_ticket_is_late_only_once_its_deadline_has_passed(demo, housing, figures):  # noqa: F811
    # Read at noon on 3 March, C's accept deadline (17:30) is still ahead: undecided, not late.
    card = scorecard(demo, *MARCH, at(3, 12), agency_id=housing.id)
    [row] = card.rows
    assert (row.accepted_on_time, row.accepted_late) == (3, 1)  # B alone: accepted on the 5th
    assert row.overdue == 0


def test_overdue_tickets_come_with_their_agencies(demo, figures):
    overdue = overdue_tickets(demo, READ_AT)
    assert {t.number for t in overdue} == {figures[k].number for k in "CFG"}
    assert {t.agency.name for t in overdue} == {"市住建局", "市生态环境局"}


def test_periods():
    assert month_of(date(2026, 11, 26)) == (datetime(2026, 11, 1), datetime(2026, 12, 1))
    assert month_of(date(2026, 12, 5)) == (datetime(2026, 12, 1), datetime(2027, 1, 1))
    assert previous_month(date(2026, 1, 15)) == (datetime(2025, 12, 1), datetime(2026, 1, 1))
    assert quarter_of(date(2026, 11, 26)) == (datetime(2026, 10, 1), datetime(2027, 1, 1))
    assert quarter_of(date(2026, 3, 31)) == (datetime(2026, 1, 1), datetime(2026, 4, 1))
