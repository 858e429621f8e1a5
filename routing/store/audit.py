"""The audit trail of configuration (配置变更记录): routing rules, deadline
policies and the calendar decide where tickets go and when they are late, so
every change to them says who made it, when, and what it was before."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.store.configuration import ConfigChange
from routing.store.people import User


def audit(
    session: Session,
    subject: str,
    subject_id: int | None,
    action: str,
    actor: User | None,
    now: datetime,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    summary: str | None = None,
) -> ConfigChange:
    change = ConfigChange(
        at=now,
        actor_id=actor.id if actor is not None else None,
        actor=actor.label if actor is not None else "系统",
        subject=subject,
        subject_id=subject_id,
        action=action,
        before=before,
        after=after,
        summary=(summary or "")[:200] or None,
    )
    session.add(change)
    return change


def audit_edit(
    session: Session, subject: str, subject_id: int | None, before: dict[str, Any], after: dict[str, Any],
    actor: User | None, now: datetime, *, summary: str,
) -> bool:
    """Record an edit (before and after) only when it changed something;
    whether it did, so a save that changes nothing leaves no entry."""
    if after == before:
        return False
    audit(session, subject, subject_id, "edit", actor, now, before=before, after=after, summary=summary)
    return True


def changes(session: Session, subject: str, subject_id: int | None = None, limit: int = 50) -> list[ConfigChange]:
    """The newest changes first."""
    query = select(ConfigChange).where(ConfigChange.subject == subject)
    if subject_id is not None:
        query = query.where(ConfigChange.subject_id == subject_id)
    return list(session.scalars(query.order_by(ConfigChange.id.desc()).limit(limit)))
