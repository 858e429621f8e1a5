"""The figures behind the dashboard (统计看板): counts by topic, agency,
district and channel per day, what is overdue or due soon, and where tickets
come from — SQL aggregates, so the page stays quick however many tickets there are.

Every function takes a ``Scope``: a dispatcher sees the whole city, agency
staff only the tickets their agency holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session, selectinload

from routing.dispatch.places import district_centre, valid_coordinates
from routing.store.areas import District
from routing.store.people import Agency
from routing.store.tickets import Status, Ticket

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
# A deadline this close is "due soon" (the desk marks the same in orange).
DUE_SOON = timedelta(hours=24)
# Enough rows for a screen; the counts say how many there are in all.
DUE_LIST_LIMIT = 50
# Points on the map; beyond this the plot says nothing more.
MAP_LIMIT = 2000

CHANNEL_LABELS = {
    "web": "联络站网页",
    "wechat": "微信公众号",
    "api": "接口",
    "deputy": "人大代表",
    "import": "热线导入",
    "open311": "Open311 接口",
    "hotline": "12345 热线",
}
UNKNOWN = "未确定"
DIMENSIONS = ("topic", "agency", "district", "channel")


@dataclass(frozen=True)
class Scope:
    """Whose tickets count: all (both None), one agency's, or one district's."""

    agency_id: int | None = None
    district_id: int | None = None

    def where(self) -> list[ColumnElement[bool]]:
        conditions = [] if self.agency_id is None else [Ticket.agency_id == self.agency_id]
        if self.district_id is not None:
            conditions.append(Ticket.district_id == self.district_id)
        return conditions


CITY = Scope()


def period_start(now: datetime, days: int) -> datetime:
    """Midnight of the first day of a period of ``days`` days ending today."""
    return datetime.combine(now.date() - timedelta(days=days - 1), time())


def counted(scope: Scope, since: datetime, until: datetime | None = None) -> list[ColumnElement[bool]]:
    """The conditions of a ticket counted as received in [since, until), within ``scope``."""
    # Spam and abuse (无效) are not matters anyone raised.
    conditions = [Ticket.created_at >= since, Ticket.status != Status.INVALID, *scope.where()]
    return conditions if until is None else [*conditions, Ticket.created_at < until]


def _day(value: Any) -> str:
    # SQLite's date() gives text, PostgreSQL's a date.
    return value.isoformat() if isinstance(value, date) else str(value)


def _dimension_columns(dimension: str) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The key the ticket list filters by (None: 未确定) and the name a chart shows."""
    if dimension == "topic":
        return Ticket.topic, func.coalesce(Ticket.topic, UNKNOWN)
    if dimension == "agency":
        return Ticket.agency_id, func.coalesce(Agency.name, UNKNOWN)
    if dimension == "district":
        return Ticket.district_id, func.coalesce(District.name, UNKNOWN)
    if dimension == "channel":
        return Ticket.channel, Ticket.channel
    raise ValueError(dimension)


def daily_counts(
    session: Session, dimension: str, since: datetime, scope: Scope = CITY, until: datetime | None = None
) -> list[tuple[str, Any, str, int]]:
    """(day, key, name, count) for tickets raised since ``since`` (and before ``until``), by one dimension."""
    key, name = _dimension_columns(dimension)
    day = func.date(Ticket.created_at)
    query = select(day, key, name, func.count(Ticket.id)).where(*counted(scope, since, until))
    if dimension == "agency":
        query = query.outerjoin(Agency, Ticket.agency_id == Agency.id)
    elif dimension == "district":
        query = query.outerjoin(District, Ticket.district_id == District.id)
    rows = session.execute(query.group_by(day, key, name))
    return [
        (_day(d), k, CHANNEL_LABELS.get(label, label) if dimension == "channel" else label, n)
        for d, k, label, n in rows
    ]


def over_time(rows: list[tuple[str, Any, str, int]], days: list[str]) -> dict[str, Any]:
    """Series for a stacked chart: every name's count on every day, largest total first;
    each carries the ``key`` the ticket list filters by."""
    series: dict[tuple[Any, str], list[int]] = {}
    index = {d: i for i, d in enumerate(days)}
    for day, key, name, n in rows:
        counts = series.setdefault((key, name), [0] * len(days))
        if day in index:
            counts[index[day]] += n
    ordered = sorted(series.items(), key=lambda item: (-sum(item[1]), item[0][1]))
    return {
        "series": [{"name": name, "key": key, "counts": counts} for (key, name), counts in ordered],
        "totals": [{"name": name, "key": key, "count": sum(counts)} for (key, name), counts in ordered],
    }


