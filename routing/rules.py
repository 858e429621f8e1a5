"""Routing rules (派单规则): which agency answers a ticket of this topic, here.

Like FixMyStreet's bodies and categories: a rule names a topic (or any), a
jurisdiction (or anywhere) and the lead agency (主办). Of the rules that
match, the higher priority wins, then the more specific.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .models import RoutingRule


def specificity(rule: RoutingRule) -> int:
    # A jurisdiction narrows more than a topic level: the district's own bureau
    # answers before the city's when both would.
    return 4 * (rule.district_id is not None) + 2 * (rule.subtopic is not None) + (rule.topic is not None)


def matching_rules(
    session: Session, *, topic: str | None, subtopic: str | None, district_id: int | None
) -> list[RoutingRule]:
    """Active rules that apply, best first."""
    query = select(RoutingRule).where(
        RoutingRule.active.is_(True),
        or_(RoutingRule.topic.is_(None), RoutingRule.topic == topic),
        or_(RoutingRule.subtopic.is_(None), RoutingRule.subtopic == subtopic),
        or_(RoutingRule.district_id.is_(None), RoutingRule.district_id == district_id),
    )
    rules = [r for r in session.scalars(query) if r.agency.active]
    return sorted(rules, key=lambda r: (r.priority, specificity(r), -r.id), reverse=True)


def choose_rule(
    session: Session, *, topic: str | None, subtopic: str | None, district_id: int | None
) -> RoutingRule | None:
    """The rule that decides, or None: then the dispatcher decides (triage)."""
    if topic is None:
        return None
    rules = matching_rules(session, topic=topic, subtopic=subtopic, district_id=district_id)
    return rules[0] if rules else None
