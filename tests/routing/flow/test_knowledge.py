"""The knowledge base (知识库): an answered consultation becomes an article, its
agency keeps it current, and a dispatcher answers the same question from it at
once — without an agency, and never from an article past its date."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from classifier.similar import fingerprint
from routing.flow import knowledge, workflow
from routing.flow.inbound import Inbound, Labels
from routing.flow.steps import PermissionDenied, WorkflowError
from routing.flow.tickets import open_ticket
from routing.store.jobs import Job
from routing.store.knowledge import Article
from routing.store.people import Role
from routing.store.tickets import Kind, Status

from .test_workflow import user as person

NOW = datetime(2026, 9, 30, 10, 0)
LATER = datetime(2026, 10, 12, 10, 0)
QUESTION = "请问公租房申请需要满足什么条件？需要准备哪些材料？"
ANSWER = "申请公租房须在本市有稳定工作、家庭人均住房面积低于15平方米，请携带身份证、户口簿到街道办理。"


def consultation(session, text: str, *, triage: bool = False, kind: Kind = Kind.CONSULTATION):
    labels = Labels(
        topic="城乡建设",
        confidence=0.9,
        kind=kind,
        matter=tuple(fingerprint(text)),
        needs_triage=triage,
        triage_reason="测试：待人工分拣" if triage else None,
    )
    ticket = open_ticket(session, Inbound(channel="api", text=text), labels, NOW)
    session.commit()
    return ticket


@pytest.fixture
def answered(demo, housing, housing_staff):
    """A consultation the city's housing bureau answered."""
    ticket = consultation(demo, QUESTION)
    assert ticket.agency_id == housing.id
    workflow.accept(demo, ticket, housing_staff, NOW)
    workflow.answer(demo, ticket, housing_staff, NOW, ANSWER)
    demo.commit()
    return ticket


@pytest.fixture
def article(demo, answered, housing_staff):
    article = knowledge.article_from_answer(
        demo,
        answered,
        housing_staff,
        NOW,
        title="公租房申请条件",
        citation="《杭州市公共租赁住房管理办法》第十条",
        valid_until=date(2026, 12, 31),
    )
    demo.commit()
    return article


@pytest.fixture
def in_triage(demo):
    """The same question, asked again in other words, waiting for a dispatcher."""
    ticket = consultation(demo, "公租房怎么申请，要什么条件和材料？", triage=True)
    assert ticket.status is Status.TRIAGE
    return ticket


def test_an_answered_consultation_becomes_its_agencys_article(demo, answered, article, housing, housing_staff):
    assert (article.agency_id, article.text, article.topic, article.source_ticket_id) == (
        housing.id,
        ANSWER,
        "城乡建设",
        answered.id,
    )
    assert article.active and article.created_by_id == housing_staff.id
    assert answered.events[-1].action == "save_article" and answered.events[-1].detail["article"] == article.id


def test_only_answered_consultations_become_articles(demo, housing, housing_staff, dispatcher):
    complaint = consultation(demo, "小区门口垃圾堆放多日无人清理。", kind=Kind.COMPLAINT)
    with pytest.raises(WorkflowError, match="只有咨询类工单"):
        knowledge.article_from_answer(demo, complaint, dispatcher, NOW, title="垃圾")
    unanswered = consultation(demo, QUESTION)
    with pytest.raises(WorkflowError, match="答复后"):
        knowledge.article_from_answer(demo, unanswered, housing_staff, NOW, title="公租房")
    assert demo.scalar(select(Article.id)) is None


def test_another_agency_cannot_save_an_answer_it_did_not_give(demo, answered, agencies):
    other = person(demo, Role.AGENCY, agencies["西湖区人民政府"], "xihu-kb")
    with pytest.raises(PermissionDenied):
        knowledge.article_from_answer(demo, answered, other, NOW, title="公租房")
    with pytest.raises(WorkflowError, match="请填写文章标题"):
        knowledge.article_from_answer(demo, answered, person(demo, Role.DISPATCHER, name="d2"), NOW, title=" ")


def test_search_ranks_the_article_answering_a_near_duplicate_question_first(demo, article, in_triage, dispatcher):
    other = Article(
        agency_id=article.agency_id,
        title="物业费收费标准",
        text="物业服务收费实行政府指导价。",
        active=True,
        created_at=NOW,
        updated_at=NOW,
    )
    demo.add(other)
    knowledge.index_article(demo, other, fingerprint("小区物业费收费标准是多少？"))
    demo.commit()
    found = knowledge.search_articles(demo, ticket=in_triage)
    assert [a.id for a, _ in found] == [article.id]
    by_words = knowledge.search_articles(demo, words="物业费")
    assert [a.id for a, _ in by_words] == [other.id]
    both = knowledge.search_articles(demo, fingerprint=fingerprint("公租房 物业费"), words="公租房")
    assert both[0][0].id == article.id


