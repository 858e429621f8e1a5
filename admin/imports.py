"""Hotline exports uploaded by dispatchers (热线工单导入): the file is checked
at once, its bad rows and columns shown together, and a good one is
imported by a job (``collector.hotline_runs``); the page lists the runs
with their figures. The CLI's ``import tickets`` does the same at once."""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select

from collector.context import db_session, services
from collector.hotline import COLUMNS, REQUIRED, HotlineImportError
from collector.hotline_runs import start_import
from routing.clock import now
from routing.store.imports import TicketImport
from routing.store.people import Role

from .auth import current_staff, roles_required

bp = Blueprint("imports", __name__)

RUNS_SHOWN = 30


class ImportForm(FlaskForm):
    export = FileField(_l("热线导出文件（XLSX 或 CSV）"), validators=[FileRequired(_l("请选择要导入的文件。"))])


def _page(form: ImportForm, errors: list[str] | None = None, status: int = 200):
    runs = db_session().scalars(select(TicketImport).order_by(TicketImport.id.desc()).limit(RUNS_SHOWN)).all()
    # The file's own headers, named as the file must have them, in any language.
    required = [COLUMNS[c][0] for c in REQUIRED]
    optional = [headers[0] for c, headers in COLUMNS.items() if c not in REQUIRED]
    return render_template(
        "desk/imports.html", form=form, runs=runs, errors=errors or [], required=required, optional=optional
    ), status


@bp.get("/desk/imports")
@roles_required(Role.DISPATCHER, Role.ADMIN)
def imports():
    return _page(ImportForm())


@bp.post("/desk/imports")
@roles_required(Role.DISPATCHER, Role.ADMIN)
def upload():
    form = ImportForm()
    if not form.validate_on_submit():
        return _page(form, [message for messages in form.errors.values() for message in messages], 400)
    export = form.export.data
    try:
        run = start_import(db_session(), export.filename or "", export.read(), current_staff(), now())
    except HotlineImportError as exc:
        db_session().rollback()
        # The checker's lines are Chinese, as the export's own headers are.
        return _page(form, [str(exc), *exc.errors], 400)
    services().wake_worker()
    flash(gettext("文件无误（%(rows)s 行），已开始导入，稍后刷新本页查看结果。", rows=run.rows), "success")
    return redirect(url_for("imports.imports"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
