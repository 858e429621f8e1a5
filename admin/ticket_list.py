"""The ticket list (工单查询): filter every ticket one may see, sort and page
through them, export them as CSV or XLSX in the same order — with residents'
contact data for the centre's staff granted it. Dispatchers see all; agency
staff their own."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from collector.context import db_session
from routing.clock import now
from routing.flow import bulk
from routing.flow.lookup import find_by_number
from routing.flow.steps import DISPATCH, PermissionDenied, WorkflowError
from routing.reports import contact_export
from routing.reports.listing import (
    PAGE_SIZE,
    SORT_KEYS,
    TicketFilter,
    TicketOrder,
    count_tickets,
    export_rows,
    export_tickets,
    find_tickets,
)
from routing.reports.stats import CHANNEL_LABELS
from routing.store.areas import District
from routing.store.people import Agency, Role
from routing.store.privacy import CONTACT_EXPORT_ROLES, may_export_contact
from routing.store.tickets import Status, Ticket
from routing.texts import N_

from .auth import current_staff, roles_required
from .params import in_range, whole_number

# Far beyond any list's last page; an offset past it would overflow the database's LIMIT.
MAX_PAGE = 100_000
from collector.translate import error_text

from .dashboard import VIEWERS, scope_of
from .exports import CSV, XLSX, attachment, to_csv, to_xlsx
from .list_links import COUNTED_VALUE, UNSET_VALUE

bp = Blueprint("tickets", __name__, url_prefix="/tickets")

ANY = N_("（全部）")
UNSET = N_("（未确定）")
COUNTED = N_("（全部，不含无效）")


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    status = SelectField(_l("状态"), validators=[Optional()])
    topic = SelectField(_l("分类"), validators=[Optional()])
    agency = SelectField(_l("承办单位"), validators=[Optional()])
    district = SelectField(_l("区县"), validators=[Optional()])
    channel = SelectField(_l("渠道"), validators=[Optional()])
    since = DateField(_l("受理日期从"), validators=[Optional(), in_range])
    until = DateField(_l("至"), validators=[Optional(), in_range])
    words = StringField(_l("内容包含"), validators=[Optional(), Length(max=100)])


def filter_form() -> FilterForm:
    session = db_session()
    scope = scope_of(current_staff())
    form = FilterForm(request.args)
    any_ = ("", _(ANY))
    unset = (UNSET_VALUE, _(UNSET))
    form.status.choices = [any_, (COUNTED_VALUE, _(COUNTED))] + [(s.value, _(s.label)) for s in Status]
    topics = session.scalars(select(Ticket.topic).where(Ticket.topic.is_not(None), *scope.where()).distinct())
    form.topic.choices = [any_] + [(t, t) for t in sorted(topics)] + [unset]
    agencies = session.scalars(select(Agency).order_by(Agency.id))
    form.agency.choices = [any_] + [(str(a.id), a.name) for a in agencies] + [unset]
    districts = session.scalars(select(District).order_by(District.id))
    form.district.choices = [any_] + [(str(d.id), d.name) for d in districts] + [unset]
    form.channel.choices = [any_] + [(key, _(label)) for key, label in CHANNEL_LABELS.items()]
    return form


def ticket_filter(form: FilterForm) -> TicketFilter:
    if not form.validate():
        abort(400, description=_("筛选条件不对：") + "；".join(str(e) for errors in form.errors.values() for e in errors))
    status, topic, agency, district = (f.data or None for f in (form.status, form.topic, form.agency, form.district))
    return TicketFilter(
        status=Status(status) if status and status != COUNTED_VALUE else None,
        topic=topic if topic != UNSET_VALUE else None,
        agency_id=int(agency) if agency and agency != UNSET_VALUE else None,
        district_id=int(district) if district and district != UNSET_VALUE else None,
        channel=form.channel.data or None,
        since=form.since.data,
        until=form.until.data,
        words=(form.words.data or "").strip() or None,
        unset=frozenset(name for name, value in (("topic", topic), ("agency", agency), ("district", district))
                        if value == UNSET_VALUE),
        counted=status == COUNTED_VALUE,
    )


class BulkForm(FlaskForm):
    """批量处理: one step for the tickets ticked on the list."""

    action = SelectField(
        _l("批量操作"),
        choices=[SelectChoice(k, _l(v)) for k, v in bulk.BULK_STEPS.items()],
        validators=[DataRequired(_l("请选择操作。"))],
    )
    agency = SelectField(_l("派给承办单位"), validators=[Optional()])
    into = StringField(_l("合并到工单号"), validators=[Optional(), Length(max=20)])
    reason = TextAreaField(_l("理由（标记无效时必填）"), validators=[Optional(), Length(max=1000)])
    back = HiddenField()


def bulk_form() -> BulkForm:
    form = BulkForm()
    agencies = db_session().scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.id))
    form.agency.choices = [SelectChoice("", _("（请选择）"))] + [SelectChoice(str(a.id), a.name) for a in agencies]
    return form


def _page() -> int:
    raw = request.args.get("page", "1")
    try:
        return max(1, whole_number(raw, high=MAX_PAGE))
    except ValueError:
        return 1


def _order() -> TicketOrder:
    return TicketOrder.parse(request.args.get("sort"), request.args.get("dir"))


def _filter_args() -> dict[str, str]:
    """The filter as query parameters, for links that keep it."""
    return {k: v for k, v in request.args.items() if k not in ("page", "sort", "dir") and v}


@dataclass(frozen=True)
class SortHeader:
    """A column header's link, and whether the list is sorted by it."""

    href: str
    aria: str | None  # aria-sort of the column sorted by, none elsewhere
    arrow: str
    title: str


