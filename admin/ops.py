"""What the machines around the app ask it (运维接口): the load balancer
(``/healthz``, ``/readyz``) and Prometheus (``/metrics``).

No login, no rate limit, no personal data: a probe asked every few seconds
must get a cheap, honest answer. ``/metrics`` says how busy the city is, so
it answers only to a bearer token (METRICS_TOKEN) or, without one, to this
machine.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from collector.context import Services, services
from routing.clock import now
from routing.store.migrate import current_revisions, head_revisions

from . import logs, metrics

log = logging.getLogger(__name__)

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up and serving; asks nothing of the database, so a
    database outage does not make the load balancer restart every worker."""
    return Response("ok", mimetype="text/plain")


def _database_and_migrations() -> tuple[str, str]:
    try:
        with services().db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = current_revisions(connection)
    except Exception as exc:  # whatever the driver raises, the answer is "not ready"
        log.warning("readiness: the database did not answer", exc_info=True)
        # The kind of failure only: the driver's message names hosts and users.
        return f"failed: {type(exc).__name__}", "skipped"
    head = head_revisions()
    if current == head:
        return "ok", "ok"
    at = ", ".join(sorted(current)) or "none"
    return "ok", f"failed: database at {at}, code at {', '.join(sorted(head))} (run flask --app admin setup)"


def _model() -> str:
    try:
        loaded = services().classifier.current().model is not None
    except Exception as exc:  # a damaged model file is a failed check, not a failed probe
        log.warning("readiness: the model could not be loaded", exc_info=True)
        return f"failed: {type(exc).__name__}"
    return "ok" if loaded else "failed: no active model (run flask --app admin classifier train)"


@bp.get("/readyz")
def readyz():
    """Ready for traffic: the database answers, its schema is the code's,
    and a model is loaded. 503 names the checks that failed."""
    database, migrations = _database_and_migrations()
    checks = {"database": database, "migrations": migrations, "model": _model()}
    failed = [name for name, outcome in checks.items() if outcome != "ok"]
    body = {"status": "not ready" if failed else "ready", "checks": checks, "failed": failed}
    return jsonify(body), 503 if failed else 200


def _from_this_machine() -> bool:
    """A loopback address that no proxy speaks for: a reverse proxy on this
    machine passes on outside requests from 127.0.0.1, with a forwarding header."""
    if request.headers.get("X-Forwarded-For") or request.headers.get("Forwarded"):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def scrape() -> Response:
    token = current_app.config["METRICS_TOKEN"]
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return Response("a bearer token is needed\n", 401, {"WWW-Authenticate": "Bearer"}, mimetype="text/plain")
    elif not _from_this_machine():
        return Response("set METRICS_TOKEN to scrape from another machine\n", 403, mimetype="text/plain")
    return Response(metrics.metrics_of(current_app).exposition(), content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask, app_services: Services) -> None:
    """Logs, metrics and the probes; called first, so every request is timed."""
    logs.init_app(app)
    metrics.init_app(app, app_services.db, now)
    app.register_blueprint(bp)
