"""代表建议办理统计: per agency, 办结率, 面商率 and 满意率 of the deputies'
suggestions raised in a period, from one SQL aggregate; figures counted by hand."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from sqlalchemy import select

from collector.deputies import DeputyInput, deputy_of, submit
from routing.clock import now
from routing.flow import ratings, suggestions, workflow
from routing.reports.deputy_stats import suggestion_scores, total
from routing.store.people import Agency, User

from ..helpers import agency_login, fixed_reading

SUGGESTION = "建议在西湖区文新街道学院路增设公交站台，方便周边居民出行。"


def user(session, username: str) -> User:
    return session.scalar(select(User).where(User.username == username))


def staff_of(session, agency: Agency) -> User:
    return user(session, agency_login(session, agency))


def the_year(session):
    """Suggestions for two agencies, and some that must not count.

    Lead agency A: a1 consulted, answered, 满意 (closed); a2 consulted,
    answered, 不满意 (back with the agency); a3 answered without 面商; a4 only
    assigned; a5 merged into a1 (left out). Agency B (交通): b1 consulted,
    answered, 基本满意. Not counted: a complaint, and a suggestion from before
    the period.
    """
    deputy = deputy_of(session, user(session, "deputy"))
    at = now()
    dispatcher = user(session, "dispatcher")

    def suggestion(text_suffix: str, when: datetime = at):
        return submit(session, deputy, DeputyInput(text=SUGGESTION + text_suffix, mode="suggestion"), fixed_reading, when)

    a1, a2, a3, a4, a5, b1 = (suggestion(f"（{i}）") for i in range(1, 7))
    lead = a1.agency
    traffic = session.scalar(select(Agency).where(Agency.name == "市交通运输局"))
    assert lead.id != traffic.id
    workflow.assign(session, b1, traffic, dispatcher, at)
    workflow.merge(session, a5, a1, dispatcher, at)
    old = suggestion("（去年）", at - timedelta(days=60))
    complaint = submit(session, deputy, DeputyInput(text="文新街道路灯坏了很多天了"), fixed_reading, at)

    def handle(ticket, staff, *, consult: bool, rating: str | None) -> None:
        workflow.accept(session, ticket, staff, at)
        if consult:
            suggestions.consult(session, ticket, staff, at, held_on=at.date(), way="当面", note="现场查看")
        workflow.answer(session, ticket, staff, at, "已研究，将逐步解决。", grade="B")
        if rating:
            ratings.rate_by_deputy(session, ticket, deputy.user, at, rating, "理由")

    a_staff, b_staff = staff_of(session, lead), staff_of(session, traffic)
    handle(a1, a_staff, consult=True, rating="satisfied")
    handle(a2, a_staff, consult=True, rating="unsatisfied")
    handle(a3, a_staff, consult=False, rating=None)
    handle(b1, b_staff, consult=True, rating="basically_satisfied")
    handle(old, a_staff, consult=True, rating="satisfied")
    workflow.accept(session, complaint, staff_of(session, complaint.agency), at)
    workflow.answer(session, complaint, staff_of(session, complaint.agency), at, "已修复。")
    session.commit()
    assert a4.agency_id == lead.id
    return lead, traffic, at


def test_the_figures_per_agency_are_the_hand_counted_ones(demo):
    lead, traffic, at = the_year(demo)
    start = datetime.combine(at.date(), datetime.min.time())
    scores = {s.agency: s for s in suggestion_scores(demo, start, start + timedelta(days=1))}
    assert set(scores) == {lead.name, traffic.name}
    a, b = scores[lead.name], scores[traffic.name]
    assert (a.suggestions, a.concluded, a.consulted, a.rated, a.satisfied) == (4, 2, 2, 2, 1)
    assert (a.conclusion_rate, a.consultation_rate, a.satisfaction_rate) == (0.5, 0.5, 0.5)
    assert (b.suggestions, b.concluded, b.consulted, b.rated, b.satisfied) == (1, 1, 1, 1, 1)
    whole = total(list(scores.values()))
    assert (whole.suggestions, whole.concluded, whole.consulted, whole.rated, whole.satisfied) == (5, 3, 3, 3, 2)
    # One agency only; and a period with nothing in it.
    [only] = suggestion_scores(demo, start, start + timedelta(days=1), agency_id=traffic.id)
    assert only.agency == traffic.name
    assert suggestion_scores(demo, start - timedelta(days=10), start - timedelta(days=9)) == []


def test_dispatchers_see_every_agency_and_export_csv(client, auth, demo):
    lead, traffic, at = the_year(demo)
    auth.login("dispatcher")
    day = at.date().isoformat()
    args = f"period=custom&start={day}&end={day}"
    page = client.get(f"/scorecards/deputy-suggestions?{args}").get_data(as_text=True)
    assert lead.name in page and traffic.name in page and "合计" in page and "66.7" in page

    response = client.get(f"/scorecards/deputy-suggestions.csv?{args}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["承办单位", "建议数", "已办结", "办结率(%)", "已面商", "面商率(%)", "代表评价数", "满意及基本满意", "满意率(%)"]
    by_agency = {row[0]: row[1:] for row in rows[1:]}
    assert by_agency[lead.name] == ["4", "2", "50.0", "2", "50.0", "2", "1", "50.0"]
    assert by_agency[traffic.name] == ["1", "1", "100.0", "1", "100.0", "1", "1", "100.0"]
    assert by_agency["合计"] == ["5", "3", "60.0", "3", "60.0", "3", "2", "66.7"]


def test_agency_staff_see_their_own_agency_only(client, auth, demo):
    lead, traffic, at = the_year(demo)
    auth.login(agency_login(demo, traffic))
    day = at.date().isoformat()
    page = client.get(f"/scorecards/deputy-suggestions?period=custom&start={day}&end={day}").get_data(as_text=True)
    assert traffic.name in page and lead.name not in page
    assert client.get(f"/scorecards/deputy-suggestions.csv?agency={lead.id}").status_code == 403
    auth.logout()
    auth.login("deputy")
    assert client.get("/scorecards/deputy-suggestions").status_code == 403
