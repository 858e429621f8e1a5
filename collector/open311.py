"""Open311 GeoReport v2 (``/open311/v2``): the city's service types, service
requests in and their state out, as XML or JSON by the path's suffix.

A thin layer over intake and the lookups: a request raised here goes through
``collector.intake.submit`` like every channel's (stored once, classified,
routed, checked for duplicates). Creating a request needs an API key
(``api_key``, issued with ``flask --app admin api-key create``); reading does
not. Errors are the specification's ``errors``; nothing is stored when a
request is refused.
"""

from __future__ import annotations

import math
import time

from flask import Blueprint, Response, current_app, g, request, url_for
from flask_limiter import RequestLimit
from werkzeug.exceptions import HTTPException

from classifier import shipped_corpus
from routing.clock import now
from routing.store.api_clients import find_client
from routing.store.people import ApiClient

from .context import db_session, services
from .intake import submit
from .open311_format import DEFAULT_FORMAT, MIMETYPES, errors, render
from .open311_intake import Open311Error, notice, parse_request
from .open311_requests import as_request, find_request, find_requests, parse_query
from .open311_services import Catalogue
from .web import status_url

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this endpoint's interface last changed (the discovery's changeset).
CHANGESET = "2026-12-02T00:00:00+08:00"


def request_format() -> str:
    """The format the path asks for (``….json``), else the specification's XML."""
    suffix = request.path.rsplit(".", 1)[-1]
    return suffix if "." in request.path and suffix in MIMETYPES else DEFAULT_FORMAT


def asked() -> bool:
    """Whether the request is Open311's, though no route of it may match
    (an unknown path or method there is answered by the application)."""
    return request.path.startswith(bp.url_prefix + "/")


def error(status: int, description: str) -> Response:
    """The specification's errors, in the format the path asks for."""
    return errors(request_format(), status, description)


def _format(fmt: str) -> str:
    if fmt not in MIMETYPES:
        raise Open311Error(400, "格式只能是 .xml 或 .json。")
    return fmt


def catalogue() -> Catalogue:
    """The topics the active model knows; the shipped corpus's before any model is trained."""
    model = services().classifier.current().model
    return Catalogue.of(model.labels if model is not None else sorted(set(shipped_corpus().labels)))


def api_client() -> ApiClient | None:
    """The client whose ``api_key`` came with the request, once per request."""
    if "open311_client" not in g:
        key = request.values.get("api_key")
        g.open311_client = find_client(db_session(), key) if key else None
    return g.open311_client


def client_identity() -> str:
    """Whom the rate limit counts: the client a valid key names, else the address."""
    client = api_client()
    return f"client:{client.id}" if client else f"address:{request.remote_addr or 'unknown'}"


def too_many_requests(limit: RequestLimit) -> Response:
    retry_after = max(1, math.ceil(limit.reset_at - time.time()))
    response = error(429, f"请求过于频繁（上限 {limit.limit}），请 {retry_after} 秒后再试。")
    response.headers["Retry-After"] = str(retry_after)
    return response


@bp.before_request
def _jurisdiction():
    # One city per installation: a client naming another jurisdiction has the wrong endpoint.
    served, given = current_app.config["OPEN311_JURISDICTION"], request.values.get("jurisdiction_id")
    if served and given and given != served:
        return error(404, f"这里只服务 jurisdiction_id {served}。")
    return None


@bp.errorhandler(Open311Error)
def _refused(exc: Open311Error):
    return error(exc.status, exc.description)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    if exc.code == 429 and exc.response is not None:  # the rate limit made its answer already
        return exc.response
    return error(exc.code or 400, exc.description or exc.name)


@bp.get("/discovery.<fmt>")
def discovery(fmt: str):
    endpoint = url_for(".services_list", fmt="xml", _external=True).rsplit("/", 1)[0]
    body = {
        "changeset": CHANGESET,
        "contact": "接口密钥（api_key）请向本系统管理员申请。",
        "key_service": "接口密钥由系统管理员发放：flask --app admin api-key create NAME。",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": endpoint,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(_format(fmt), "discovery", body)


@bp.get("/services.<fmt>")
def services_list(fmt: str):
    return render(_format(fmt), "services", [s.as_dict() for s in catalogue().services])


@bp.get("/services/<code>.<fmt>")
def service_definition(code: str, fmt: str):
    fmt, service = _format(fmt), catalogue().find(code)
    if service is None:
        raise Open311Error(404, "没有这个 service_code 的服务类型。")
    return render(fmt, "service_definition", service.definition())


@bp.post("/requests.<fmt>")
def create_request(fmt: str):
    fmt = _format(fmt)
    client = api_client()
    if client is None:
        raise Open311Error(403, "api_key 缺失、无效或已停用，不能提交。")
    session = db_session()
    inbound = parse_request(session, request.form, catalogue(), client.name)
    app_services = services()
    receipt = submit(
        session, inbound, app_services.classifier.current(), now(),
        threshold=app_services.threshold, agency_threshold=app_services.agency_threshold,
    )
    ticket = receipt.ticket
    body = [{"service_request_id": ticket.number, "service_notice": notice(ticket, status_url(ticket))}]
    return render(fmt, "service_requests", body)


@bp.get("/requests.<fmt>")
def list_requests(fmt: str):
    fmt, query = _format(fmt), parse_query(request.args, catalogue(), now())
    return render(fmt, "service_requests", [as_request(t) for t in find_requests(db_session(), query)])


@bp.get("/requests/<number>.<fmt>")
def show_request(number: str, fmt: str):
    fmt = _format(fmt)
    return render(fmt, "service_requests", [as_request(find_request(db_session(), number))])

