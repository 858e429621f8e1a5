"""知识库 on the pages: an agency saves its answer to a consultation as an
article, keeps it current on /agency/knowledge, and the desk answers the same
question in triage from it with one button."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from classifier.similar import fingerprint
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.store.knowledge import Article
from routing.store.people import Agency
from routing.store.tickets import Kind, Status

from ..conftest import post_form
from ..helpers import agency_login, ticket

QUESTION = "请问公租房申请需要满足什么条件？需要准备哪些材料？"
ANSWER = "申请公租房须在本市有稳定工作，请携带身份证、户口簿到街道办理。"


def consultation(session, text: str, *, triage: bool = False):
    labels = Labels(
        topic="城乡建设",
        confidence=0.9,
        kind=Kind.CONSULTATION,
        matter=tuple(fingerprint(text)),
        needs_triage=triage,
        triage_reason="待人工分拣" if triage else None,
    )
    t = open_ticket(session, Inbound(channel="api", text=text), labels, datetime.now())
    session.commit()
    return t


@pytest.fixture
def saved(client, auth, demo):
    """The housing bureau answered a consultation and saved it as an article on its page."""
    t = consultation(demo, QUESTION)
    housing = demo.scalar(select(Agency).where(Agency.name == "市住建局"))
    assert t.agency_id == housing.id
    auth.login(agency_login(demo, housing))
    page = f"/agency/tickets/{t.number}"
    post_form(client, f"{page}/accept", {}, page=page)
    post_form(client, f"{page}/answer", {"answer": ANSWER}, page=page)
    html = client.get(page).get_data(as_text=True)
    assert 'id="save-article"' in html
    response = post_form(
        client,
        f"{page}/save_article",
        {"title": "公租房申请条件", "citation": "《杭州市公共租赁住房管理办法》", "valid_until": "2099-12-31"},
        page=page,
        follow_redirects=True,
    )
    assert "已存为知识库文章" in response.get_data(as_text=True)
    demo.expire_all()
    return demo.scalar(select(Article))


def test_the_agency_keeps_its_articles_and_sees_expired_ones_flagged(client, demo, saved):
    assert saved.text == ANSWER and saved.valid_until == date(2099, 12, 31)
    listing = client.get("/agency/knowledge").get_data(as_text=True)
    assert "公租房申请条件" in listing and "已过期" not in listing
    saved.valid_until = date(2020, 1, 1)
    demo.commit()
    assert "已过期" in client.get("/agency/knowledge").get_data(as_text=True)
    page = f"/agency/knowledge/{saved.id}"
    assert 'id="expired"' in client.get(page).get_data(as_text=True)
    response = post_form(
        client, f"/knowledge/{saved.id}/renew", {"valid_until": "2098-06-30"}, page=page, follow_redirects=True
    )
    assert "文章已续期" in response.get_data(as_text=True)
    demo.expire_all()
    assert demo.get(Article, saved.id).valid_until == date(2098, 6, 30)
    post_form(client, f"/knowledge/{saved.id}/retire", {}, page=page)
    demo.expire_all()
    assert not demo.get(Article, saved.id).active


def test_another_agency_does_not_see_the_article(client, auth, demo, saved):
    auth.logout()
    auth.login(agency_login(demo, demo.scalar(select(Agency).where(Agency.name == "西湖区人民政府"))))
    assert client.get(f"/agency/knowledge/{saved.id}").status_code == 404
    assert "公租房申请条件" not in client.get("/agency/knowledge").get_data(as_text=True)


def test_the_desk_answers_a_consultation_in_triage_from_the_article(client, auth, demo, saved):
    auth.logout()
    asked = consultation(demo, "公租房怎么申请，要什么条件和材料？", triage=True)
    auth.login("dispatcher")
    page = f"/desk/tickets/{asked.number}"
    html = client.get(page).get_data(as_text=True)
    assert 'id="knowledge"' in html and "公租房申请条件" in html and "按这篇文章答复" in html
    assert "公租房申请条件" in client.get("/desk/knowledge?q=公租房").get_data(as_text=True)
    stale = post_form(
        client,
        f"{page}/answer_from_article",
        {"article": saved.id, "version": asked.version - 1},
        page=page,
        follow_redirects=True,
    )
    assert "其他人处理过" in stale.get_data(as_text=True)
    assert ticket(demo, asked.number).status is Status.TRIAGE
    response = post_form(
        client,
        f"{page}/answer_from_article",
        {"article": saved.id, "version": asked.version},
        page=page,
        follow_redirects=True,
    )
    assert "已按知识库文章答复" in response.get_data(as_text=True)
    answered = ticket(demo, asked.number)
    assert answered.status is Status.ANSWERED and answered.agency_id is None
    assert answered.answer.startswith(ANSWER)
    assert answered.events[-1].action == "answer_from_article"