def test_a_dispatcher_answers_a_consultation_in_triage_from_an_article(demo, article, in_triage, dispatcher):
    knowledge.answer_from_article(demo, in_triage, article, dispatcher, LATER, expected_version=in_triage.version)
    demo.commit()
    assert in_triage.status is Status.ANSWERED and in_triage.agency_id is None
    assert in_triage.answer.startswith(ANSWER) and "杭州市公共租赁住房管理办法" in in_triage.answer
    event = in_triage.events[-1]
    assert (event.action, event.from_status, event.to_status) == ("answer_from_article", "triage", "answered")
    assert event.detail["article"] == article.id
    told = demo.scalars(select(Job).where(Job.kind == "notify.resident")).all()
    assert {"ticket_id": in_triage.id, "action": "answer"} in [job.payload for job in told]


def test_agency_staff_cannot_answer_from_an_article(demo, article, in_triage, housing_staff):
    with pytest.raises(PermissionDenied):
        knowledge.answer_from_article(demo, in_triage, article, housing_staff, LATER, expected_version=None)
    assert in_triage.status is Status.TRIAGE


def test_answering_from_an_article_refuses_what_it_cannot_answer(demo, article, in_triage, dispatcher, housing_staff):
    complaint = consultation(demo, "公租房小区电梯坏了没人修。", triage=True, kind=Kind.COMPLAINT)
    with pytest.raises(WorkflowError, match="只有咨询类工单"):
        knowledge.answer_from_article(demo, complaint, article, dispatcher, LATER, expected_version=None)
    with pytest.raises(WorkflowError, match="其他人处理过"):
        knowledge.answer_from_article(
            demo, in_triage, article, dispatcher, LATER, expected_version=in_triage.version - 1
        )
    knowledge.answer_from_article(demo, in_triage, article, dispatcher, LATER, expected_version=None)
    again = consultation(demo, QUESTION)  # assigned by the rules: no longer the desk's to answer
    with pytest.raises(WorkflowError, match="不能按知识库答复"):
        knowledge.answer_from_article(demo, again, article, dispatcher, LATER, expected_version=None)
    with pytest.raises(WorkflowError, match="不能按知识库答复"):
        knowledge.answer_from_article(demo, in_triage, article, dispatcher, LATER, expected_version=None)


def test_an_expired_article_is_flagged_and_refused_until_renewed(demo, article, in_triage, dispatcher, housing_staff):
    january = datetime(2027, 1, 4, 9, 0)
    assert article.expired(january.date()) and not article.expired(NOW.date())
    assert knowledge.search_articles(demo, ticket=in_triage, in_use=True, today=january.date()) == []
    with pytest.raises(WorkflowError, match="已过期"):
        knowledge.answer_from_article(demo, in_triage, article, dispatcher, january, expected_version=None)
    assert in_triage.status is Status.TRIAGE
    knowledge.renew(demo, article, housing_staff, january, valid_until=date(2027, 12, 31))
    knowledge.answer_from_article(demo, in_triage, article, dispatcher, january, expected_version=None)
    assert in_triage.status is Status.ANSWERED


def test_a_retired_article_answers_nothing(demo, article, in_triage, dispatcher, housing_staff):
    knowledge.retire(demo, article, housing_staff, NOW)
    assert not article.active
    with pytest.raises(WorkflowError, match="已停用"):
        knowledge.retire(demo, article, housing_staff, NOW)
    with pytest.raises(WorkflowError, match="已停用"):
        knowledge.answer_from_article(demo, in_triage, article, dispatcher, LATER, expected_version=None)


def test_agencies_keep_only_their_own_articles(demo, article, agencies, dispatcher, housing_staff):
    other = person(demo, Role.AGENCY, agencies["西湖区人民政府"], "xihu-kb")
    for step in (
        lambda actor: knowledge.retire(demo, article, actor, NOW),
        lambda actor: knowledge.renew(demo, article, actor, NOW, valid_until=date(2027, 6, 30)),
        lambda actor: knowledge.edit_article(
            demo, article, actor, NOW, title="改", text="改", citation=None, valid_until=None
        ),
    ):
        with pytest.raises(PermissionDenied):
            step(other)
    assert article.title == "公租房申请条件" and article.active
    knowledge.edit_article(
        demo,
        article,
        dispatcher,
        NOW,
        title="公租房申请条件（2026版）",
        text=ANSWER,
        citation=None,
        valid_until=date(2026, 12, 31),
    )
    assert article.title.endswith("（2026版）") and article.citation is None and article.updated_by_id == dispatcher.id


def test_bad_dates_change_nothing(demo, article, housing_staff):
    with pytest.raises(WorkflowError, match="有效期"):
        knowledge.renew(demo, article, housing_staff, NOW, valid_until=date(2026, 1, 1))
    with pytest.raises(WorkflowError, match="新的有效期"):
        knowledge.renew(demo, article, housing_staff, NOW, valid_until=None)
    assert article.valid_until == date(2026, 12, 31)
