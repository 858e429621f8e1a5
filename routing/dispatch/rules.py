"""Routing rules (派单规则): which agency answers a ticket of this topic, here.

Like FixMyStreet's bodies and categories: a rule names a topic (both levels, or
any), a jurisdiction (a district or one of its streets, or anywhere), keywords
(or none) and the lead agency (主办), with assisting agencies (协办). Of the
rules that match, the higher priority wins, then the more specific. Nothing
matches: the dispatcher decides (triage).

Editing rules goes through ``save_rule`` and ``set_active``: each change is
audited, tickets already assigned keep their agency, and the caller learns
which open tickets the rules would now route elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from routing.dispatch.reference import whole_table
from routing.store.areas import District, Street
from routing.store.audit import audit
from routing.store.configuration import RoutingRule, split_keywords
from routing.store.people import Agency, User
from routing.store.tickets import Status, Ticket
from routing.texts import N_, DomainError

# Open tickets: someone still has to act on them (workflow.OPEN is this).
OPEN = (Status.RECEIVED, Status.TRIAGE, Status.ASSIGNED, Status.DISPUTED, Status.ACCEPTED, Status.WAITING)


@dataclass(frozen=True)
class Case:
    """What a rule is matched against: a ticket's labels and its text."""

    topic: str | None
    subtopic: str | None = None
    district_id: int | None = None
    street_id: int | None = None
    text: str = ""

    @classmethod
    def of(cls, ticket: Ticket) -> Case:
        return cls(ticket.topic, ticket.subtopic, ticket.district_id, ticket.street_id, ticket.text or "")


def specificity(rule: RoutingRule) -> int:
    # A jurisdiction narrows more than keywords, keywords more than a topic
    # level: the street office answers before the district, the district's own
    # bureau before the city's.
    return (
        16 * (rule.street_id is not None)
        + 8 * (rule.district_id is not None)
        + 4 * bool(rule.keyword_list)
        + 2 * (rule.subtopic is not None)
        + (rule.topic is not None)
    )


def applies(rule: RoutingRule, case: Case) -> bool:
    """Whether every condition the rule sets holds for the case."""
    if not rule.active or not rule.agency.active:
        return False
    if rule.topic is not None and rule.topic != case.topic:
        return False
    if rule.subtopic is not None and rule.subtopic != case.subtopic:
        return False
    if rule.district_id is not None and rule.district_id != case.district_id:
        return False
    if rule.street_id is not None and rule.street_id != case.street_id:
        return False
    words = rule.keyword_list
    return not words or any(word in case.text for word in words)


def matched_keywords(rule: RoutingRule, text: str) -> list[str]:
    return [word for word in rule.keyword_list if word in text]


def rank(rules: Iterable[RoutingRule], case: Case) -> list[RoutingRule]:
    """The rules that apply, best first: priority, then specificity, then the
    older rule (a stable answer when two rules tie)."""
    fitting = [rule for rule in rules if applies(rule, case)]
    return sorted(fitting, key=lambda r: (-r.priority, -specificity(r), r.id or 0))


def candidates(session: Session, case: Case, *, exclude: int | None = None) -> list[RoutingRule]:
    """Active rules that may apply by topic and district; keywords and the
    rest are checked in ``applies``. A city has tens of rules, not
    thousands: all active ones are read (once per batch in a ``read_once``
    block) and filtered here, so the test is written once."""
    active = whole_table(session, "rules", lambda: _active_rules(session))
    return [
        rule for rule in (active if active is not None else _active_rules(session))
        if (rule.topic is None or rule.topic == case.topic)
        and (rule.district_id is None or rule.district_id == case.district_id)
        and (exclude is None or rule.id != exclude)
    ]


def _active_rules(session: Session) -> list[RoutingRule]:
    # With their agencies in the same query: a batch assigns by many of them.
    query = select(RoutingRule).where(RoutingRule.active.is_(True)).options(
        joinedload(RoutingRule.agency), joinedload(RoutingRule.assisting)
    )
    return list(session.scalars(query).unique())


def matching_rules(session: Session, case: Case, *, draft: RoutingRule | None = None) -> list[RoutingRule]:
    """Active rules that apply, best first. ``draft`` is an unsaved rule (a new
    one, or an edit of the rule with its id) taken instead of what is stored."""
    rules = candidates(session, case, exclude=draft.id if draft is not None else None)
    if draft is not None:
        rules.append(draft)
    return rank(rules, case)


def choose_rule(session: Session, case: Case, *, draft: RoutingRule | None = None) -> RoutingRule | None:
    """The rule that decides, or None: then the dispatcher decides (triage)."""
    if case.topic is None:
        return None
    rules = matching_rules(session, case, draft=draft)
    return rules[0] if rules else None


# -- editing -------------------------------------------------------------------


class RuleError(DomainError):
    """A rule that cannot be saved; the message says why, in Chinese."""


@dataclass(frozen=True)
class RuleFields:
    """A rule as the dispatcher's form gives it."""

    agency: Agency
    topic: str | None = None
    subtopic: str | None = None
    district: District | None = None
    street: Street | None = None
    keywords: str = ""
    assisting: Sequence[Agency] = ()
    priority: int = 0
    note: str = ""
    active: bool = True


@dataclass
class RuleOutcome:
    rule: RoutingRule
    # Open tickets the rules now route to another agency than before the change;
    # they keep their agency until a dispatcher moves them.
    rerouted: list[Ticket] = field(default_factory=list)


