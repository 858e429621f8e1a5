"""Warning badges (预警标识) on the staff pages: 临期 in yellow, 超期 in red."""

from __future__ import annotations

from flask import Flask, current_app, g

from collector.context import db_session
from routing.clock import now
from routing.deadlines import load_calendar
from routing.escalation import Level, warning_level
from routing.models import Ticket


def ticket_warning(ticket: Ticket) -> Level:
    """The ticket's warning level now; one calendar and one clock reading per request."""
    if "warning_clock" not in g:
        g.warning_clock = (now(), load_calendar(db_session()))
    moment, calendar = g.warning_clock
    return warning_level(ticket, moment, calendar, current_app.config["WARNING_SHARE"])


def init_app(app: Flask) -> None:
    app.jinja_env.globals["ticket_warning"] = ticket_warning