def sort_headers(order: TicketOrder, filter_args: dict[str, str]) -> dict[str, SortHeader]:
    """Each sortable column's header: a link (back to the first page) keeping the filter."""
    headers = {}
    for key in SORT_KEYS:
        target = order.toggled(key)
        active = key == order.key
        headers[key] = SortHeader(
            href=url_for("tickets.index", **filter_args, **target.args()),
            aria=("ascending" if order.direction == "asc" else "descending") if active else None,
            arrow=("↑" if order.direction == "asc" else "↓") if active else "",
            title=_("按此列升序排列") if target.direction == "asc" else _("按此列降序排列"),
        )
    return headers


@bp.get("/")
@roles_required(*VIEWERS)
def index():
    user = current_staff()
    form = filter_form()
    chosen = ticket_filter(form)
    scope = scope_of(user)
    page, order, filter_args = _page(), _order(), _filter_args()
    total = count_tickets(db_session(), chosen, scope)
    # Paging and exports keep the filter and the order.
    args = {**filter_args, **order.args()}
    bulk_actions = None
    if user.role in DISPATCH:
        bulk_actions = bulk_form()
        bulk_actions.back.data = request.full_path
    return render_template(
        "tickets/list.html",
        form=form,
        tickets=find_tickets(db_session(), chosen, scope, page=page, size=PAGE_SIZE, order=order),
        order=order,
        sorting=sort_headers(order, filter_args),
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        args=args,
        is_agency=user.role is Role.AGENCY,
        ticket_endpoint="agency.ticket" if user.role is Role.AGENCY else "desk.ticket",
        now=now(),
        bulk_form=bulk_actions,
        contact_export=may_export_contact(user, dispatcher_sees=current_app.config["DISPATCHER_SEES_CONTACT"]),
        export_max_rows=current_app.config["EXPORT_MAX_ROWS"],
    )


def _back(target: str | None) -> str:
    # Back to the list as it was filtered, and never anywhere else.
    if target and target.startswith("/tickets/") and "//" not in target:
        return target
    return url_for("tickets.index")


