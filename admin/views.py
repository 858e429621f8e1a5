"""What the staff views share: loading a ticket for the person asking, and
carrying out a workflow step with one commit and a clear answer."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash
from flask_babel import gettext
from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError

from collector.context import db_session
from collector.translate import error_text
from routing.clock import now
from routing.flow.lookup import find_by_number
from routing.flow.steps import WorkflowError, can_see
from routing.store.people import User
from routing.store.tickets import Ticket
from routing.texts import N_

STALE = N_("这张工单刚刚被其他人处理过，请查看最新状态后再操作。")


def ticket_for(user: User, number: str) -> Ticket:
    """The ticket, if this person may see it. Otherwise 404, so that nobody
    learns which numbers exist in other agencies' queues."""
    ticket = find_by_number(db_session(), number)
    if ticket is None or not can_see(user, ticket):
        abort(404, description=gettext("没有找到这张工单。"))
    return ticket


def carry_out(step: Callable[..., object], *args: object, done: str, **kwargs: object) -> bool:
    """Run one workflow step on the request's session and commit it; ``done``
    is a marked text (N_), said in the reader's language."""
    session = db_session()
    try:
        step(session, *args, now(), **kwargs)
        session.commit()
    except WorkflowError as exc:
        session.rollback()
        flash(error_text(exc), "error")
        return False
    except StaleDataError:
        session.rollback()
        flash(gettext(STALE), "error")
        return False
    flash(gettext(done))
    return True


def flash_errors(form: FlaskForm) -> None:
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "error")  # a lazy text is not stored in the session as such
