"""Review before the answer goes out, on the pages (审核办结): the desk's queue
of answers waiting for review, where a dispatcher approves one or sends it
back with a reason. The domain is ``routing.flow.answers``."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from collector.context import db_session
from routing.clock import now
from routing.flow import answers
from routing.flow.callback_rules import CallbackRule
from routing.store.people import Role
from routing.store.tickets import Status, Ticket
from routing.texts import N_

from .auth import current_staff, roles_required
from .views import carry_out, flash_errors, ticket_for

bp = Blueprint("reviews", __name__)

DISPATCH = (Role.DISPATCHER, Role.ADMIN)


class ReviewForm(FlaskForm):
    # Required to send back (the workflow insists, with its own message); a note when approving.
    reason = TextAreaField(_l("审核意见（退回时必填）"), validators=[Optional(), Length(max=1000)])


@bp.get("/desk/reviews")
@roles_required(*DISPATCH)
def queue():
    """待审核: answers waiting for review, the answer deadline soonest first."""
    session = db_session()
    tickets = session.scalars(
        select(Ticket).where(Ticket.status == Status.REVIEWING).order_by(Ticket.answer_by, Ticket.id)
    ).all()
    waiting = [(t, answers.pending_answer(session, t)) for t in tickets]
    return render_template("desk/reviews.html", waiting=waiting, form=ReviewForm(), now=now())


@bp.post("/desk/tickets/<number>/review/<any(approve, send_back):decision>")
@roles_required(*DISPATCH)
def review(number: str, decision: str):
    user = current_staff()
    ticket = ticket_for(user, number)
    form = ReviewForm()
    if not form.validate_on_submit():
        flash_errors(form)
    elif decision == "approve":
        carry_out(answers.approve_answer, ticket, user, note=form.reason.data or None,
                  callbacks=CallbackRule.from_config(current_app.config),
                  done=N_("审核通过，答复已告知群众。"))
    else:
        carry_out(answers.send_back_answer, ticket, user, reason=form.reason.data or "",
                  done=N_("已退回承办单位重新答复，答复时限照常计算。"))
    return redirect(url_for("reviews.queue"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