def _running_deadline() -> ColumnElement[datetime]:
    """The deadline that runs: accept-by until the agency accepts, then answer-by."""
    return case((Ticket.status == Status.ASSIGNED, Ticket.accept_by), else_=Ticket.answer_by)


def _due_within(scope: Scope, horizon: datetime) -> list[ColumnElement[bool]]:
    """Open tickets whose running deadline falls before ``horizon``; a ticket
    waiting on the resident has its clock stopped and is not counted."""
    waiting_accept = (Ticket.status == Status.ASSIGNED) & (Ticket.accept_by < horizon)
    working = (Ticket.status == Status.ACCEPTED) & (Ticket.answer_by < horizon)
    return [waiting_accept | working, *scope.where()]


def _due_row(ticket: Ticket, deadline: datetime) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "status": ticket.status.label,
        "deadline": deadline.isoformat(timespec="minutes"),
        "which": "签收" if ticket.status is Status.ASSIGNED else "答复",
        "agency": ticket.agency.name if ticket.agency else UNKNOWN,
        "topic": ticket.topic or UNKNOWN,
    }


def due(session: Session, now: datetime, scope: Scope = CITY) -> dict[str, Any]:
    """超期 and 即将到期 (within DUE_SOON): counts, and the earliest deadlines first."""
    deadline = _running_deadline()
    within = _due_within(scope, now + DUE_SOON)
    figures: dict[str, Any] = {}
    for key, side in (("overdue", deadline < now), ("soon", deadline >= now)):
        figures[f"{key}_count"] = session.scalar(select(func.count(Ticket.id)).where(*within, side))
        rows = session.execute(
            select(Ticket, deadline)
            .where(*within, side)
            .options(selectinload(Ticket.agency))
            .order_by(deadline, Ticket.id)
            .limit(DUE_LIST_LIMIT)
        )
        figures[key] = [_due_row(ticket, when) for ticket, when in rows]
    return figures


def places(session: Session, since: datetime, scope: Scope = CITY) -> dict[str, Any]:
    """Where tickets come from: exact points where a ticket carries coordinates,
    and every district's count (with or without coordinates), with its centre."""
    exact = session.execute(
        select(Ticket.number, Ticket.latitude, Ticket.longitude, Ticket.topic)
        .where(*counted(scope, since), Ticket.latitude.is_not(None), Ticket.longitude.is_not(None))
        .order_by(Ticket.id.desc())
        .limit(MAP_LIMIT)
    )
    by_district = session.execute(
        select(District.id, District.name, func.count(Ticket.id))
        .join(District, Ticket.district_id == District.id)
        .where(*counted(scope, since))
        .group_by(District.id, District.name)
    )
    districts = []
    for key, name, n in by_district:
        centre = district_centre(name)
        if centre is not None:
            districts.append({"name": name, "key": key, "latitude": centre[0], "longitude": centre[1], "count": n})
    return {
        "points": [
            {"number": number, "latitude": lat, "longitude": lon, "topic": topic or UNKNOWN}
            for number, lat, lon, topic in exact
            # A point stored before coordinates were checked (a NaN) would make the whole answer invalid JSON.
            if valid_coordinates(lat, lon)
        ],
        "districts": sorted(districts, key=lambda d: (-d["count"], d["name"])),
    }


def dashboard(session: Session, now: datetime, days: int = DEFAULT_PERIOD, scope: Scope = CITY) -> dict[str, Any]:
    """Everything the dashboard draws, as plain JSON-ready data."""
    if days not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}")
    since = period_start(now, days)
    day_labels = [(since.date() + timedelta(days=i)).isoformat() for i in range(days)]
    by = {dimension: over_time(daily_counts(session, dimension, since, scope), day_labels) for dimension in DIMENSIONS}
    per_day = [0] * days
    for series in by["channel"]["series"]:
        per_day = [a + b for a, b in zip(per_day, series["counts"])]
    return {
        "period": {"days": days, "from": day_labels[0], "to": day_labels[-1]},
        "days": day_labels,
        "total": sum(per_day),
        "per_day": per_day,
        "by": by,
        "due": due(session, now, scope),
        "places": places(session, since, scope),
    }
