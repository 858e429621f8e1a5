"""The organisation from a spreadsheet on the console (组织架构导入,
``/admin/organisation/import``): administrators upload the file the CLI's
``import org`` reads, with the same checks (``routing.store.org_import``);
the page shows every problem, or what would change / what changed, and each
new account's temporary password once."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, Flask, make_response, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField

from collector.context import db_session
from routing.clock import now
from routing.store.org_import import OrgImportError, import_org
from routing.store.people import Role

from .auth import current_staff, roles_required

bp = Blueprint("org_import", __name__, url_prefix="/admin/organisation/import")


class OrgImportForm(FlaskForm):
    upload = FileField(_l("组织架构文件（XLSX，或以表名命名的 CSV）"), validators=[FileRequired(_l("请选择要导入的文件。"))])
    check_only = BooleanField(_l("只检查，不导入"))


def _page(form, status=200, **values):
    response = make_response(render_template("admin/org_import.html", form=form, **values), status)
    response.headers["Cache-Control"] = "no-store"  # a page with temporary passwords is not kept
    return response


@bp.get("/")
@roles_required(Role.ADMIN)
def index():
    return _page(OrgImportForm())


@bp.post("/")
@roles_required(Role.ADMIN)
def upload():
    form = OrgImportForm()
    if not form.validate_on_submit():
        return _page(form, 400, errors=[str(m) for messages in form.errors.values() for m in messages])
    upload = form.upload.data
    name = Path(upload.filename or "upload.xlsx").name
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("upload" + Path(name).suffix.lower())
        upload.save(path)
        try:
            report = import_org(db_session(), path, current_staff(), now(), name=name, check_only=form.check_only.data)
        except OrgImportError as exc:
            db_session().rollback()
            # The checker's lines are Chinese, as the file's own sheets and headers are.
            return _page(form, 400, errors=[str(exc), *exc.errors])
    return _page(OrgImportForm(), report=report)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
