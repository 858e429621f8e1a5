"""Learning the agency: which tickets teach it, and how its suggestion is weighed against the rules."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from routing.dispatch.agency_choice import LearnedAgency
from routing.dispatch.corrections import agency_examples
from routing.flow import workflow
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.store.areas import District, Street
from routing.store.people import Agency, Role, User
from routing.store.tickets import HistoricalTicket, Status

NOW = datetime(2026, 9, 30, 10, 0)


@pytest.fixture
def agencies(demo) -> dict[str, Agency]:
    return {a.name: a for a in demo.scalars(select(Agency))}


def staff(session, role: Role, agency: Agency | None = None) -> User:
    name = f"{role.value}-{agency.id if agency else 0}"
    found = session.scalar(select(User).where(User.username == name))
    if found is not None:
        return found
    u = User(username=name, display_name=name, role=role, agency_id=agency.id if agency else None, password_hash="x")
    session.add(u)
    session.flush()
    return u


def new_ticket(session, text: str, *, topic: str | None = "城乡建设", district: str | None = None,
               street: str | None = None, learned: LearnedAgency | None = None):
    t = open_ticket(
        session,
        Inbound(channel="api", text=text),
        Labels(topic=topic, confidence=0.9, district=district, street=street, learned_agency=learned),
        NOW,
    )
    session.commit()
    return t


def close_by(session, ticket, agency: Agency) -> None:
    hand = staff(session, Role.AGENCY, agency)
    workflow.accept(session, ticket, hand, NOW)
    workflow.answer(session, ticket, hand, NOW, "已处理。")
    workflow.close(session, ticket, None, NOW)
    session.commit()


# -- which tickets teach the agency model ----------------------------------------


def test_a_returned_and_transferred_ticket_teaches_its_final_agency(demo, agencies):
    dispatcher = staff(demo, Role.DISPATCHER)
    t = new_ticket(demo, "小区门口的排水沟一下雨就冒黑水，味道很大。")
    assert t.agency.name == "市住建局"
    workflow.return_ticket(demo, t, staff(demo, Role.AGENCY, agencies["市住建局"]), NOW, "不是住建的事")
    workflow.assign(demo, t, agencies["市城管局"], dispatcher, NOW)
    workflow.accept(demo, t, staff(demo, Role.AGENCY, agencies["市城管局"]), NOW)
    workflow.assign(demo, t, agencies["市生态环境局"], dispatcher, NOW, reason="转办：污水排放")
    close_by(demo, t, agencies["市生态环境局"])

    examples = agency_examples(demo)
    assert (t.text, "市生态环境局") in examples.pairs
    assert examples.closed == 1


def test_open_merged_and_invalid_tickets_teach_nothing(demo, agencies):
    dispatcher = staff(demo, Role.DISPATCHER)
    kept = new_ticket(demo, "电梯坏了一个月没人修。")
    merged = new_ticket(demo, "电梯坏了一个多月，物业不管。")
    invalid = new_ticket(demo, "广告广告广告。")
    open_one = new_ticket(demo, "楼道里的灯不亮了。")
    workflow.merge(demo, merged, kept, dispatcher, NOW)
    # A dispatcher's agency correction on a ticket then declared invalid does not count either.
    workflow.correct(demo, invalid, dispatcher, NOW, agency=agencies["市城管局"])
    workflow.invalidate(demo, invalid, dispatcher, NOW, "广告")
    demo.commit()
    close_by(demo, kept, agencies["市住建局"])

    texts = agency_examples(demo).texts
    assert kept.text in texts
    assert merged.text not in texts and invalid.text not in texts and open_one.text not in texts


def test_agency_corrections_and_history_teach_and_a_closed_ticket_wins_over_its_correction(demo, agencies):
    dispatcher = staff(demo, Role.DISPATCHER)
    corrected = new_ticket(demo, "菜市场门口的流动摊贩占道经营。")
    workflow.correct(demo, corrected, dispatcher, NOW, agency=agencies["市城管局"], reason="占道归城管")
    later_closed = new_ticket(demo, "路边的共享单车乱停乱放。")
    workflow.correct(demo, later_closed, dispatcher, NOW, agency=agencies["市城管局"])
    demo.commit()
    workflow.assign(demo, later_closed, agencies["市交通运输局"], dispatcher, NOW, reason="转办")
    close_by(demo, later_closed, agencies["市交通运输局"])
    demo.add(HistoricalTicket(digest="d" * 64, text="出租车拒载", agency=agencies["市交通运输局"],
                              source="h.csv", imported_at=NOW))
    retired = Agency(name="已撤销的局", active=False)
    demo.add(HistoricalTicket(digest="e" * 64, text="旧单位的事", agency=retired, source="h.csv", imported_at=NOW))
    demo.commit()

    examples = agency_examples(demo)
    pairs = set(examples.pairs)
    assert (corrected.text, "市城管局") in pairs
    assert (later_closed.text, "市交通运输局") in pairs and (later_closed.text, "市城管局") not in pairs
    assert ("出租车拒载", "市交通运输局") in pairs
    assert "旧单位的事" not in examples.texts  # an inactive agency is never routed to
    assert (examples.closed, examples.corrections, examples.history) == (1, 1, 1)


# -- rules and the learned agency together ---------------------------------------


def assignment(ticket):
    event = ticket.events[-1]
    return ticket.status, ticket.agency.name if ticket.agency else None, event.reason, event.detail or {}


def test_without_a_learned_agency_the_rule_decides_as_before(demo):
    status, agency, reason, detail = assignment(new_ticket(demo, "电梯坏了。"))
    assert (status, agency, reason) == (Status.ASSIGNED, "市住建局", None)
    assert "rule" in detail and "decided_by" not in detail


def test_a_confident_learned_agency_wins_over_the_rule(demo):
    t = new_ticket(demo, "小区里的违章搭建。", learned=LearnedAgency("市城管局", 0.93, 0.8))
    status, agency, reason, detail = assignment(t)
    assert (status, agency) == (Status.ASSIGNED, "市城管局")
    assert reason.startswith("按学习模型派单：市城管局（置信度 0.93 ≥ 阈值 0.80）")
    assert detail["decided_by"] == "model" and detail["agency_confidence"] == 0.93


def test_below_the_threshold_the_rule_wins_and_the_reason_says_so(demo):
    t = new_ticket(demo, "小区里的违章搭建。", learned=LearnedAgency("市城管局", 0.62, 0.8))
    status, agency, reason, detail = assignment(t)
    assert (status, agency) == (Status.ASSIGNED, "市住建局")
    assert reason == "按派单规则派单：市住建局；学习模型建议市城管局（置信度 0.62），低于阈值 0.80"
    assert detail["decided_by"] == "rule" and detail["learned_agency"] == "市城管局"


def test_an_inactive_learned_agency_never_wins(demo, agencies):
    agencies["市城管局"].active = False
    demo.commit()
    t = new_ticket(demo, "小区里的违章搭建。", learned=LearnedAgency("市城管局", 0.99))
    status, agency, reason, _ = assignment(t)
    assert (status, agency) == (Status.ASSIGNED, "市住建局")
    assert "不存在或已停用" in reason
    unknown = new_ticket(demo, "小区里的违章搭建。", learned=LearnedAgency("没有这个局", 0.99))
    assert unknown.agency.name == "市住建局"


def test_a_district_agency_is_learned_only_for_its_own_district(demo):
    outside = new_ticket(demo, "路灯坏了。", topic="交通运输", district="滨江区",
                         learned=LearnedAgency("西湖区人民政府", 0.95))
    status, agency, reason, _ = assignment(outside)
    assert (status, agency) == (Status.ASSIGNED, "市交通运输局")
    assert "不在该单位辖区" in reason
    nowhere = new_ticket(demo, "路灯坏了。", topic="交通运输", learned=LearnedAgency("西湖区人民政府", 0.95))
    assert nowhere.agency.name == "市交通运输局"

    inside = new_ticket(demo, "路灯坏了。", topic="交通运输", district="西湖区",
                        learned=LearnedAgency("西湖区人民政府", 0.95))
    assert inside.agency.name == "西湖区人民政府"
    street_office = "西湖区文新街道办事处"
    other_street = demo.scalar(
        select(Street.name).join(District).where(District.name == "西湖区", Street.name != "文新街道")
    )
    elsewhere = new_ticket(demo, "路灯坏了。", topic="交通运输", district="西湖区", street=other_street,
                           learned=LearnedAgency(street_office, 0.95))
    assert elsewhere.agency.name == "市交通运输局"
    own = new_ticket(demo, "路灯坏了。", topic="交通运输", district="西湖区", street="文新街道",
                     learned=LearnedAgency(street_office, 0.95))
    assert own.agency.name == street_office


def test_with_no_rule_a_confident_model_routes_and_an_unsure_one_leaves_it_to_a_dispatcher(demo):
    routed = new_ticket(demo, "想咨询一件事。", topic="其他", learned=LearnedAgency("市数据资源局", 0.9))
    assert assignment(routed)[:2] == (Status.ASSIGNED, "市数据资源局")
    unsure = new_ticket(demo, "想咨询一件事。", topic="其他", learned=LearnedAgency("市数据资源局", 0.5))
    status, agency, reason, _ = assignment(unsure)
    assert (status, agency) == (Status.TRIAGE, None)
    assert reason == "没有适用的派单规则；学习模型建议市数据资源局（置信度 0.50），低于阈值 0.80"
