"""The JSON API: ``/api/v1``. Submissions in, public status out.

A program may identify itself with its key (``Authorization: Bearer <key>``,
issued with ``flask --app admin api-key create``); the API stays open to
callers without one. The rate limit (set up in ``admin.security``) counts per
client: a key's requests against that key, everyone else's against their
address.
"""

from __future__ import annotations

import math
import time

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_limiter import RequestLimit
from werkzeug.exceptions import HTTPException

from routing.clock import now
from routing.flow.lookup import public_status
from routing.store.api_clients import find_client
from routing.store.idempotency import MAX_KEY, KeyReused, request_of

from .context import db_session, services
from .intake import submit, submit_once
from .submissions import SubmissionError, parse_submission
from .throttle import TooManyGuesses, find_with_code
from .web import status_url

bp = Blueprint("api", __name__, url_prefix="/api/v1")

def error(status: int, message: str, field: str | None = None):
    body = {"error": message}
    if field:
        body["field"] = field
    return jsonify(body), status


def _bearer_key() -> str | None:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() or None if scheme.lower() == "bearer" else None


def client_identity() -> str:
    """Whom the rate limit counts: the client a valid key names, else the
    caller's address (a wrong key is counted there too, so guessing keys is
    limited like everything else)."""
    if "api_identity" not in g:
        key = _bearer_key()
        client = find_client(db_session(), key) if key else None
        g.api_key_refused = key is not None and client is None
        g.api_identity = f"client:{client.id}" if client else f"address:{request.remote_addr or 'unknown'}"
    return g.api_identity


@bp.before_request
def _check_key():
    client_identity()
    if g.api_key_refused:
        return error(401, "API key 无效或已停用。", "Authorization")
    return None


def too_many_requests(limit: RequestLimit) -> Response:
    """The answer beyond the limit: JSON, saying when to try again."""
    retry_after = max(1, math.ceil(limit.reset_at - time.time()))
    response = jsonify({"error": f"请求过于频繁（上限 {limit.limit}），请 {retry_after} 秒后再试。", "retry_after": retry_after})
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response


@bp.errorhandler(429)
def _too_many(exc: HTTPException):
    # The rate limit made its answer already (too_many_requests); before the site's page.
    return exc.response if exc.response is not None else error(429, "请求过于频繁，请稍后再试。")


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    # JSON clients get JSON errors, also for oversized bodies (413) and bad JSON.
    field = "text" if exc.code == 413 else None
    message = {413: "请求体太大，反映内容请控制在 5000 字以内。"}.get(exc.code or 0, exc.description)
    return error(exc.code or 500, message, field)


@bp.post("/submissions")
def create_submission():
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # arrays nested deeper than the parser goes: no submission is like that
        data = None
    if data is None:
        return error(400, "请求体应为 JSON（Content-Type: application/json）。", "body")
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= MAX_KEY):
        return error(400, f"Idempotency-Key 应为 1–{MAX_KEY} 个字符。", "Idempotency-Key")
    session = db_session()
    try:
        inbound = parse_submission(session, data)
    except SubmissionError as exc:
        return error(400, exc.message, exc.field)
    app_services = services()
    classifier, thresholds = app_services.classifier.current(), {
        "threshold": app_services.threshold, "agency_threshold": app_services.agency_threshold,
    }
    if key is None:
        receipt = submit(session, inbound, classifier, now(), **thresholds)
    else:
        retry = request_of(client_identity(), key, data)
        try:
            receipt = submit_once(
                session, inbound, retry, classifier, now(), hours=current_app.config["IDEMPOTENCY_HOURS"], **thresholds
            )
        except KeyReused:
            return error(
                422,
                "这个 Idempotency-Key 已用于另一份内容：重试请发送与第一次相同的请求体，新的反映请换一个新的 Idempotency-Key。",
                "Idempotency-Key",
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
    try:
        ticket = find_with_code(db_session(), number, request.args.get("code"))
    except TooManyGuesses as exc:
        # Said as the rate limit says it (retry_after), so a client handles one kind of 429.
        response = jsonify({"error": exc.message, "field": "code", "retry_after": exc.seconds})
        response.headers["Retry-After"] = str(exc.seconds)
        return response, 429
    if ticket is None:
        return error(404, "没有找到这张工单，请核对工单号和查询码。")
    return jsonify(public_status(ticket))
