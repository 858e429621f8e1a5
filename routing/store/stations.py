"""Liaison stations (代表联络站) and deputies (人大代表) as an administrator
keeps them: a station's name, district, street, address and whether it is
open; a deputy's name, level, mobile, stations and whether their account is
active.

The console's pages and the organisation import call these functions and
commit; every change is written to the change log (``audit``) with what it
was before and after. Neither is ever deleted — tickets and submissions name
them — they are deactivated instead. A deputy's WeChat binding is the
deputy's own (bound in the portal): it is shown, never set here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from routing.store.accounts import MOBILE, USERNAME, temporary_password
from routing.store.areas import District, Station, Street
from routing.store.audit import audit, audit_edit
from routing.store.deputies import Deputy, DeputyLevel, DeputyStation
from routing.store.people import Role, User
from routing.texts import N_, DomainError

STATION_SUBJECT = "station"
DEPUTY_SUBJECT = "deputy"


class StationError(DomainError):
    """A name already taken, a district or street that does not exist, a deputy that cannot change so."""


@dataclass
class StationFields:
    name: str
    district_id: int | None
    street_id: int | None = None
    address: str = ""


@dataclass
class DeputyFields:
    """What an administrator sets on a deputy; ``username`` only when creating."""

    name: str
    level: DeputyLevel
    mobile: str | None = None
    station_ids: list[int] = field(default_factory=list)
    username: str = ""


# -- stations --------------------------------------------------------------------


def stations(session: Session) -> list[Station]:
    """Open stations first, then by district and name."""
    return list(session.scalars(select(Station).order_by(Station.active.desc(), Station.district_id, Station.name)))


def station_deputies(session: Session, station: Station) -> list[Deputy]:
    query = select(Deputy).join(DeputyStation).where(DeputyStation.station_id == station.id).order_by(Deputy.name)
    return list(session.scalars(query))


def station_record(station: Station) -> dict[str, Any]:
    """What the change log keeps of a station: names, so the log reads on its own."""
    return {
        "name": station.name,
        "district": station.district.name if station.district else None,
        "street": station.street.name if station.street else None,
        "address": station.address or "",
        "active": station.active,
    }


def _check_station(session: Session, fields: StationFields, station: Station | None) -> None:
    name = fields.name.strip()
    if not name or len(name) > 64:
        raise StationError(N_("请填写联络站名称（64 字以内）。"))
    taken = session.scalar(select(Station.id).where(func.lower(Station.name) == name.lower()))
    if taken is not None and (station is None or taken != station.id):
        raise StationError(N_("已有同名的联络站：%(name)s。"), name=name)
    if fields.district_id is None or session.get(District, fields.district_id) is None:
        raise StationError(N_("请选择联络站所在的区县。"))
    if fields.street_id is not None:
        street = session.get(Street, fields.street_id)
        if street is None:
            raise StationError(N_("没有这个街道。"))
        if street.district_id != fields.district_id:
            raise StationError(N_("街道不在所选的区县内。"))
    if len(fields.address.strip()) > 200:
        raise StationError(N_("地址不能超过 200 个字。"))


def _apply_station(session: Session, station: Station, fields: StationFields) -> None:
    station.name = fields.name.strip()
    station.district_id = fields.district_id
    station.street_id = fields.street_id
    station.address = fields.address.strip()
    session.flush()
    session.refresh(station)


def create_station(session: Session, fields: StationFields, actor: User | None, now: datetime) -> Station:
    _check_station(session, fields, None)
    station = Station(name=fields.name.strip(), district_id=fields.district_id, active=True)
    session.add(station)
    session.flush()
    _apply_station(session, station, fields)
    audit(session, STATION_SUBJECT, station.id, "create", actor, now, after=station_record(station),
          summary=station.name)
    return station


def edit_station(session: Session, station: Station, fields: StationFields, actor: User | None, now: datetime) -> bool:
    """Save ``fields``; False (and no log entry) when nothing changed."""
    _check_station(session, fields, station)
    before = station_record(station)
    _apply_station(session, station, fields)
    return audit_edit(
        session, STATION_SUBJECT, station.id, before, station_record(station), actor, now, summary=station.name
    )


def set_station_active(session: Session, station: Station, active: bool, actor: User | None, now: datetime) -> None:
    """Close (停用) or reopen a station; its submissions and deputies stay."""
    if station.active == active:
        raise StationError(N_("该联络站已是启用状态。") if active else N_("该联络站已停用。"))
    before = station_record(station)
    station.active = active
    session.flush()
    audit(session, STATION_SUBJECT, station.id, "activate" if active else "deactivate", actor, now,
          before=before, after=station_record(station), summary=station.name)


# -- deputies --------------------------------------------------------------------


def deputies(session: Session) -> list[Deputy]:
    """Active deputies first, by level and name."""
    query = select(Deputy).join(User, Deputy.user_id == User.id).order_by(User.active.desc(), Deputy.level, Deputy.name)
    return list(session.scalars(query))


def deputy_record(deputy: Deputy) -> dict[str, Any]:
    """What the change log keeps of a deputy: never a password or the WeChat openid."""
    return {
        "name": deputy.name,
        "level": deputy.level.label,
        "mobile": deputy.user.mobile,
        "stations": "、".join(s.name for s in deputy.stations),
        "active": deputy.user.active,
    }


def _check_deputy(session: Session, fields: DeputyFields) -> tuple[str, str | None, list[Station]]:
    name = fields.name.strip()
    if not name or len(name) > 64:
        raise StationError(N_("请填写代表姓名（64 字以内）。"))
    mobile = (fields.mobile or "").strip() or None
    if mobile is not None and not MOBILE.fullmatch(mobile):
        raise StationError(N_("手机号请填 11 位数字，以 1 开头。"))
    chosen = list(session.scalars(select(Station).where(Station.id.in_(fields.station_ids)).order_by(Station.name)))
    if len(chosen) != len(set(fields.station_ids)):
        raise StationError(N_("没有这个联络站。"))
    return name, mobile, chosen


def _set_stations(session: Session, deputy: Deputy, chosen: list[Station]) -> None:
    session.execute(delete(DeputyStation).where(DeputyStation.deputy_id == deputy.id))
    session.add_all(DeputyStation(deputy_id=deputy.id, station_id=s.id) for s in chosen)
    session.flush()
    session.expire(deputy, ["stations"])


def create_deputy(session: Session, fields: DeputyFields, actor: User | None, now: datetime) -> tuple[Deputy, str]:
    """A deputy and their login (role 人大代表) with a temporary password, to be changed at first login."""
    username = fields.username.strip()
    if not USERNAME.fullmatch(username):
        raise StationError(N_("用户名请用 2 到 64 个英文字母、数字或 . _ -。"))
    name, mobile, chosen = _check_deputy(session, fields)
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
        raise StationError(N_("用户名“%(username)s”已被其他账号使用，请换一个。"), username=username)
    password = temporary_password()
    user = User(username=username, display_name=name, role=Role.DEPUTY, mobile=mobile)
    user.set_password(password)
    user.must_change_password = True
    session.add(user)
    session.flush()
    deputy = Deputy(user_id=user.id, name=name, level=fields.level)
    session.add(deputy)
    session.flush()
    _set_stations(session, deputy, chosen)
    audit(session, DEPUTY_SUBJECT, deputy.id, "create", actor, now, after=deputy_record(deputy), summary=name)
    return deputy, password


def edit_deputy(session: Session, deputy: Deputy, fields: DeputyFields, actor: User | None, now: datetime) -> bool:
    """New name, level, mobile or stations; False (and no log entry) when nothing changed."""
    name, mobile, chosen = _check_deputy(session, fields)
    before = deputy_record(deputy)
    deputy.name, deputy.level = name, fields.level
    deputy.user.display_name, deputy.user.mobile = name, mobile
    _set_stations(session, deputy, chosen)
    return audit_edit(session, DEPUTY_SUBJECT, deputy.id, before, deputy_record(deputy), actor, now, summary=name)


def set_deputy_active(session: Session, deputy: Deputy, active: bool, actor: User | None, now: datetime) -> None:
    """Deactivate a deputy (their term ended): the login stops at once, their submissions stay."""
    if deputy.user.active == active:
        raise StationError(N_("该代表已是启用状态。") if active else N_("该代表已停用。"))
    before = deputy_record(deputy)
    deputy.user.active = active
    if not active:
        deputy.user.end_sessions()
    session.flush()
    audit(session, DEPUTY_SUBJECT, deputy.id, "activate" if active else "deactivate", actor, now,
          before=before, after=deputy_record(deputy), summary=deputy.name)


def set_station_deputies(
    session: Session, station: Station, chosen: list[Deputy], actor: User | None, now: datetime
) -> bool:
    """The deputies who serve at ``station`` become ``chosen``; False (and no log entry) when they were."""
    before = {d.id: d for d in station_deputies(session, station)}
    wanted = {d.id: d for d in chosen}
    if set(before) == set(wanted):
        return False
    session.execute(delete(DeputyStation).where(
        DeputyStation.station_id == station.id, DeputyStation.deputy_id.not_in(list(wanted))))
    session.add_all(DeputyStation(deputy_id=i, station_id=station.id) for i in wanted if i not in before)
    session.flush()
    for deputy in {**before, **wanted}.values():
        session.expire(deputy, ["stations"])
    audit(session, STATION_SUBJECT, station.id, "deputies", actor, now,
          before={"deputies": "、".join(sorted(d.name for d in before.values()))},
          after={"deputies": "、".join(sorted(d.name for d in wanted.values()))}, summary=station.name)
    return True