@bp.post("/bulk")
@roles_required(*DISPATCH)
def bulk_action():
    """Apply one step to the ticked tickets; say what was done and what failed, and why."""
    form = bulk_form()
    numbers = bulk.unique_numbers(request.form.getlist("number"))
    back = _back(form.back.data)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(back)
    if not numbers:
        flash(_("请先勾选要处理的工单。"), "error")
        return redirect(back)
    try:
        outcome = _apply(form, numbers)
    except WorkflowError as exc:
        db_session().rollback()
        flash(error_text(exc), "error")
        return redirect(back)
    db_session().commit()
    _report(form.action.data, outcome)
    return redirect(back)


def _apply(form: BulkForm, numbers: list[str]) -> bulk.BulkOutcome:
    session, user, reason = db_session(), current_staff(), (form.reason.data or "").strip() or None
    if form.action.data == "assign":
        agency = session.get(Agency, int(form.agency.data)) if form.agency.data.isdigit() else None
        if agency is None:
            raise WorkflowError(N_("请选择要派给的承办单位。"))
        return bulk.assign_all(session, numbers, agency, user, now(), reason)
    if form.action.data == "merge":
        wanted = (form.into.data or "").strip()
        into = find_by_number(session, wanted) if wanted else None
        if into is None:
            if not wanted:
                raise WorkflowError(N_("请填写要合并到的工单号。"))
            raise WorkflowError(N_("没有找到工单 %(number)s，请核对要合并到的工单号。"), number=wanted)
        return bulk.merge_all(session, numbers, into, user, now(), reason)
    if reason is None:
        raise WorkflowError(N_("标记无效须填写理由。"))
    return bulk.invalidate_all(session, numbers, user, now(), reason)


def _report(action: str, outcome: bulk.BulkOutcome) -> None:
    label = _(bulk.BULK_STEPS[action])
    if outcome.done:
        flash(_("%(step)s：已处理 %(n)s 件（%(numbers)s）。", step=label, n=len(outcome.done), numbers="、".join(outcome.done)))
    if outcome.failed:
        reasons = "；".join(f"{number}：{error_text(error)}" for number, error in outcome.failed)
        flash(_("%(step)s：%(n)s 件未能处理 —— %(reasons)s", step=label, n=len(outcome.failed), reasons=reasons), "error")


@bp.get("/export.<any(csv, xlsx):fmt>")
@roles_required(*VIEWERS)
def export(fmt: str):
    chosen = ticket_filter(filter_form())
    rows = export_rows(export_tickets(db_session(), chosen, scope_of(current_staff()), _order()))
    stamp = f"{now():%Y%m%d-%H%M}"
    if fmt == "csv":
        return attachment(to_csv(rows), CSV, f"tickets-{stamp}.csv")
    return attachment(to_xlsx(rows), XLSX, f"tickets-{stamp}.xlsx")


@bp.get("/export-contacts.<any(csv, xlsx):fmt>")
@roles_required(*CONTACT_EXPORT_ROLES)
def export_contacts(fmt: str):
    """导出个人信息: the same list with residents' contact data, for those granted it."""
    user = current_staff()
    chosen = ticket_filter(filter_form())
    try:
        made = contact_export.export_contacts(
            db_session(), user, chosen, now(), max_rows=current_app.config["EXPORT_MAX_ROWS"], order=_order(),
            scope=scope_of(user), dispatcher_sees=current_app.config["DISPATCHER_SEES_CONTACT"],
            address=request.remote_addr, file_format=fmt,
        )
    except PermissionDenied as exc:
        abort(403, description=error_text(exc))
    except contact_export.ExportRefused as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("tickets.index", **_filter_args(), **_order().args()))
    if fmt == "csv":
        body, mimetype = to_csv(made.rows, made.stamp), CSV
    else:
        body, mimetype = to_xlsx(made.rows, "工单（含个人信息）", made.stamp), XLSX
    # Logged once the file is made: an export that failed on the way is no export.
    db_session().commit()
    return attachment(body, mimetype, f"tickets-contacts-{made.stamp.at:%Y%m%d-%H%M}.{fmt}")


def export_url(fmt: str, args: dict[str, str], contacts: bool = False) -> str:
    return url_for("tickets.export_contacts" if contacts else "tickets.export", fmt=fmt, **args)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["export_url"] = export_url
