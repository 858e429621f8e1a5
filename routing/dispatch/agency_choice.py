"""Rules and the learned agency together (规则与学习结合): who answers a ticket."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.dispatch.reference import whole_table
from routing.store.configuration import RoutingRule
from routing.store.people import Agency
from routing.store.tickets import Ticket

DEFAULT_AGENCY_THRESHOLD = 0.8


@dataclass(frozen=True)
class LearnedAgency:
    """The agency model's suggestion for a ticket (学习的承办单位), and the
    confidence above which it is trusted over the rules."""

    name: str
    confidence: float
    threshold: float = DEFAULT_AGENCY_THRESHOLD


@dataclass(frozen=True)
class AgencyDecision:
    agency: Agency | None  # None: a dispatcher decides (triage)
    decided_by: str | None  # "rule", "model", or None
    reason: str | None
    detail: dict[str, Any]


def covers(agency: Agency, ticket: Ticket) -> bool:
    """Whether the agency's jurisdiction (辖区) includes the ticket's place:
    a municipal body everywhere, a district's body only in its district, a
    street office only in its street."""
    if agency.street_id is not None and agency.street_id != ticket.street_id:
        return False
    return agency.district_id is None or agency.district_id == ticket.district_id


def agency_named(session: Session, name: str) -> Agency | None:
    agencies = whole_table(session, "agencies", lambda: {a.name: a for a in session.scalars(select(Agency))})
    if agencies is not None:
        return agencies.get(name)
    return session.scalar(select(Agency).where(Agency.name == name))


def decide_agency(
    session: Session, ticket: Ticket, rule: RoutingRule | None, learned: LearnedAgency | None
) -> AgencyDecision:
    """The routing rule decides by default; the learned agency wins only when

    - its confidence is at least the threshold (``AGENCY_THRESHOLD``, 0.8 by default),
    - it names an agency that exists and is active, and
    - that agency's jurisdiction covers the ticket's place (a district's
      agency only for tickets in that district).

    Otherwise the rule wins — in particular when rule and model disagree below
    the threshold. With no rule and no trusted model the ticket waits for a
    dispatcher. The reason (for the timeline) says which decided and with what
    confidence.
    """
    rule_detail = {"rule": rule.id} if rule is not None else {}
    if learned is None:
        if rule is None:
            return AgencyDecision(None, None, "没有适用的派单规则", {})
        return AgencyDecision(rule.agency, "rule", None, rule_detail)
    suggestion = f"学习模型建议{learned.name}（置信度 {learned.confidence:.2f}）"
    detail = {
        **rule_detail,
        "learned_agency": learned.name,
        "agency_confidence": round(learned.confidence, 4),
        "agency_threshold": learned.threshold,
    }
    agency = agency_named(session, learned.name)
    if learned.confidence < learned.threshold:
        why = f"低于阈值 {learned.threshold:.2f}"
    elif agency is None or not agency.active:
        why = "该单位不存在或已停用"
    elif not covers(agency, ticket):
        why = "工单地点不在该单位辖区"
    else:
        agrees = "，与派单规则一致" if rule is not None and rule.agency_id == agency.id else ""
        by_model = f"按学习模型派单：{agency.name}（置信度 {learned.confidence:.2f} ≥ 阈值 {learned.threshold:.2f}）{agrees}"
        return AgencyDecision(agency, "model", by_model, detail | {"decided_by": "model"})
    if rule is None:
        return AgencyDecision(None, None, f"没有适用的派单规则；{suggestion}，{why}", detail)
    by_rule = f"按派单规则派单：{rule.agency.name}；{suggestion}，{why}"
    return AgencyDecision(rule.agency, "rule", by_rule, detail | {"decided_by": "rule"})
