"""What the city and the agencies set up for answers (答复设置): the review
rules (审核规则), changed by the dispatcher centre and kept in the change log
like other configuration, and each agency's answer templates (答复模板)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.flow.answers import CITATION_LENGTH
from routing.flow.steps import WorkflowError, required_text
from routing.store.answering import AnswerTemplate, ReviewRule
from routing.store.audit import audit
from routing.store.people import Agency, User
from routing.store.tickets import Kind
from routing.texts import N_

TITLE_LENGTH = 100
TEXT_LENGTH = 5000


def _rule_state(rule: ReviewRule) -> dict:
    return {
        "kind": rule.kind.value if rule.kind else None,
        "agency": rule.agency.name if rule.agency else None,
        "review": rule.review,
        "require_signer": rule.require_signer,
        "active": rule.active,
    }


def _rule_summary(rule: ReviewRule) -> str:
    kind = rule.kind.label if rule.kind else "所有类型"
    agency = rule.agency.name if rule.agency else "所有单位"
    return f"{kind} · {agency}"


def review_rules(session: Session) -> list[ReviewRule]:
    return list(session.scalars(select(ReviewRule).order_by(ReviewRule.active.desc(), ReviewRule.id)))


def add_review_rule(
    session: Session, actor: User, now: datetime, *, kind: Kind | None, agency: Agency | None,
    review: bool, require_signer: bool,
) -> ReviewRule:
    """新增审核规则: answers of ``kind`` from ``agency`` (either empty: any) are
    reviewed and/or must name their signer."""
    if not review and not require_signer:
        raise WorkflowError(N_("审核规则须要求审核或要求签发人，至少一项。"))
    rule = ReviewRule(kind=kind, agency=agency, agency_id=agency.id if agency else None, review=review,
                      require_signer=require_signer, active=True)
    session.add(rule)
    session.flush()
    audit(session, "review_rule", rule.id, "add", actor, now, after=_rule_state(rule), summary=_rule_summary(rule))
    return rule


def deactivate_review_rule(session: Session, rule: ReviewRule, actor: User, now: datetime) -> None:
    """停用审核规则: kept, so the timelines that name it still read."""
    if not rule.active:
        raise WorkflowError(N_("这条审核规则已停用。"))
    before = _rule_state(rule)
    rule.active = False
    session.flush()
    audit(session, "review_rule", rule.id, "deactivate", actor, now, before=before, after=_rule_state(rule),
          summary=_rule_summary(rule))


def templates_of(session: Session, agency_id: int, *, active_only: bool = True) -> list[AnswerTemplate]:
    query = select(AnswerTemplate).where(AnswerTemplate.agency_id == agency_id)
    if active_only:
        query = query.where(AnswerTemplate.active.is_(True))
    return list(session.scalars(query.order_by(AnswerTemplate.active.desc(), AnswerTemplate.title, AnswerTemplate.id)))


def save_template(
    session: Session, actor: User, now: datetime, *, title: str, text: str, citation: str | None = None,
    template: AnswerTemplate | None = None,
) -> AnswerTemplate:
    """保存答复模板: a new one for the actor's agency, or one of its own edited."""
    if actor.agency_id is None:
        raise WorkflowError(N_("只有承办单位可以管理答复模板。"))
    if template is not None and template.agency_id != actor.agency_id:
        raise WorkflowError(N_("这个答复模板不属于您的单位。"))
    title = required_text(title, N_("模板名称"))
    text = required_text(text, N_("答复内容"))
    citation = (citation or "").strip() or None
    if len(title) > TITLE_LENGTH or len(text) > TEXT_LENGTH or len(citation or "") > CITATION_LENGTH:
        raise WorkflowError(N_("模板名称、内容或依据过长。"))
    if template is None:
        template = AnswerTemplate(agency_id=actor.agency_id, active=True)
        session.add(template)
    template.title, template.text, template.citation = title, text, citation
    template.updated_at = now
    session.flush()
    return template


def set_template_active(
    session: Session, actor: User, template: AnswerTemplate, now: datetime, *, active: bool
) -> None:
    """停用 / 启用: a template is deactivated, never deleted."""
    if template.agency_id != actor.agency_id:
        raise WorkflowError(N_("这个答复模板不属于您的单位。"))
    template.active = active
    template.updated_at = now
    session.flush()
