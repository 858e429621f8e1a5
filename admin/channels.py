"""The administrators' page of outbound channels (外发渠道): which are on
(and which settings an off one lacks), a test message to a recipient, the
channel each agency chose for its staff notices, and the latest messages."""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select

from collector.context import db_session
from collector.outbound.registry import channel_classes
from collector.staff_notify import active_channels, send_test
from routing.clock import now
from routing.store.contacts import CHANNEL_KINDS, AgencyChannel, ContactError, recent_messages, set_agency_channel
from routing.store.people import Agency, Role

from .auth import roles_required

bp = Blueprint("channels", __name__, url_prefix="/admin/channels")


def _rows(config) -> list[dict]:
    on = active_channels()
    return [
        {
            "name": cls.name,
            "label": gettext(cls.label),
            "on": cls.name in on,
            "missing": [s for s in getattr(cls, "required_settings", ()) if not config.get(s)],
        }
        for cls in channel_classes()
    ]


def _page(status: int = 200):
    from flask import current_app

    session = db_session()
    agencies = list(session.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.id)))
    chosen = {c.agency_id: c for c in session.scalars(select(AgencyChannel))}
    labels = {cls.name: gettext(cls.label) for cls in channel_classes()}
    return render_template(
        "admin/channels.html",
        channels=_rows(current_app.config),
        agencies=agencies,
        chosen=chosen,
        kinds=[(k, labels.get(k, k)) for k in CHANNEL_KINDS],
        channel_names=labels,
        messages=recent_messages(session),
    ), status


@bp.get("/")
@roles_required(Role.ADMIN)
def index():
    return _page()


@bp.post("/test")
@roles_required(Role.ADMIN)
def test():
    session = db_session()
    try:
        record = send_test(
            session,
            active_channels(),
            request.form.get("channel", ""),
            request.form.get("recipient", ""),
            request.form.get("secret", ""),
            now(),
        )
    except ValueError as exc:
        flash(str(exc), "error")
        return _page(400)
    session.commit()
    if record.result == "sent":
        flash(gettext("测试消息已发出。"), "success")
    else:
        flash(gettext("发送失败：%(error)s", error=record.error), "error")
    return redirect(url_for("channels.index"))


@bp.post("/agency")
@roles_required(Role.ADMIN)
def agency():
    session = db_session()
    agency_id = request.form.get("agency", "")
    try:
        set_agency_channel(
            session,
            int(agency_id) if agency_id.isdigit() else 0,
            request.form.get("kind", ""),
            request.form.get("address", ""),
            request.form.get("secret", ""),
            now(),
        )
    except ContactError as exc:
        session.rollback()
        flash(str(exc), "error")
        return _page(400)
    session.commit()
    flash(gettext("已保存承办单位的通知渠道。"), "success")
    return redirect(url_for("channels.index"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
