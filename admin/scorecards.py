"""办理质效: the scorecards page, and the same figures as CSV and Excel.

Dispatchers and administrators see every agency (or pick one); agency staff
see their own agency only. The period is this month, last month, this quarter
or a custom range of days. The filter is a GET form: it changes nothing, so it
carries no CSRF token (which would only leak into the address).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, abort, render_template, request
from openpyxl import Workbook
from sqlalchemy import select

from collector.context import db_session
from routing.clock import now
from routing.reports.deputy_stats import SuggestionScore, suggestion_scores, total
from routing.reports.figures import FIGURES
from routing.reports.scorecard import AgencyScore, Scorecard, month_of, previous_month, quarter_of, scorecard
from routing.store.people import Agency, Role
from routing.texts import N_

from .auth import current_staff, roles_required
from .exports import CSV, XLSX, add_table, attachment, to_csv, workbook_bytes
from .params import id_arg, plausible_date

bp = Blueprint("scorecards", __name__)

VIEWERS = (Role.DISPATCHER, Role.ADMIN, Role.AGENCY)
PERIODS = {"this_month": N_("本月"), "last_month": N_("上月"), "this_quarter": N_("本季度"), "custom": N_("自定义")}
PRESETS: dict[str, Callable[[date], tuple[datetime, datetime]]] = {
    "this_month": month_of,
    "last_month": previous_month,
    "this_quarter": quarter_of,
}
LONGEST = timedelta(days=366)


def _percent(share: float | None) -> float | None:
    return round(share * 100, 1) if share is not None else None


def _one_decimal(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


# The figures, in order: the page's columns and the exports' are the same.
COLUMNS: tuple[tuple[str, Callable[[AgencyScore], Any]], ...] = (
    (N_("承办单位"), lambda s: s.agency),
    (N_("派单数"), lambda s: s.assigned),
    (N_("按时签收"), lambda s: s.accepted_on_time),
    (N_("超时签收"), lambda s: s.accepted_late),
    (N_("按时签收率(%)"), lambda s: _percent(s.accept_rate)),  # 响应率 (figures.ACCEPT_RATE)
    (N_("按时答复"), lambda s: s.answered_on_time),
    (N_("超时答复"), lambda s: s.answered_late),
    (N_("按时答复率(%)"), lambda s: _percent(s.answer_rate)),
    (N_("评价数"), lambda s: s.rated),
    (N_("满意及基本满意"), lambda s: s.satisfied),
    (N_("回访联系上"), lambda s: s.callbacks_reached),
    (N_("回访已解决"), lambda s: s.callbacks_solved),
    (N_("回访满意"), lambda s: s.callbacks_satisfied),
    (N_("解决率(%)"), lambda s: _percent(s.solved_rate)),
    (N_("满意率(%)"), lambda s: _percent(s.satisfaction_rate)),
    (N_("平均办理时长(小时)"), lambda s: _one_decimal(s.average_handling_hours)),
    (N_("平均办理时长(工作日)"), lambda s: _one_decimal(s.average_handling_working_days)),
    (N_("退回"), lambda s: s.returns),
    (N_("转办"), lambda s: s.transfers),
    (N_("派单争议"), lambda s: s.disputes),
    (N_("争议成立"), lambda s: s.disputes_upheld),
    (N_("争议不成立"), lambda s: s.disputes_rejected),
    (N_("争议成立率(%)"), lambda s: _percent(s.dispute_upheld_rate)),
    (N_("退单率(%)"), lambda s: _percent(s.return_rate)),
    (N_("答复次数"), lambda s: s.answers),
    (N_("重办"), lambda s: s.redos),
    (N_("重办率(%)"), lambda s: _percent(s.redo_rate)),
    (N_("当前超期"), lambda s: s.overdue),
)


@dataclass(frozen=True)
class Query:
    """What the person asked for, checked: the period and the agency."""

    period: str
    start: datetime
    end: datetime  # exclusive
    agency_id: int | None
    error: str | None = None  # a marked text; the page adds that it shows this month instead

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()


def _day(text: str | None) -> date | None:
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return day if plausible_date(day) else None


def _period(args: Any, today: date) -> tuple[str, datetime, datetime, str | None]:
    period = args.get("period", "this_month")
    if period in PRESETS:
        return (period, *PRESETS[period](today), None)
    if period == "custom":
        first, last = _day(args.get("start")), _day(args.get("end"))
        if first is None or last is None:
            error = N_("请选择起止日期。")
        elif last < first:
            error = N_("结束日期不能早于开始日期。")
        elif last - first >= LONGEST:
            error = N_("自定义区间最长一年。")
        else:
            return period, datetime.combine(first, datetime.min.time()), datetime.combine(last + timedelta(days=1), datetime.min.time()), None
        return ("this_month", *month_of(today), error)
    return ("this_month", *month_of(today), None)


def _agency(args: Any) -> int | None:
    """Agency staff: their own agency, never another; dispatchers: any, or all."""
    user = current_staff()
    asked = id_arg(args, "agency")
    if user.role is Role.AGENCY:
        if user.agency_id is None or (asked is not None and asked != user.agency_id):
            abort(403)
        return user.agency_id
    return asked


def read_query(today: date) -> Query:
    period, start, end, error = _period(request.args, today)
    return Query(period, start, end, _agency(request.args), error)


def _card(query: Query) -> Scorecard:
    return scorecard(db_session(), query.start, query.end, now(), agency_id=query.agency_id)


def table(card: Scorecard) -> list[list[Any]]:
    """The rows as the exports write them: one per agency, then the total if there are several."""
    rows = list(card.rows)
    if len(rows) > 1:
        rows.append(card.total)
    return [[value(score) for _, value in COLUMNS] for score in rows]


def _filename(query: Query, extension: str) -> str:
    return f"办理质效_{query.start:%Y-%m-%d}_{query.last_day:%Y-%m-%d}.{extension}"


@bp.get("/scorecards")
@roles_required(*VIEWERS)
def page():
    query = read_query(now().date())
    user = current_staff()
    agencies = _agency_choices()
    card = _card(query)
    return render_template(
        "scorecards/page.html",
        figures=FIGURES,
        query=query,
        card=card,
        headers=[label for label, _ in COLUMNS],
        rows=table(card),
        periods=PERIODS,
        agencies=agencies,
        own_agency=user.agency if user.role is Role.AGENCY else None,
        export_args={k: v for k, v in request.args.items() if k in ("period", "start", "end", "agency")},
    )


@bp.get("/scorecards.csv")
@roles_required(*VIEWERS)
def export_csv():
    query = read_query(now().date())
    rows = [[label for label, _ in COLUMNS]]
    rows += [["" if v is None else v for v in row] for row in table(_card(query))]
    return attachment(to_csv(rows), CSV, _filename(query, "csv"))


@bp.get("/scorecards.xlsx")
@roles_required(*VIEWERS)
def export_xlsx():
    query = read_query(now().date())
    workbook = Workbook(write_only=True)
    # The agency's name stays in view when scrolling right through the figures.
    add_table(workbook, "办理质效", [[label for label, _ in COLUMNS], *table(_card(query))], frozen_columns=1)
    about = workbook.create_sheet("说明")
    about.append(["统计区间", f"{query.start:%Y-%m-%d} 至 {query.last_day:%Y-%m-%d}"])
    about.append(["统计时间", f"{now():%Y-%m-%d %H:%M}"])
    return attachment(workbook_bytes(workbook), XLSX, _filename(query, "xlsx"))


# -- 代表建议办理统计 ------------------------------------------------------------------

SUGGESTION_COLUMNS: tuple[tuple[str, Callable[[SuggestionScore], Any]], ...] = (
    (N_("承办单位"), lambda s: s.agency),
    (N_("建议数"), lambda s: s.suggestions),
    (N_("已办结"), lambda s: s.concluded),
    (N_("办结率(%)"), lambda s: _percent(s.conclusion_rate)),
    (N_("已面商"), lambda s: s.consulted),
    (N_("面商率(%)"), lambda s: _percent(s.consultation_rate)),
    (N_("代表评价数"), lambda s: s.rated),
    (N_("满意及基本满意"), lambda s: s.satisfied),
    (N_("满意率(%)"), lambda s: _percent(s.satisfaction_rate)),
)


def suggestion_table(query: Query) -> list[list[Any]]:
    """One row per agency, then the total if there are several."""
    scores = suggestion_scores(db_session(), query.start, query.end, agency_id=query.agency_id)
    if len(scores) > 1:
        scores.append(total(scores))
    return [[value(score) for _, value in SUGGESTION_COLUMNS] for score in scores]


def _agency_choices() -> list:
    if current_staff().role is Role.AGENCY:
        return []
    return list(db_session().execute(select(Agency.id, Agency.name).order_by(Agency.id)))


@bp.get("/scorecards/deputy-suggestions")
@roles_required(*VIEWERS)
def deputy_suggestions():
    """办结率, 面商率, 满意率 of deputies' suggestions, per agency."""
    query = read_query(now().date())
    user = current_staff()
    return render_template(
        "scorecards/deputy_suggestions.html",
        query=query,
        headers=[label for label, _ in SUGGESTION_COLUMNS],
        rows=suggestion_table(query),
        periods=PERIODS,
        agencies=_agency_choices(),
        own_agency=user.agency if user.role is Role.AGENCY else None,
        export_args={k: v for k, v in request.args.items() if k in ("period", "start", "end", "agency")},
    )


@bp.get("/scorecards/deputy-suggestions.csv")
@roles_required(*VIEWERS)
def deputy_suggestions_csv():
    query = read_query(now().date())
    rows = [[label for label, _ in SUGGESTION_COLUMNS]]
    rows += [["" if v is None else v for v in row] for row in suggestion_table(query)]
    return attachment(to_csv(rows), CSV, f"代表建议办理_{query.start:%Y-%m-%d}_{query.last_day:%Y-%m-%d}.csv")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
