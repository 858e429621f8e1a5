"""The city's gazetteer (地名库) an administrator keeps: districts (区县) and
streets (街道/乡镇), the other names residents use for them (别名), and a
district's fallback agency (兜底单位).

The console's pages and the organisation import call these functions and
commit; every change is written to the change log (``audit``) with what it
was before and after, and moves the gazetteer's version on, so every process
rebuilds its place detector. A district or street is never deleted: tickets,
stations and routing rules name them. Nor is one deactivated — a place does
not stop existing; an alias that misleads is removed by saving the place
without it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.store.areas import District, PlaceAlias, Street
from routing.store.audit import audit
from routing.store.configuration import SharedValue, split_keywords
from routing.store.people import Agency, User
from routing.store.tickets import Ticket
from routing.texts import N_, DomainError

DISTRICT = "district"
STREET = "street"
MAX_NAME = 32
# The shared value every process compares with the version its detector was built from.
VERSION_KEY = "gazetteer.version"


class GazetteerError(DomainError):
    """An empty or overlong name, a name taken, an alias that already names another place."""


def split_aliases(text: str | None) -> list[str]:
    """Aliases as an administrator types them: 、，, ; or spaces between."""
    return split_keywords(text)


def districts(session: Session) -> list[District]:
    return list(session.scalars(select(District).order_by(District.id)))


def district_named(session: Session, name: str) -> District | None:
    return session.scalar(select(District).where(District.name == name.strip()))


def street_named(session: Session, district: District, name: str) -> Street | None:
    return session.scalar(select(Street).where(Street.district_id == district.id, Street.name == name.strip()))


def ticket_counts(session: Session) -> tuple[dict[int, int], dict[int, int]]:
    """How many tickets name each district and each street, for the console's list."""
    by_district = dict(session.execute(select(Ticket.district_id, func.count()).group_by(Ticket.district_id)).all())
    by_street = dict(session.execute(select(Ticket.street_id, func.count()).group_by(Ticket.street_id)).all())
    by_district.pop(None, None)
    by_street.pop(None, None)
    return by_district, by_street


def district_snapshot(district: District) -> dict[str, Any]:
    """What the change log keeps of a district: names, not ids, so the log reads on its own."""
    return {
        "name": district.name,
        "aliases": [a.alias for a in district.aliases],
        "fallback_agency": district.fallback_agency.name if district.fallback_agency else None,
    }


def street_snapshot(street: Street) -> dict[str, Any]:
    return {"district": street.district.name, "name": street.name, "aliases": [a.alias for a in street.aliases]}


