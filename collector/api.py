"""The JSON API: ``/api/v1``. Submissions in, public status out."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import HTTPException

from routing.clock import now
from routing.tickets import find_for_resident, public_status

from .context import db_session, services
from .intake import submit
from .submissions import SubmissionError, parse_submission
from .web import status_url

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_IDEMPOTENCY_KEY = 128


def error(status: int, message: str, field: str | None = None):
    body = {"error": message}
    if field:
        body["field"] = field
    return jsonify(body), status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    # JSON clients get JSON errors, also for oversized bodies (413) and bad JSON.
    field = "text" if exc.code == 413 else None
    message = {413: "请求体太大，反映内容请控制在 5000 字以内。"}.get(exc.code or 0, exc.description)
    return error(exc.code or 500, message, field)


@bp.post("/submissions")
def create_submission():
    data = request.get_json(silent=True)
    if data is None:
        return error(400, "请求体应为 JSON（Content-Type: application/json）。", "body")
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= MAX_IDEMPOTENCY_KEY):
        return error(400, f"Idempotency-Key 应为 1–{MAX_IDEMPOTENCY_KEY} 个字符。", "Idempotency-Key")
    session = db_session()
    try:
        inbound = parse_submission(session, data)
    except SubmissionError as exc:
        return error(400, exc.message, exc.field)
    if key is not None:
        inbound = replace(inbound, external_id=key)
    app_services = services()
    receipt = submit(
        session, inbound, app_services.classifier.current(), now(),
        threshold=app_services.threshold, agency_threshold=app_services.agency_threshold,
    )
    ticket = receipt.ticket
    body = {
        "ticket": ticket.number,
        "code": ticket.code,
        "status_url": status_url(ticket),
    }
    return jsonify(body), 201 if receipt.created else 200


@bp.get("/tickets/<number>")
def ticket_status(number: str):
    ticket = find_for_resident(db_session(), number, request.args.get("code"))
    if ticket is None:
        return error(404, "没有找到这张工单，请核对工单号和查询码。")
    return jsonify(public_status(ticket))
