"""Safe in the browser: headers that keep text inert, an idle timeout for staff
sessions, and rate limits (防刷) on the public form, per address, and on the
JSON API, per client.

Complaint text is untrusted: Jinja escapes it in every page, the dashboard's
script puts it into the page only as text, and the Content-Security-Policy
refuses inline and foreign scripts should anything slip through.
"""

from __future__ import annotations

import time

from flask import Flask, flash, redirect, request, session, url_for
from flask_babel import gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user, logout_user, user_logged_in
from werkzeug.middleware.proxy_fix import ProxyFix

from collector import api, open311
from collector.throttle import FAILURES, FailureThrottle, failures

# Scripts only from this site: the system runs on intranets, so no CDN either.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # ECharts and the pages set element styles.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    # A status link carries the ticket's code: never hand it to another site.
    "Referrer-Policy": "same-origin",
}
LAST_SEEN = "last_seen"
# Writing the session on every request would set a cookie on every answer;
# the idle clock needs no finer grain than this.
LAST_SEEN_GRAIN = 30  # seconds
# The public form's endpoints a resident posts to.
LIMITED_ENDPOINTS = ("station.submit_form",)
# The public pages that open a ticket by its code.
LOOKUP_ENDPOINTS = ("station.lookup", "station.status", "station.rate", "station.add_more", "station.answer_file")
# Callbacks from other servers (WeChat's, signed): no staff session to time
# out, no rate limit to count (WeChat's retries must get through), and the
# busiest route there is, so they skip that work. So do the load balancer's
# and Prometheus's probes (``admin.ops``).
MACHINE_BLUEPRINTS = frozenset({"wechat", "ops"})


def init_app(app: Flask) -> None:
    _headers(app)
    _idle_timeout(app)
    _rate_limit(app)
    if app.config["TRUSTED_PROXIES"]:
        # Behind a reverse proxy the client's address is in X-Forwarded-For;
        # the rate limit counts per resident, not per proxy.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"], x_proto=1)  # type: ignore[method-assign]


def _headers(app: Flask) -> None:
    @app.after_request
    def _secure_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def _idle_timeout(app: Flask) -> None:
    """Staff who leave a page open for IDLE_MINUTES must log in again."""
    limit = app.config["IDLE_MINUTES"] * 60

    def started(sender, user, **extra):
        session[LAST_SEEN] = time.time()

    user_logged_in.connect(started, app)

    @app.before_request
    def _check_idle():
        if request.blueprint in MACHINE_BLUEPRINTS or not current_user.is_authenticated:
            return None
        moment = time.time()
        last = session.get(LAST_SEEN)
        if last is not None and moment - last > limit:
            logout_user()
            session.pop(LAST_SEEN, None)
            flash(gettext("您已超过 %(minutes)s 分钟没有操作，为了安全已自动退出，请重新登录。", minutes=app.config["IDLE_MINUTES"]), "error")
            target = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("auth.login", next=target))
        if last is None or moment - last > LAST_SEEN_GRAIN:
            session[LAST_SEEN] = moment
        return None


def _rate_limit(app: Flask) -> None:
    """Each app its own limiter: memory storage by default (one process),
    RATELIMIT_STORAGE_URI (e.g. redis://) when several processes serve."""
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        default_limits=[],
        headers_enabled=True,
    )
    limiter.request_filter(lambda: request.blueprint in MACHINE_BLUEPRINTS)
    for endpoint in LIMITED_ENDPOINTS:
        view = app.view_functions[endpoint]
        # Only what was taken counts: a form sent back to be corrected (400) is
        # not a submission, and nine of them must not use up the address's limit.
        app.view_functions[endpoint] = limiter.limit(
            app.config["RATELIMIT_SUBMIT"], methods=["POST"], deduct_when=lambda response: response.status_code < 400
        )(view)
    # Lookups by code, per address: one budget for the status pages and rating.
    lookups = limiter.shared_limit(app.config["RATELIMIT_LOOKUP"], scope="lookup")
    for endpoint in LOOKUP_ENDPOINTS:
        app.view_functions[endpoint] = lookups(app.view_functions[endpoint])
    # Programs share addresses (a hotline centre's servers, a NAT): the API
    # counts per key, one budget for all its routes, and answers in JSON.
    limiter.shared_limit(
        app.config["RATELIMIT_API"], scope="api", key_func=api.client_identity, on_breach=api.too_many_requests
    )(api.bp)
    # Open311 the same, its key being the api_key parameter.
    limiter.shared_limit(
        app.config["RATELIMIT_API"], scope="open311", key_func=open311.client_identity,
        on_breach=open311.too_many_requests,
    )(open311.bp)
    app.extensions[FAILURES] = {
        name: FailureThrottle.of(limiter.limiter, name, app.config[setting])
        for name, setting in FAILURE_LIMITS.items()
    }


# What counts failures, and the setting with its limits.
FAILURE_LIMITS = {
    "login-address": "RATELIMIT_LOGIN_ADDRESS",
    "login-account": "RATELIMIT_LOGIN_ACCOUNT",
    "lookup-ticket": "RATELIMIT_LOOKUP_TICKET",
}


def login_wait(username: str) -> int:
    """Seconds before this address may try another password for this account."""
    return max(failures("login-address").wait(get_remote_address()),
               failures("login-account").wait(_account(username)))


def login_failed(username: str) -> None:
    failures("login-address").failed(get_remote_address())
    failures("login-account").failed(_account(username))


def _account(username: str) -> str:
    return username.strip().lower()[:64]
