"""Internal notes (内部备注) on the ticket page, for the centre and the agencies
handling the ticket; the work is in ``routing.flow.notes``."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from routing.flow.notes import NOTE_LENGTH, add_internal_note, internal_notes
from routing.store.people import Role
from routing.texts import N_

from .auth import current_staff, roles_required
from .views import carry_out, flash_errors, ticket_for

bp = Blueprint("notes", __name__, url_prefix="/tickets")


class NoteForm(FlaskForm):
    text = TextAreaField(
        _l("内部备注（群众看不到）"),
        validators=[DataRequired(_l("请填写备注内容。")), Length(max=NOTE_LENGTH)],
    )


@bp.post("/<number>/notes")
@roles_required(Role.DISPATCHER, Role.ADMIN, Role.AGENCY)
def add(number: str):
    user = current_staff()
    ticket = ticket_for(user, number)
    form = NoteForm()
    if form.validate_on_submit():
        carry_out(add_internal_note, ticket, user, text=form.text.data, done=N_("备注已保存，只有工作人员能看到。"))
    else:
        flash_errors(form)
    page = "agency.ticket" if user.role is Role.AGENCY else "desk.ticket"
    return redirect(url_for(page, number=number) + "#notes")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["internal_notes"] = internal_notes
    app.jinja_env.globals["NoteForm"] = NoteForm
