"""Assignment disputes on the pages (派单争议): the agency's form next to 签收
and 退回, the dispatcher's ruling on the desk's ticket page, and the queue of
disputes waiting for a ruling. The domain is ``routing.flow.disputes``."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from collector.context import db_session
from routing.clock import now
from routing.flow import disputes
from routing.reports.disputes import open_disputes
from routing.store.people import Agency, Role
from routing.store.tickets import Status, Ticket
from routing.texts import N_

from .auth import current_staff, roles_required
from .views import carry_out, flash_errors, ticket_for

bp = Blueprint("disputes", __name__)

DISPATCH = (Role.DISPATCHER, Role.ADMIN)


class DisputeForm(FlaskForm):
    reason_class = RadioField(
        _l("争议理由"), choices=[SelectChoice(value, _l(label)) for value, label in disputes.DISPUTE_REASONS.items()],
        validators=[DataRequired(_l("请选择争议理由。"))],
    )
    basis = TextAreaField(
        _l("依据（法规条款、文件文号等）"), validators=[DataRequired(_l("请填写争议依据。")), Length(max=1000)]
    )
    proposed = SelectField(_l("建议的责任单位（选填）"), validators=[Optional()])


class RulingForm(FlaskForm):
    agency = SelectField(_l("改派至"), validators=[Optional()])
    reason = TextAreaField(_l("裁定理由"), validators=[Optional(), Length(max=1000)])


def _active_agencies(session: Session) -> list[Agency]:
    return list(session.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.id)))


def dispute_form(ticket: Ticket) -> DisputeForm:
    form = DisputeForm()
    others = [a for a in _active_agencies(db_session()) if a.id != ticket.agency_id]
    form.proposed.choices = [("", gettext("（不确定）"))] + [(str(a.id), a.name) for a in others]
    return form


def ruling_form(ticket: Ticket) -> RulingForm:
    """The ruling's choices: the agency the dispute proposed first, then the
    district's fallback agency (兜底单位), then every other active agency."""
    form = RulingForm()
    session = db_session()
    disputed = disputes.last_event(ticket, "dispute")
    proposed_id = ((disputed.detail or {}) if disputed else {}).get("proposed_id")
    fallback_id = ticket.district.fallback_agency_id if ticket.district else None
    choices = [("", gettext("请选择"))]
    for agency in sorted(_active_agencies(session), key=lambda a: (a.id != proposed_id, a.id != fallback_id, a.id)):
        if agency.id == ticket.agency_id:
            continue
        mark = gettext("（争议单位建议）") if agency.id == proposed_id else ""
        mark += gettext("（兜底单位）") if agency.id == fallback_id else ""
        choices.append((str(agency.id), agency.name + mark))
    form.agency.choices = choices
    if proposed_id is not None and form.agency.data is None:
        form.agency.data = str(proposed_id)
    return form


def agency_forms(ticket: Ticket) -> dict:
    """What the agency's ticket page needs for disputing: the form, while it may."""
    if not disputes.may_dispute(ticket, now()):
        return {}
    return {"dispute_form": dispute_form(ticket)}


def desk_forms(ticket: Ticket) -> dict:
    """What the desk's ticket page needs: the ruling form while the ticket is
    disputed; after an upheld ruling, the way to a routing rule made from it."""
    if ticket.status is Status.DISPUTED:
        return {"ruling_form": ruling_form(ticket), "dispute": disputes.last_event(ticket, "dispute")}
    if disputes.upheld_ruling(ticket) is not None:
        return {"rule_from_ruling": url_for("rules.new", ticket=ticket.number)}
    return {}


@bp.post("/agency/tickets/<number>/dispute")
@roles_required(Role.AGENCY)
def dispute(number: str):
    user = current_staff()
    ticket = ticket_for(user, number)
    form = dispute_form(ticket)
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(url_for("agency.ticket", number=number))
    proposed = db_session().get(Agency, int(form.proposed.data)) if form.proposed.data else None
    if carry_out(
        disputes.dispute, ticket, user, reason_class=form.reason_class.data, basis=form.basis.data,
        proposed=proposed, ruling_hours=current_app.config["DISPUTE_RULING_HOURS"],
        done=N_("派单争议已提交，等待分拨中心裁定。"),
    ):
        return redirect(url_for("agency.queue"))
    return redirect(url_for("agency.ticket", number=number))


@bp.post("/desk/tickets/<number>/<any(uphold, reject):ruling>")
@roles_required(*DISPATCH)
def rule(number: str, ruling: str):
    user = current_staff()
    ticket = ticket_for(user, number)
    form = ruling_form(ticket)
    if not form.validate_on_submit():
        flash_errors(form)
    elif ruling == "reject":
        carry_out(disputes.reject, ticket, user, reason=form.reason.data or "",
                  done=N_("已裁定争议不成立，工单退回原单位办理。"))
    else:
        agency = db_session().get(Agency, int(form.agency.data)) if form.agency.data else None
        carry_out(disputes.uphold, ticket, user, agency=agency, reason=form.reason.data or None,
                  done=N_("已裁定争议成立，工单已改派。"))
    return redirect(url_for("desk.ticket", number=number))


@bp.get("/desk/disputes")
@roles_required(*DISPATCH)
def queue():
    """派单争议: disputes waiting for a ruling, the ruling deadline soonest first."""
    return render_template(
        "desk/disputes.html",
        disputes=open_disputes(db_session(), now()),
        hours=current_app.config["DISPUTE_RULING_HOURS"],
        reasons=disputes.DISPUTE_REASONS,
        now=now(),
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
