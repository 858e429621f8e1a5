"""The organisation (组织架构) an administrator keeps: agencies — their name,
short name, kind, jurisdiction (a district, a street, or the whole city),
supervisor and whether they are active.

The console's pages call these functions and commit; every change is written
to the change log (``audit``) with what it was before and after. An agency is
never deleted: tickets and timelines name it, so it is deactivated instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.store.areas import District, Street
from routing.store.audit import audit, audit_edit
from routing.store.people import AGENCY_KINDS, Agency, User
from routing.texts import N_, DomainError

SUBJECT = "agency"


class OrganisationError(DomainError):
    """A name already taken, a kind or place that does not exist, a supervisor that would loop."""


@dataclass
class AgencyFields:
    name: str
    short_name: str | None = None
    kind: str | None = None
    district_id: int | None = None
    street_id: int | None = None
    supervisor_id: int | None = None


def agencies(session: Session) -> list[Agency]:
    """City-wide bodies first, then by district, active before inactive."""
    query = select(Agency).order_by(Agency.active.desc(), Agency.district_id.is_not(None), Agency.district_id, Agency.id)
    return list(session.scalars(query))


def snapshot(agency: Agency) -> dict[str, Any]:
    """What the change log keeps of an agency: names, not only ids, so the log reads on its own."""
    return {
        "name": agency.name,
        "short_name": agency.short_name,
        "kind": agency.kind,
        "district": agency.district.name if agency.district else None,
        "street": agency.street.name if agency.street else None,
        "supervisor": agency.supervisor.name if agency.supervisor else None,
        "active": agency.active,
    }


def _check(session: Session, fields: AgencyFields, agency: Agency | None) -> None:
    name = fields.name.strip()
    if not name or len(name) > 64:
        raise OrganisationError(N_("请填写单位名称（64 字以内）。"))
    taken = session.scalar(select(Agency.id).where(func.lower(Agency.name) == name.lower()))
    if taken is not None and (agency is None or taken != agency.id):
        raise OrganisationError(N_("已有同名的承办单位：%(name)s。"), name=name)
    if fields.short_name and len(fields.short_name.strip()) > 32:
        raise OrganisationError(N_("简称不能超过 32 个字。"))
    if fields.kind and fields.kind not in AGENCY_KINDS:
        raise OrganisationError(N_("没有这种单位类型：%(kind)s。"), kind=fields.kind)
    if fields.district_id is not None and session.get(District, fields.district_id) is None:
        raise OrganisationError(N_("没有这个区县。"))
    if fields.street_id is not None:
        street = session.get(Street, fields.street_id)
        if street is None:
            raise OrganisationError(N_("没有这个街道。"))
        if fields.district_id is not None and street.district_id != fields.district_id:
            raise OrganisationError(N_("街道不在所选的区县内。"))
    if fields.supervisor_id is not None:
        _check_supervisor(session, fields.supervisor_id, agency)


def _check_supervisor(session: Session, supervisor_id: int, agency: Agency | None) -> None:
    supervisor = session.get(Agency, supervisor_id)
    if supervisor is None:
        raise OrganisationError(N_("没有这个上级督办单位。"))
    # Notices climb the supervisors: a loop would send them round for ever.
    seen = set()
    while supervisor is not None and supervisor.id not in seen:
        if agency is not None and supervisor.id == agency.id:
            raise OrganisationError(N_("上级督办单位不能是本单位或其下级。"))
        seen.add(supervisor.id)
        supervisor = supervisor.supervisor


def _apply(session: Session, agency: Agency, fields: AgencyFields) -> None:
    agency.name = fields.name.strip()
    agency.short_name = (fields.short_name or "").strip() or None
    agency.kind = fields.kind or None
    agency.street_id = fields.street_id
    street = session.get(Street, fields.street_id) if fields.street_id is not None else None
    # A street office's district follows from its street.
    agency.district_id = street.district_id if street is not None else fields.district_id
    agency.supervisor_id = fields.supervisor_id
    session.flush()
    session.refresh(agency)


def create_agency(session: Session, fields: AgencyFields, actor: User | None, now: datetime) -> Agency:
    _check(session, fields, None)
    agency = Agency(name=fields.name.strip(), active=True)
    session.add(agency)
    session.flush()
    _apply(session, agency, fields)
    audit(session, SUBJECT, agency.id, "create", actor, now, after=snapshot(agency), summary=agency.name)
    return agency


def edit_agency(session: Session, agency: Agency, fields: AgencyFields, actor: User | None, now: datetime) -> bool:
    """Save ``fields``; False (and no log entry) when nothing changed."""
    _check(session, fields, agency)
    before = snapshot(agency)
    _apply(session, agency, fields)
    return audit_edit(session, SUBJECT, agency.id, before, snapshot(agency), actor, now, summary=agency.name)


def set_active(session: Session, agency: Agency, active: bool, actor: User | None, now: datetime) -> None:
    """Deactivate (停用) or activate an agency. A deactivated agency keeps its
    tickets and history but is offered no new ones; an agency is never deleted."""
    if agency.active == active:
        raise OrganisationError(N_("该单位已是启用状态。") if active else N_("该单位已停用。"))
    before = snapshot(agency)
    agency.active = active
    session.flush()
    audit(session, SUBJECT, agency.id, "activate" if active else "deactivate", actor, now,
          before=before, after=snapshot(agency), summary=agency.name)
