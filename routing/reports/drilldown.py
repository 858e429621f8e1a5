"""From a figure to the tickets it counts (钻取): the ticket list's filter for
one bar, segment or district of the dashboard.

One function decides the mapping, so the list a chart links to counts exactly
what the chart showed: the same dimension, the same days, without 无效 (as the
dashboard counts), and within the viewer's scope.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from routing.reports.listing import TicketFilter
from routing.reports.stats import Scope

# The ticket list's field for each of the dashboard's dimensions.
FIELDS = {"topic": "topic", "agency": "agency_id", "district": "district_id", "channel": "channel"}


def chart_filter(dimension: str | None, key: Any, since: date, until: date, scope: Scope) -> TicketFilter:
    """The tickets behind one item: ``key`` of ``dimension`` (None: 未确定) from
    ``since`` to ``until`` inclusive; no dimension means every ticket counted."""
    chosen: dict[str, Any] = {"since": since, "until": until, "counted": True}
    if scope.agency_id is not None:
        chosen["agency_id"] = scope.agency_id
    if scope.district_id is not None:
        chosen["district_id"] = scope.district_id
    if dimension is not None:
        if dimension not in FIELDS:
            raise ValueError(dimension)
        if key is None:
            chosen["unset"] = frozenset({dimension})
            chosen.pop(FIELDS[dimension], None)
        else:
            chosen[FIELDS[dimension]] = key
    return TicketFilter(**chosen)
