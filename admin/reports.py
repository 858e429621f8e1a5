"""月度报告: a month's figures per agency or per district, made to print (A4).

Agency staff see their own agency's report only; district and city reports
are for dispatchers and administrators. The figures come from
``routing.report``, which reuses the dashboard's and the scorecards' counts.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, render_template, request
from flask_babel import gettext
from sqlalchemy import select

from collector.context import db_session
from collector.translate import error_text
from routing.clock import now
from routing.reports.comparison import month_on_month
from routing.reports.figures import FIGURES
from routing.reports.listing import TicketFilter, find_tickets
from routing.reports.report import MonthlyReport, monthly_report, parse_month
from routing.reports.stats import UNKNOWN, Scope
from routing.store.areas import District
from routing.store.people import Agency, Role
from routing.store.tickets import Status

from .auth import current_staff, roles_required
from .matters import POOL, hot_issues_among
from .params import id_arg
from .scorecards import COLUMNS, table

bp = Blueprint("reports", __name__, url_prefix="/reports")

VIEWERS = (Role.DISPATCHER, Role.ADMIN, Role.AGENCY)
HOT_LIMIT = 5


def _asked(name: str) -> int | None:
    return id_arg(request.args, name)


def _subject() -> tuple[Scope, str]:
    """Whose report, and its name: agency staff their own agency only."""
    user = current_staff()
    agency_id, district_id = _asked("agency"), _asked("district")
    if agency_id is not None and district_id is not None:
        abort(400, description=gettext("请在承办单位和区县之间选一个。"))
    if user.role is Role.AGENCY:
        if user.agency_id is None or district_id is not None or agency_id not in (None, user.agency_id):
            abort(403)
        agency_id = user.agency_id
    if agency_id is not None:
        agency = db_session().get(Agency, agency_id) or abort(404, description=gettext("没有这个承办单位。"))
        return Scope(agency_id=agency.id), agency.name
    if district_id is not None:
        district = db_session().get(District, district_id) or abort(404, description=gettext("没有这个区县。"))
        return Scope(district_id=district.id), district.name
    return Scope(), gettext("全市")


def hot_in_month(report: MonthlyReport, scope: Scope) -> list[dict[str, Any]]:
    """热点: matters several residents raised in the month, within the report's scope."""
    chosen = TicketFilter(
        agency_id=scope.agency_id, district_id=scope.district_id, since=report.start.date(), until=report.last_day
    )
    pool = [t for t in find_tickets(db_session(), chosen, size=POOL) if t.status is not Status.INVALID and t.text]
    return [
        {"count": issue.residents, "text": issue.tickets[0].text[:120], "numbers": [t.number for t in issue.tickets]}
        for issue in hot_issues_among(db_session(), pool)[:HOT_LIMIT]
    ]


@bp.get("/monthly")
@roles_required(*VIEWERS)
def monthly():
    today = now()
    try:
        month = parse_month(request.args.get("month"), today.date())
    except ValueError as exc:
        abort(400, description=error_text(exc))
    scope, subject = _subject()
    report = monthly_report(db_session(), month, today, scope)
    user = current_staff()
    choices = {}
    if user.role is not Role.AGENCY:
        session = db_session()
        choices = {
            "agencies": list(session.execute(select(Agency.id, Agency.name).order_by(Agency.id))),
            "districts": list(session.execute(select(District.id, District.name).order_by(District.id))),
        }
    return render_template(
        "reports/monthly.html",
        report=report,
        subject=subject,
        scope=scope,
        month=month,
        hot=hot_in_month(report, scope),
        compared=month_on_month(db_session(), month, today, scope).rows(),
        figures=FIGURES,
        headers=[label for label, _ in COLUMNS],
        rows=table(report.scores) if scope.agency_id is None else [],
        choices=choices,
        # A topic the classifier could not name is counted under an interface word, not a stored name.
        unknown=UNKNOWN,
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
