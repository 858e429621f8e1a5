"""Routing rules: topic (both levels) × district × street × keywords → lead
and assisting agencies; priority first, then the more specific; nothing
matches → the dispatcher. Rule changes are audited and move no ticket."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from routing.dispatch.rules import Case, RuleError, RuleFields, choose_rule, draft_rule, save_rule, set_active
from routing.flow import steps, workflow
from routing.flow.inbound import Inbound, Labels
from routing.flow.tickets import open_ticket
from routing.store.areas import District, Street
from routing.store.audit import changes
from routing.store.configuration import RoutingRule
from routing.store.people import Agency, Role, User
from routing.store.tickets import Status, TicketEvent

NOW = datetime(2026, 11, 2, 10, 0)


class Place:
    def __init__(self, session):
        self.session = session
        self.xihu = District(name="西湖区")
        self.shangcheng = District(name="上城区")
        session.add_all([self.xihu, self.shangcheng])
        session.flush()
        self.wenxin = Street(district_id=self.xihu.id, name="文新街道")
        self.beishan = Street(district_id=self.xihu.id, name="北山街道")
        session.add_all([self.wenxin, self.beishan])
        self.agencies = {}
        for name in ("市住建局", "市城管局", "西湖区人民政府", "文新街道办事处", "市水务集团", "市市场监管局", "市消防救援支队"):
            self.agencies[name] = Agency(name=name)
            session.add(self.agencies[name])
        session.flush()

    def __getitem__(self, name: str) -> Agency:
        return self.agencies[name]

    def rule(self, agency: str, **conditions) -> RoutingRule:
        assisting = [self[a] for a in conditions.pop("assisting", ())]
        rule = RoutingRule(agency=self[agency], assisting=assisting, **conditions)
        self.session.add(rule)
        self.session.flush()
        return rule

    def winner(self, topic="城乡建设", subtopic=None, district=None, street=None, text=""):
        rule = choose_rule(
            self.session,
            Case(topic, subtopic, district.id if district else None, street.id if street else None, text),
        )
        return rule.agency.name if rule is not None else None


@pytest.fixture
def place(session):
    return Place(session)


def staff(session, role: Role, agency: Agency | None = None, name: str = "someone") -> User:
    user = User(username=name, display_name=name, role=role, agency_id=agency.id if agency else None, password_hash="x")
    session.add(user)
    session.flush()
    return user


def test_a_first_level_rule_routes_every_subtopic_and_a_second_level_one_only_its_own(place):
    place.rule("市住建局", topic="城乡建设")
    place.rule("市城管局", topic="城乡建设", subtopic="市容环卫")
    assert place.winner(subtopic="物业管理") == "市住建局"
    assert place.winner(subtopic="市容环卫") == "市城管局"
    assert place.winner(topic="交通运输") is None


def test_jurisdiction_narrows_from_city_to_district_to_street(place):
    place.rule("市住建局", topic="城乡建设")
    place.rule("西湖区人民政府", topic="城乡建设", district_id=place.xihu.id)
    place.rule("文新街道办事处", topic="城乡建设", district_id=place.xihu.id, street_id=place.wenxin.id)
    assert place.winner(district=place.shangcheng) == "市住建局"
    assert place.winner(district=place.xihu) == "西湖区人民政府"
    assert place.winner(district=place.xihu, street=place.beishan) == "西湖区人民政府"
    assert place.winner(district=place.xihu, street=place.wenxin) == "文新街道办事处"
    assert place.winner() == "市住建局"


def test_a_rule_with_keywords_applies_when_any_of_them_is_in_the_text_and_wins_as_more_specific(place):
    place.rule("市住建局", topic="城乡建设")
    place.rule("市水务集团", topic="城乡建设", keywords="停水、水压 供水")
    assert place.winner(text="小区电梯坏了") == "市住建局"
    assert place.winner(text="六楼以上水压太低") == "市水务集团"
    assert place.winner(text="突然停水也不通知") == "市水务集团"
    # Keywords alone, without a topic: for a matter any topic may carry.
    place.rule("市市场监管局", keywords="预付卡")
    assert place.winner(topic="商贸旅游", text="健身房关门，预付卡退不了") == "市市场监管局"


def test_priority_wins_over_specificity_and_the_older_rule_breaks_a_tie(place):
    place.rule("西湖区人民政府", topic="城乡建设", district_id=place.xihu.id)
    city = place.rule("市住建局", topic="城乡建设", priority=5)
    assert place.winner(district=place.xihu) == "市住建局"
    city.priority = 0
    assert place.winner(district=place.xihu) == "西湖区人民政府"
    # Same priority, same specificity: the older rule, every time.
    place.rule("市城管局", topic="城乡建设", district_id=place.xihu.id)
    assert place.winner(district=place.xihu) == "西湖区人民政府"


def test_inactive_rules_and_rules_of_inactive_agencies_do_not_route(place):
    place.rule("市住建局", topic="城乡建设")
    district = place.rule("西湖区人民政府", topic="城乡建设", district_id=place.xihu.id)
    district.active = False
    assert place.winner(district=place.xihu) == "市住建局"
    place["市住建局"].active = False
    assert place.winner(district=place.xihu) is None


def test_without_a_matching_rule_or_a_topic_the_ticket_goes_to_triage(place, session):
    place.rule("市城管局", topic="城乡建设", keywords="占道")
    assert place.winner(topic=None, text="占道经营") is None
    ticket = open_ticket(
        session, Inbound(channel="api", text="小区电梯坏了三个星期没人修。"),
        Labels(topic="城乡建设", confidence=0.9), NOW,
    )
    assert ticket.status is Status.TRIAGE and ticket.events[-1].reason == "没有适用的派单规则"


def test_routing_passes_the_text_and_the_street_of_the_ticket(place, session):
    place.rule("市住建局", topic="城乡建设")
    place.rule("文新街道办事处", topic="城乡建设", district_id=place.xihu.id, street_id=place.wenxin.id)
    place.rule("市水务集团", topic="城乡建设", keywords="停水", priority=1)
    by_street = open_ticket(
        session, Inbound(channel="api", text="文新街道某小区电梯坏了。"),
        Labels(topic="城乡建设", confidence=0.9, district="西湖区", street="文新街道"), NOW,
    )
    by_keyword = open_ticket(
        session, Inbound(channel="api", text="文新街道某小区又停水了。"),
        Labels(topic="城乡建设", confidence=0.9, district="西湖区", street="文新街道"), NOW,
    )
    assert by_street.agency.name == "文新街道办事处"
    assert by_keyword.agency.name == "市水务集团"
    assign = [e for e in by_keyword.events if e.action == "assign"][0]
    assert assign.detail["keywords"] == ["停水"] and assign.detail["rule"] is not None


def test_a_dispatchers_topic_correction_reroutes_by_the_rules_with_the_text(place, session):
    place.rule("市城管局", topic="城乡建设", keywords="占道", assisting=["市市场监管局"])
    ticket = open_ticket(
        session, Inbound(channel="api", text="路口天天有人占道经营卖水果。"), Labels(topic="商贸旅游", confidence=0.9), NOW
    )
    assert ticket.status is Status.TRIAGE
    dispatcher = staff(session, Role.DISPATCHER)
    workflow.correct(session, ticket, dispatcher, NOW, topic="城乡建设")
    assert ticket.agency.name == "市城管局"
    assert [a.name for a in ticket.assisting] == ["市市场监管局"]


def test_a_rule_with_assisting_agencies_gives_them_to_the_ticket_and_says_so(place, session):
    place.rule("市住建局", topic="城乡建设", assisting=["市城管局", "西湖区人民政府"])
    ticket = open_ticket(
        session, Inbound(channel="api", text="小区电梯坏了。"), Labels(topic="城乡建设", confidence=0.9), NOW
    )
    session.commit()
    assert ticket.agency.name == "市住建局"
    assert [a.name for a in ticket.assisting] == ["市城管局", "西湖区人民政府"]
    event = ticket.events[-1]
    assert event.action == "assist" and event.reason == "协办单位：市城管局、西湖区人民政府"


def test_assisting_staff_see_the_ticket_and_add_opinions_but_cannot_act_as_lead(place, session):
    place.rule("市住建局", topic="城乡建设", assisting=["市城管局"])
    ticket = open_ticket(
        session, Inbound(channel="api", text="小区电梯坏了。"), Labels(topic="城乡建设", confidence=0.9), NOW
    )
    lead = staff(session, Role.AGENCY, place["市住建局"], "lead")
    helper = staff(session, Role.AGENCY, place["市城管局"], "helper")
    stranger = staff(session, Role.AGENCY, place["市水务集团"], "stranger")
    assert steps.can_see(lead, ticket) and steps.can_see(helper, ticket)
    assert not steps.can_see(stranger, ticket)
    with pytest.raises(steps.PermissionDenied):
        workflow.accept(session, ticket, helper, NOW)
    with pytest.raises(steps.PermissionDenied):
        workflow.return_ticket(session, ticket, helper, NOW, "不是我们的")
    workflow.add_opinion(session, ticket, helper, NOW, "占道部分由城管负责清理。")
    with pytest.raises(steps.PermissionDenied):
        workflow.add_opinion(session, ticket, lead, NOW, "主办单位不写协办意见")
    with pytest.raises(steps.PermissionDenied):
        workflow.add_opinion(session, ticket, stranger, NOW, "路过")
    with pytest.raises(steps.WorkflowError):
        workflow.add_opinion(session, ticket, helper, NOW, "  ")
    workflow.accept(session, ticket, lead, NOW)
    session.commit()
    opinion = [e for e in ticket.events if e.action == "assist_opinion"]
    assert [(e.reason, e.actor) for e in opinion] == [("占道部分由城管负责清理。", "helper（承办单位）")]
    assert ticket.status is Status.ACCEPTED


def fields(place, agency="市住建局", **kwargs) -> RuleFields:
    assisting = [place[a] for a in kwargs.pop("assisting", ())]
    return RuleFields(agency=place[agency], assisting=assisting, **kwargs)


def test_saving_a_rule_audits_it_keeps_assigned_tickets_and_counts_the_open_ones_it_would_move(place, session):
    dispatcher = staff(session, Role.DISPATCHER, name="值班员")
    outcome = save_rule(session, None, fields(place, topic="城乡建设"), dispatcher, NOW)
    rule = outcome.rule
    assert outcome.rerouted == [] and rule.updated_by == "值班员（分拨员）"
    tickets = [
        open_ticket(session, Inbound(channel="api", text=f"电梯坏了 {i}"), Labels(topic="城乡建设", confidence=0.9), NOW)
        for i in range(2)
    ]
    session.commit()
    later = datetime(2026, 11, 3, 9, 0)
    outcome = save_rule(session, rule, fields(place, "市城管局", topic="城乡建设", note="职能调整"), dispatcher, later)
    session.commit()
    assert sorted(t.id for t in outcome.rerouted) == sorted(t.id for t in tickets)
    for ticket in tickets:
        session.refresh(ticket)
        assert ticket.agency.name == "市住建局"  # not moved silently
    new = open_ticket(session, Inbound(channel="api", text="电梯又坏了"), Labels(topic="城乡建设", confidence=0.9), later)
    assert new.agency.name == "市城管局"
    trail = changes(session, "rule", rule.id)
    assert [c.action for c in trail] == ["edit", "create"]
    assert trail[0].before["agency"] == "市住建局" and trail[0].after["agency"] == "市城管局"
    assert trail[0].after["note"] == "职能调整" and trail[0].actor == "值班员（分拨员）"


def test_a_rule_is_deactivated_never_deleted(place, session):
    dispatcher = staff(session, Role.DISPATCHER)
    rule = save_rule(session, None, fields(place, topic="城乡建设"), dispatcher, NOW).rule
    set_active(session, rule, False, dispatcher, NOW)
    session.commit()
    assert session.get(RoutingRule, rule.id).active is False
    assert place.winner() is None
    with pytest.raises(RuleError):
        set_active(session, rule, False, dispatcher, NOW)
    assert [c.action for c in changes(session, "rule", rule.id)] == ["deactivate", "create"]


def test_rule_fields_are_checked(place, session):
    dispatcher = staff(session, Role.DISPATCHER)
    with pytest.raises(RuleError, match="协办"):
        save_rule(session, None, fields(place, topic="城乡建设", assisting=["市住建局"]), dispatcher, NOW)
    with pytest.raises(RuleError, match="街道"):
        save_rule(session, None, fields(place, district=place.shangcheng, street=place.wenxin), dispatcher, NOW)
    with pytest.raises(RuleError, match="一级分类"):
        save_rule(session, None, fields(place, subtopic="物业管理"), dispatcher, NOW)
    rule = save_rule(session, None, fields(place, street=place.wenxin, keywords="电梯，加装电梯 电梯"), dispatcher, NOW).rule
    assert rule.district_id == place.xihu.id and rule.keywords == "电梯、加装电梯"


def test_a_draft_rule_is_tried_in_place_of_the_stored_one_without_writing(place, session):
    stored = place.rule("市住建局", topic="城乡建设")
    session.commit()
    before = session.scalar(select(func.count()).select_from(RoutingRule))
    draft = draft_rule(session, stored.id, fields(place, "市城管局", topic="城乡建设", keywords="占道"))
    case = Case("城乡建设", text="占道经营")
    assert choose_rule(session, case, draft=draft).agency.name == "市城管局"
    # The draft replaces the stored rule: without the keyword nothing applies.
    assert choose_rule(session, Case("城乡建设", text="电梯坏了"), draft=draft) is None
    session.commit()
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(RoutingRule)) == before
    assert session.get(RoutingRule, stored.id).agency.name == "市住建局"
    assert session.scalar(select(func.count()).select_from(TicketEvent)) == 0
