"""Links to the ticket list (工单查询) narrowed to a filter: the inverse of the
list's own reading of its query (``ticket_list.ticket_filter``), so a chart
and the list it links to agree on what is counted."""

from __future__ import annotations

from flask import url_for

from routing.reports.listing import TicketFilter

# Query values that are no status, topic, agency or district: a chart's 未确定 bar, and 不含无效.
UNSET_VALUE = "none"
COUNTED_VALUE = "counted"


def list_args(chosen: TicketFilter) -> dict[str, str]:
    """The query parameters of the list narrowed to ``chosen``."""
    args = {
        "status": COUNTED_VALUE if chosen.counted else (chosen.status.value if chosen.status else ""),
        "topic": chosen.topic or "",
        "agency": str(chosen.agency_id) if chosen.agency_id is not None else "",
        "district": str(chosen.district_id) if chosen.district_id is not None else "",
        "channel": chosen.channel or "",
        "since": chosen.since.isoformat() if chosen.since else "",
        "until": chosen.until.isoformat() if chosen.until else "",
        "words": chosen.words or "",
    }
    for name in chosen.unset:
        args[name] = UNSET_VALUE
    return {name: value for name, value in args.items() if value}


def list_url(chosen: TicketFilter) -> str:
    return url_for("tickets.index", **list_args(chosen))