def apply_fields(rule: RoutingRule, fields: RuleFields) -> RoutingRule:
    """Set a rule's conditions and agencies; checks them first."""
    if fields.subtopic and not fields.topic:
        raise RuleError(N_("填写二级分类时须同时选择一级分类。"))
    district = fields.district
    if fields.street is not None:
        if district is not None and district.id != fields.street.district_id:
            raise RuleError(N_("所选街道不属于所选区县。"))
        # A street lies in its district: the rule then also carries the district.
        district = fields.street.district
    if any(a.id == fields.agency.id for a in fields.assisting):
        raise RuleError(N_("主办单位不能同时是协办单位。"))
    rule.topic, rule.subtopic = fields.topic or None, fields.subtopic or None
    rule.street, rule.street_id = fields.street, fields.street.id if fields.street is not None else None
    rule.district, rule.district_id = district, district.id if district is not None else None
    rule.keywords = "、".join(split_keywords(fields.keywords))[:500]
    rule.agency, rule.agency_id = fields.agency, fields.agency.id
    rule.assisting = list({a.id: a for a in fields.assisting}.values())
    rule.priority, rule.note, rule.active = fields.priority, (fields.note or "").strip()[:500], fields.active
    return rule


def draft_rule(session: Session, rule_id: int | None, fields: RuleFields) -> RoutingRule:
    """An unsaved rule for trying out: never added to the session, so nothing is written."""
    draft = RoutingRule(id=rule_id)
    apply_fields(draft, fields)
    return draft


def snapshot(rule: RoutingRule) -> dict[str, Any]:
    """A rule as the audit trail keeps it: names, so it still reads right later."""
    return {
        "topic": rule.topic,
        "subtopic": rule.subtopic,
        "district": rule.district.name if rule.district is not None else None,
        "street": rule.street.name if rule.street is not None else None,
        "keywords": rule.keywords or "",
        "agency": rule.agency.name if rule.agency is not None else None,
        "assisting": [a.name for a in rule.assisting],
        "priority": rule.priority,
        "active": rule.active,
        "note": rule.note or "",
    }


def open_tickets(session: Session) -> list[Ticket]:
    return list(session.scalars(select(Ticket).where(Ticket.status.in_(OPEN)).order_by(Ticket.id)))


def decisions(session: Session, tickets: Sequence[Ticket]) -> dict[int, int | None]:
    """Which agency the active rules pick for each ticket (None: triage).
    The rules are loaded once: a city has thousands of open tickets."""
    rules = list(
        session.scalars(
            select(RoutingRule).where(RoutingRule.active.is_(True)).options(selectinload(RoutingRule.agency))
        )
    )
    chosen: dict[int, int | None] = {}
    for ticket in tickets:
        best = rank(rules, Case.of(ticket)) if ticket.topic is not None else []
        chosen[ticket.id] = best[0].agency_id if best else None
    return chosen


def _changed(session: Session, rule: RoutingRule, actor: User, now: datetime, action: str, change) -> RuleOutcome:
    """Run ``change`` on the rule; audit it and say which open tickets it would move."""
    tickets = open_tickets(session)
    before_decisions = decisions(session, tickets)
    before = snapshot(rule) if rule.id is not None else None
    change()
    rule.updated_at, rule.updated_by_id, rule.updated_by = now, actor.id, actor.label
    session.add(rule)
    session.flush()
    after_decisions = decisions(session, tickets)
    audit(session, "rule", rule.id, action, actor, now, before=before, after=snapshot(rule))
    return RuleOutcome(rule, [t for t in tickets if before_decisions[t.id] != after_decisions[t.id]])


def save_rule(
    session: Session, rule: RoutingRule | None, fields: RuleFields, actor: User, now: datetime
) -> RuleOutcome:
    """Create or edit a rule. Tickets already assigned keep their agency:
    a rule decides new routings only. The caller commits."""
    if rule is None:
        rule = RoutingRule()
        action = "create"
    else:
        action = "edit" if fields.active == rule.active else ("activate" if fields.active else "deactivate")
    return _changed(session, rule, actor, now, action, lambda: apply_fields(rule, fields))


def set_active(session: Session, rule: RoutingRule, active: bool, actor: User, now: datetime) -> RuleOutcome:
    """停用 / 启用: a rule is never deleted, since timelines refer to it."""
    if rule.active == active:
        raise RuleError(N_("这条规则已经是启用状态。") if active else N_("这条规则已经是停用状态。"))

    def change() -> None:
        rule.active = active

    return _changed(session, rule, actor, now, "activate" if active else "deactivate", change)


def list_rules(
    session: Session, *, topic: str | None = None, agency_id: int | None = None, include_inactive: bool = True
) -> list[RoutingRule]:
    """Rules for the admin's list, by topic and agency (lead or assisting)."""
    query = select(RoutingRule).options(
        selectinload(RoutingRule.agency), selectinload(RoutingRule.assisting),
        selectinload(RoutingRule.district), selectinload(RoutingRule.street),
    )
    if topic:
        query = query.where(RoutingRule.topic == topic)
    if agency_id is not None:
        query = query.where(
            or_(RoutingRule.agency_id == agency_id, RoutingRule.assisting.any(Agency.id == agency_id))
        )
    if not include_inactive:
        query = query.where(RoutingRule.active.is_(True))
    rules = list(session.scalars(query))
    return sorted(rules, key=lambda r: (not r.active, r.topic or "", r.subtopic or "", -r.priority, r.id))
