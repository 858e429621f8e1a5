"""Corrections that contradict each other are withheld from training until a
dispatcher settles them; closed tickets teach their final topic."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from routing.dispatch.contradictions import CorrectionError, disagreements, settle, text_key
from routing.dispatch.corrections import agency_examples, closed_topic_examples, new_examples_since, topic_examples
from routing.flow import workflow
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.store.people import Agency, Role, User
from routing.store.tickets import Correction, TicketEvent

NOW = datetime(2026, 9, 30, 10, 0)
PARKING = "小区物业乱收停车费，一个月要三百元！"


def person(session, role: Role, agency: Agency | None = None) -> User:
    name = f"{role.value}-{agency.id if agency else 0}"
    found = session.scalar(select(User).where(User.username == name))
    if found is None:
        found = User(username=name, display_name=name, role=role, agency_id=agency.id if agency else None,
                     password_hash="x")
        session.add(found)
        session.flush()
    return found


def new_ticket(session, text: str, topic: str = "城乡建设", subtopic: str | None = None):
    t = open_ticket(session, Inbound(channel="api", text=text), Labels(topic=topic, subtopic=subtopic, confidence=0.9), NOW)
    session.commit()
    return t


def corrected(session, text: str, label: str, at: datetime = NOW):
    t = new_ticket(session, text)
    topic, subtopic = label.split("/")
    workflow.correct(session, t, person(session, Role.DISPATCHER), at, topic=topic, subtopic=subtopic)
    session.commit()
    return t


def test_texts_are_the_same_whatever_their_spaces_punctuation_and_width():
    assert text_key("小区物业乱收停车费，一个月要三百元！") == text_key(" 小区物业 乱收停车费,一个月要三百元! ")
    assert text_key("ＡＢＣ１２３") == text_key("abc123")
    assert text_key("小区物业乱收停车费") != text_key("小区物业乱收管理费")


def test_a_contradicted_pair_is_withheld_until_settled_then_learnt(demo):
    first = corrected(demo, PARKING, "城乡建设/物业管理")
    second = corrected(demo, " 小区物业乱收停车费, 一个月要三百元! ", "交通运输/停车管理")
    agreed = corrected(demo, "电梯坏了一个月没人修", "城乡建设/物业管理")

    assert [text for text, _ in topic_examples(demo)] == [agreed.text]
    [found] = disagreements(demo)
    assert found.field == "topic" and set(found.by_label) == {"城乡建设/物业管理", "交通运输/停车管理"}

    dispatcher = person(demo, Role.DISPATCHER)
    settle(demo, found.handle, "城乡建设/物业管理", dispatcher, NOW + timedelta(hours=1))
    demo.commit()

    assert disagreements(demo) == []
    assert (PARKING, "城乡建设/物业管理") in topic_examples(demo)
    assert ("交通运输/停车管理" not in {label for _, label in topic_examples(demo)})
    lost = demo.scalar(select(Correction).where(Correction.ticket_id == second.id))
    assert lost.superseded_at == NOW + timedelta(hours=1) and lost.superseded_by_id == dispatcher.id
    event = demo.scalar(select(TicketEvent).where(TicketEvent.ticket_id == second.id, TicketEvent.action == "settle_correction"))
    assert event.actor_id == dispatcher.id and event.detail["label"] == "城乡建设/物业管理"
    assert demo.scalar(select(TicketEvent).where(TicketEvent.ticket_id == first.id,
                                                 TicketEvent.action == "settle_correction")) is None


def test_a_ruling_must_name_one_of_the_labels_and_a_settled_text_cannot_be_settled_again(demo):
    corrected(demo, PARKING, "城乡建设/物业管理")
    corrected(demo, PARKING, "交通运输/停车管理")
    [found] = disagreements(demo)
    dispatcher = person(demo, Role.DISPATCHER)
    with pytest.raises(CorrectionError):
        settle(demo, found.handle, "环境保护/噪声污染", dispatcher, NOW)
    assert all(c.superseded_at is None for c in demo.scalars(select(Correction)))
    settle(demo, found.handle, "交通运输/停车管理", dispatcher, NOW)
    demo.commit()
    with pytest.raises(CorrectionError):
        settle(demo, found.handle, "交通运输/停车管理", dispatcher, NOW)


def test_agency_corrections_that_disagree_are_withheld_from_the_agency_model(demo):
    agencies = {a.name: a for a in demo.scalars(select(Agency))}
    dispatcher = person(demo, Role.DISPATCHER)
    for name in ("市生态环境局", "市交通运输局"):
        t = new_ticket(demo, "路边垃圾堆了一个星期没人清理")
        workflow.correct(demo, t, dispatcher, NOW, agency=agencies[name])
        demo.commit()
    assert "路边垃圾堆了一个星期没人清理" not in agency_examples(demo).texts
    [found] = disagreements(demo, "agency")
    settle(demo, found.handle, "市交通运输局", dispatcher, NOW)
    demo.commit()
    assert ("路边垃圾堆了一个星期没人清理", "市交通运输局") in agency_examples(demo).pairs


def test_a_closed_ticket_teaches_its_final_topic_unless_a_dispatcher_had_to_look_at_it(demo):
    agencies = {a.name: a for a in demo.scalars(select(Agency))}
    hand = person(demo, Role.AGENCY, agencies["市住建局"])

    def closed(text: str, corrected_to: str | None = None):
        t = new_ticket(demo, text, subtopic="物业管理")
        if corrected_to:
            topic, subtopic = corrected_to.split("/")
            workflow.correct(demo, t, person(demo, Role.DISPATCHER), NOW, topic=topic, subtopic=subtopic)
        workflow.assign(demo, t, agencies["市住建局"], person(demo, Role.DISPATCHER), NOW)
        workflow.accept(demo, t, hand, NOW)
        workflow.answer(demo, t, hand, NOW, "已处理。")
        workflow.close(demo, t, None, NOW + timedelta(days=1))
        demo.commit()
        return t

    read = closed("小区电梯经常困人")
    closed("楼道堆满杂物，物业不清理", corrected_to="环境保护/噪声污染")  # learnt as a correction instead

    assert closed_topic_examples(demo) == [(read.text, "城乡建设/物业管理")]
    assert new_examples_since(demo, NOW) >= 2  # both closed a day later; the correction too
    assert new_examples_since(demo, NOW + timedelta(days=2)) == 0