def _name(name: str, empty: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise GazetteerError(empty, limit=MAX_NAME)
    return name


def _aliases(aliases: Iterable[str], name: str) -> list[str]:
    cleaned = list(dict.fromkeys(a.strip() for a in aliases if a and a.strip() and a.strip() != name))
    for alias in cleaned:
        if len(alias) > MAX_NAME:
            raise GazetteerError(N_("别名“%(alias)s”太长（%(limit)s 字以内）。"), alias=alias, limit=MAX_NAME)
    return cleaned


def _owner_label(session: Session, district_id: int, street_id: int | None) -> str:
    if street_id is not None:
        street = session.get(Street, street_id)
        return f"{street.district.name}{street.name}"
    return session.get(District, district_id).name


def _check_free(session: Session, word: str, district_id: int | None, street_id: int | None) -> None:
    """``word`` (a name or an alias of the place district_id/street_id; both None:
    a new place) must not already name another place: one name, one place."""
    alias = session.scalar(select(PlaceAlias).where(PlaceAlias.alias == word))
    if alias is not None and (alias.district_id, alias.street_id) != (district_id, street_id):
        raise GazetteerError(
            N_("“%(word)s”已是%(place)s的别名。"),
            word=word,
            place=_owner_label(session, alias.district_id, alias.street_id),
        )
    district = session.scalar(select(District).where(District.name == word))
    if district is not None and not (street_id is None and district.id == district_id):
        raise GazetteerError(N_("“%(word)s”已是区县%(place)s的名称。"), word=word, place=district.name)


def _check_alias_not_a_street(session: Session, alias: str, street_id: int | None) -> None:
    # A street's own name may repeat in another district; an alias may not be any street's name.
    street = session.scalar(select(Street).where(Street.name == alias, Street.id != (street_id or 0)).limit(1))
    if street is not None:
        raise GazetteerError(
            N_("“%(word)s”已是%(place)s的名称。"), word=alias, place=f"{street.district.name}{street.name}"
        )


def _set_aliases(session: Session, district_id: int, street_id: int | None, aliases: list[str]) -> None:
    of_street = PlaceAlias.street_id.is_(None) if street_id is None else PlaceAlias.street_id == street_id
    held = session.scalars(select(PlaceAlias).where(PlaceAlias.district_id == district_id, of_street)).all()
    for alias in held:
        if alias.alias not in aliases:
            session.delete(alias)
    kept = {a.alias for a in held}
    session.flush()  # a removed alias is free again before one is added
    for alias in aliases:
        if alias not in kept:
            session.add(PlaceAlias(alias=alias, district_id=district_id, street_id=street_id))
    session.flush()


def bump_version(session: Session) -> str:
    """A new gazetteer version in the shared table: every process sees it and
    rebuilds its detector. A random value, so two saves at once need not read it."""
    version = uuid.uuid4().hex
    session.merge(SharedValue(key=VERSION_KEY, value=version, expires_at=None))
    return version


def version(session: Session) -> str | None:
    """The gazetteer's version; None until the console first changed it."""
    shared = session.get(SharedValue, VERSION_KEY)
    return shared.value if shared is not None else None


def save_district(
    session: Session,
    name: str,
    aliases: Iterable[str] = (),
    fallback_agency_id: int | None = None,
    *,
    district: District | None = None,
    actor: User | None = None,
    now: datetime,
) -> District:
    """Create a district, or with ``district`` edit it: its name, its aliases
    (the list replaces the ones it had) and its fallback agency. Logged and
    versioned only when something changed."""
    name = _name(name, N_("请填写区县名称（%(limit)s 字以内）。"))
    wanted = _aliases(aliases, name)
    taken = district_named(session, name)
    if taken is not None and (district is None or taken.id != district.id):
        raise GazetteerError(N_("已有同名的区县：%(name)s。"), name=name)
    own_id = district.id if district is not None else None
    _check_free(session, name, own_id, None)
    for alias in wanted:
        _check_free(session, alias, own_id, None)
        _check_alias_not_a_street(session, alias, None)
    if fallback_agency_id is not None and session.get(Agency, fallback_agency_id) is None:
        raise GazetteerError(N_("没有这个兜底单位。"))
    before = district_snapshot(district) if district is not None else None
    if district is None:
        district = District(name=name)
        session.add(district)
    district.name = name
    district.fallback_agency_id = fallback_agency_id
    session.flush()
    _set_aliases(session, district.id, None, wanted)
    session.refresh(district)
    after = district_snapshot(district)
    if after != before:
        audit(
            session,
            DISTRICT,
            district.id,
            "edit" if before else "create",
            actor,
            now,
            before=before,
            after=after,
            summary=district.name,
        )
        bump_version(session)
    return district


def save_street(
    session: Session,
    district: District,
    name: str,
    aliases: Iterable[str] = (),
    *,
    street: Street | None = None,
    actor: User | None = None,
    now: datetime,
) -> Street:
    """Create a street under ``district``, or with ``street`` edit its name and
    aliases. A street stays in its district: its tickets say so."""
    name = _name(name, N_("请填写街道名称（%(limit)s 字以内）。"))
    if street is not None and street.district_id != district.id:
        raise GazetteerError(N_("街道不能改到其他区县。"))
    wanted = _aliases(aliases, name)
    taken = street_named(session, district, name)
    if taken is not None and (street is None or taken.id != street.id):
        raise GazetteerError(N_("%(district)s已有同名的街道：%(name)s。"), district=district.name, name=name)
    own_id = street.id if street is not None else None
    _check_free(session, name, district.id if street is not None else None, own_id)
    for alias in wanted:
        _check_free(session, alias, district.id if street is not None else None, own_id)
        _check_alias_not_a_street(session, alias, own_id)
    before = street_snapshot(street) if street is not None else None
    if street is None:
        street = Street(district_id=district.id, name=name)
        session.add(street)
    street.name = name
    session.flush()
    _set_aliases(session, district.id, street.id, wanted)
    session.refresh(street)
    after = street_snapshot(street)
    if after != before:
        audit(
            session,
            STREET,
            street.id,
            "edit" if before else "create",
            actor,
            now,
            before=before,
            after=after,
            summary=f"{district.name}{street.name}",
        )
        bump_version(session)
    return street


def gazetteer_data(session: Session) -> dict[str, Any]:
    """The database's districts, streets and aliases in the shape of the
    classifier's gazetteer file: a street's aliases as the district's
    landmarks, which point at that street."""
    aliases = session.execute(select(PlaceAlias.alias, PlaceAlias.district_id, PlaceAlias.street_id)).all()
    street_names = dict(session.execute(select(Street.id, Street.name)).all())
    entries = []
    for district in districts(session):
        entries.append(
            {
                "name": district.name,
                "aliases": [a for a, d, s in aliases if d == district.id and s is None],
                "streets": [s.name for s in district.streets],
                "landmarks": {a: street_names[s] for a, d, s in aliases if d == district.id and s is not None},
            }
        )
    return {"districts": entries}
