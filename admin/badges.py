"""Warning badges (预警标识) on the staff pages: 临期 in yellow, 超期 in red;
and what a redone ticket (重办) shows of its earlier rounds."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Flask, current_app, g
from flask_babel import gettext

from collector.context import db_session
from routing.clock import now
from routing.flow.assisting import OpinionDue, opinion_due
from routing.flow.calendar import WorkCalendar
from routing.flow.deadlines import load_calendar
from routing.flow.escalation import Level, warning_level
from routing.flow.redo import earlier_rounds
from routing.flow.steps import SYSTEM
from routing.reports.stats import CHANNEL_LABELS
from routing.store.people import Agency, Role
from routing.store.tickets import Status, Ticket
from routing.texts import N_


def _clock() -> tuple[datetime, WorkCalendar]:
    """One calendar and one clock reading per request."""
    if "warning_clock" not in g:
        g.warning_clock = (now(), load_calendar(db_session()))
    return g.warning_clock


def ticket_warning(ticket: Ticket) -> Level:
    """The ticket's warning level now."""
    moment, calendar = _clock()
    return warning_level(ticket, moment, calendar, current_app.config["WARNING_SHARE"])


def assisting_opinion(ticket: Ticket, agency: Agency | None) -> tuple[OpinionDue, Level] | None:
    """An assisting agency's opinion deadline on a deputy's suggestion, with its warning level."""
    if agency is None:
        return None
    moment, calendar = _clock()
    due = opinion_due(ticket, agency, calendar)
    if due is None:
        return None
    return due, due.level(moment, calendar, current_app.config["WARNING_SHARE"])


def channel_label(channel: str | None) -> str:
    """A channel's name (联络站网页), never its code (web), in the reader's language."""
    return gettext(CHANNEL_LABELS[channel]) if channel in CHANNEL_LABELS else (channel or "")


def status_label(status: str | Status | None) -> str:
    """A state's name (待签收) as the timeline shows it, never its code."""
    if status is None or status == "":
        return ""
    try:
        return gettext(Status(status).label)
    except ValueError:
        return str(status)


# The timeline keeps who took a step as "name（role）" (User.label): the role is a word of the interface.
ROLE_SUFFIX = re.compile("^(?P<name>.*)（(?P<role>" + "|".join(re.escape(r.label) for r in Role) + ")）$")


def actor_name(actor: str) -> str:
    """Who took a step, as the timeline keeps it, with the system and the
    person's role in the reader's language."""
    if actor == SYSTEM:
        return gettext(N_("系统"))
    match = ROLE_SUFFIX.match(actor or "")
    if match is None:
        return actor
    return gettext("%(name)s（%(role)s）", name=match["name"], role=gettext(match["role"]))


def init_app(app: Flask) -> None:
    app.jinja_env.filters["actor_name"] = actor_name
    app.jinja_env.filters["channel_label"] = channel_label
    app.jinja_env.filters["status_label"] = status_label
    app.jinja_env.globals["ticket_warning"] = ticket_warning
    app.jinja_env.globals["assisting_opinion"] = assisting_opinion
    # The earlier answers and their ratings, for the agency and the dispatcher on the ticket page.
    app.jinja_env.globals["earlier_rounds"] = earlier_rounds
