"""The dashboard (统计看板): tickets by topic, agency, district and channel over
time, what is overdue or due soon, hot issues and a map of places.

Dispatchers and administrators see the city; agency staff their own agency's
figures only. The page draws its charts from ``/dashboard/data`` (JSON).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Flask, abort, jsonify, render_template, request, url_for
from flask_babel import gettext

from collector.context import db_session
from routing.clock import now
from routing.reports import comparison, stats
from routing.reports.drilldown import chart_filter
from routing.store.people import Role, User

from .auth import current_staff, roles_required
from .list_links import list_args, list_url
from .matters import HOT_LIMIT, hot_issues

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

VIEWERS = (Role.DISPATCHER, Role.ADMIN, Role.AGENCY)
# As on the desk: a matter is hot when at least three residents raised it.
HOT_MIN_RESIDENTS = 3


def scope_of(user: User) -> stats.Scope:
    """The city for dispatchers, one agency for its staff."""
    if user.role is Role.AGENCY:
        if user.agency_id is None:
            abort(403)
        return stats.Scope(agency_id=user.agency_id)
    return stats.CITY


def _period() -> int:
    raw = request.args.get("days", str(stats.DEFAULT_PERIOD))
    if not (raw.isascii() and raw.isdigit()) or int(raw) not in stats.PERIODS:
        abort(400, description=gettext("统计周期只能是 %(days)s 天。", days="、".join(map(str, stats.PERIODS))))
    return int(raw)


def hot(scope: stats.Scope) -> list[dict[str, Any]]:
    """热点 as the dashboard lists them; for an agency, only what it holds itself."""
    # An agency's own share of each group decides whether it is hot for it: all groups are read.
    issues = hot_issues(db_session(), now(), limit=None if scope.agency_id is not None else HOT_LIMIT)
    if scope.agency_id is not None:
        issues = [issue.only(lambda t: t.agency_id == scope.agency_id) for issue in issues]
        issues = [issue for issue in issues if issue.residents >= HOT_MIN_RESIDENTS]
    return [
        {
            "count": issue.residents,
            "text": issue.tickets[0].text[:80],
            "districts": sorted({t.district.name for t in issue.tickets if t.district}),
            "numbers": [t.number for t in issue.tickets],
        }
        for issue in issues[:HOT_LIMIT]
    ]


@bp.get("/")
@roles_required(*VIEWERS)
def index():
    user = current_staff()
    scope_of(user)
    return render_template(
        "dashboard/index.html",
        periods=stats.PERIODS,
        days=_period(),
        agency=user.agency if user.role is Role.AGENCY else None,
        ticket_endpoint="agency.ticket" if user.role is Role.AGENCY else "desk.ticket",
        script_texts=script_texts(),
    )


def script_texts() -> dict[str, str]:
    """What dashboard.js writes itself, in the reader's language."""
    return {
        "other": gettext("其他"),
        "none": gettext("没有。"),
        "no_hot": gettext("暂无热点。"),
        "count": gettext("%(n)s 人"),
        "schematic": gettext("示意图，非标准区划边界"),
        # %(n)s: the change of a rate, in percentage points.
        "points": gettext("%(n)s 个百分点"),
        "before": gettext("上期：%(from)s 至 %(to)s"),
        "districts": gettext("区县"),
        "tickets": gettext("工单"),
        # %(from)s, %(to)s and %(days)s are filled in by the script.
        "period": gettext("统计区间：%(from)s 至 %(to)s（近 %(days)s 天）"),
        "login_expired": gettext("登录已过期，请刷新页面后重新登录。"),
        "load_failed": gettext("数据加载失败，请刷新页面重试。"),
    }


def _labels_translated(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures' own labels (states, channels, 未确定) in the reader's
    language; names of agencies, districts and topics stay as stored."""
    translated = set(stats.CHANNEL_LABELS.values()) | {stats.UNKNOWN}

    def label(name: str) -> str:
        return gettext(name) if name in translated else name

    for dimension in figures["by"].values():
        for entry in (*dimension["series"], *dimension["totals"]):
            entry["name"] = label(entry["name"])
    for key in ("overdue", "soon"):
        for row in figures["due"][key]:
            row.update(status=gettext(row["status"]), which=gettext(row["which"]),
                       agency=label(row["agency"]), topic=label(row["topic"]))
    for point in figures["places"]["points"]:
        point["topic"] = label(point["topic"])
    return figures


# A day's link carries this in place of the day; the script puts the day in.
DAY = "DAY"


def with_links(figures: dict[str, Any], scope: stats.Scope) -> dict[str, Any]:
    """Every figure a chart draws gets the ticket list that counts it: ``url``
    for the period, and for a series ``day_url`` (with DAY for the day)."""
    since, until = (date.fromisoformat(figures["period"][end]) for end in ("from", "to"))
    figures["url"] = list_url(chart_filter(None, None, since, until, scope))
    for dimension, data in figures["by"].items():
        for entry in (*data["series"], *data["totals"]):
            chosen = chart_filter(dimension, entry.pop("key"), since, until, scope)
            entry["url"] = list_url(chosen)
            if "counts" in entry:
                entry["day_url"] = url_for("tickets.index", **{**list_args(chosen), "since": DAY, "until": DAY})
    for district in figures["places"]["districts"]:
        district["url"] = list_url(chart_filter("district", district.pop("key"), since, until, scope))
    return figures


def _compared_translated(compared: dict[str, Any]) -> dict[str, Any]:
    for row in compared["figures"]:
        row["name"] = gettext(row["name"])
    return compared


@bp.get("/data")
@roles_required(*VIEWERS)
def data():
    scope = scope_of(current_staff())
    days, moment = _period(), now()
    figures = stats.dashboard(db_session(), moment, days, scope)
    figures["hot"] = hot(scope)
    figures["compared"] = _compared_translated(comparison.period_on_period(db_session(), moment, days, scope))
    return jsonify(_labels_translated(with_links(figures, scope)))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
