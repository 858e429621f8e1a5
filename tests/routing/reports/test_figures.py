"""The figures leadership uses, each defined once (``figures.FIGURES``): each
formula on counts known by hand, the callbacks' counts on a few tickets
through the workflow, and the docs printing the same formulas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from routing.flow import answers, callbacks, ratings, workflow
from routing.flow.callback_rules import KEEP, CallbackRule
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.reports import figures
from routing.reports.scorecard import scorecard
from routing.store.people import Role

from ..flow.test_workflow import housing, user  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[3]
MARCH = (datetime(2026, 3, 1), datetime(2026, 4, 1))
NOW = datetime(2026, 3, 2, 9, 0)


@dataclass
class Counts:
    accepted_on_time: int = 6
    accepted_late: int = 2
    answered_on_time: int = 3
    answered_late: int = 1
    callbacks_reached: int = 4
    callbacks_solved: int = 3
    callbacks_satisfied: int = 2
    rated: int = 6
    satisfied: int = 4
    redos: int = 1
    answers: int = 8
    returns: int = 1
    disputes: int = 2
    assigned: int = 8
    disputes_upheld: int = 1
    disputes_rejected: int = 3


@pytest.mark.parametrize(
    ("figure", "expected"),
    [
        (figures.ACCEPT_RATE, 6 / 8),
        (figures.ANSWER_RATE, 3 / 4),
        (figures.SOLVED_RATE, (3 + 4) / (4 + 6)),
        (figures.SATISFACTION_RATE, (2 + 4) / (4 + 6)),
        (figures.REDO_RATE, 1 / 8),
        (figures.RETURN_RATE, (1 + 2) / (8 + 1 + 1)),
        (figures.DISPUTE_UPHELD_RATE, 1 / 4),
    ],
)
def test_each_figure_is_its_formula(figure, expected):
    assert figure.of(Counts()) == pytest.approx(expected)


def test_a_figure_with_nothing_to_judge_has_no_value():
    assert figures.DISPUTE_UPHELD_RATE.of(Counts(disputes_upheld=0, disputes_rejected=0)) is None


def test_every_figure_is_named_once():
    assert len({f.key for f in figures.FIGURES}) == len({f.name for f in figures.FIGURES}) == len(figures.FIGURES)


@pytest.mark.parametrize("doc", ["README.md", "docs/staff.md"])
def test_the_docs_print_the_formulas_as_defined(doc):
    assert figures.formula_table() in (ROOT / doc).read_text(encoding="utf-8")


def test_the_docs_say_what_every_count_of_a_formula_is():
    words = {w.strip(" ()") for f in figures.FIGURES for w in f.formula.replace("/", "+").split("+")}
    assert words <= set(figures.COUNTS)


def test_callbacks_count_beside_the_ratings_for_the_agency_that_answered(demo, housing):  # noqa: F811
    staff = user(demo, Role.AGENCY, housing, name="zj")
    desk = user(demo, Role.DISPATCHER, name="desk")
    rule = CallbackRule(sample_percent=0, attempts=1, unreached=KEEP)
    tickets = []
    for _ in range(4):
        t = open_ticket(
            demo,
            Inbound(channel="api", text="小区电梯坏了三个星期没人修。"),
            Labels(topic="城乡建设", confidence=0.9),
            NOW,
        )
        workflow.accept(demo, t, staff, NOW + timedelta(hours=1))
        answers.answer(demo, t, staff, NOW + timedelta(days=1), "已修好。", callbacks=rule)
        tickets.append(t)
    demo.flush()
    a, b, c, d = tickets
    later = NOW + timedelta(days=2)
    callbacks.record_try(demo, a, desk, later, reached=True, solved=True, satisfied=True, rule=rule)
    callbacks.record_try(demo, b, desk, later, reached=True, solved=False, satisfied=False, said="没修好", rule=rule)
    callbacks.record_try(demo, c, desk, later, reached=False, rule=rule)  # unreached: judges nothing
    ratings.rate(demo, d, later, "satisfied")
    # Not reached on the callback, c's resident rates it: that judgement counts.
    ratings.rate(demo, c, later, "basically_satisfied")
    demo.flush()
    [row] = scorecard(demo, *MARCH, datetime(2026, 4, 10), agency_id=housing.id).rows
    assert (row.callbacks_reached, row.callbacks_solved, row.callbacks_satisfied) == (2, 1, 1)
    assert (row.rated, row.satisfied) == (2, 2)
    assert row.solved_rate == pytest.approx((1 + 2) / (2 + 2))
    assert row.satisfaction_rate == pytest.approx((1 + 2) / (2 + 2))
    # Nothing was judged in April.
    [april] = scorecard(
        demo, datetime(2026, 4, 1), datetime(2026, 5, 1), datetime(2026, 5, 10), agency_id=housing.id
    ).rows
    assert april.callbacks_reached == 0
