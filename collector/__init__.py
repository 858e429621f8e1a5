"""Channels and intake: the liaison-station form, the JSON API, the WeChat
official account; store once, classify, hand over to routing."""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask

from routing.flow.steps import NOTIFY_DEPUTY, NOTIFY_RESIDENT
from routing.store.jobs import Retry

from .context import Services


def init_app(app: Flask, services: Services) -> None:
    from . import api, api_docs, open311, staff_notify, web, wechat
    from .hotline_runs import IMPORT as HOTLINE_IMPORT
    from .hotline_runs import make_import_job
    from .intake import CLASSIFY, INDEX_MATTERS, index_matters_job, make_classify, schedule_indexing
    from .notify import make_deputy_notify_handler, make_notify_handler
    from .outbound.registry import build_channels
    from .outbound.sms import parse_quiet_hours
    from .transcription import TRANSCRIBE, backends_from, make_transcribe

    app.register_blueprint(web.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api_docs.bp)
    # The APIs are called by programs, not browsers with a session: no CSRF token.
    app.extensions["csrf"].exempt(api.bp)
    app.register_blueprint(open311.bp)
    app.extensions["csrf"].exempt(open311.bp)
    senders, _client = wechat.init_app(app, services)
    channels = staff_notify.install_channels(app, services)

    def status_url(ticket):
        with app.app_context():
            return web.status_url(ticket)

    # A notice waits out any outage of its channel: only a refusal for good ends it.
    until_told = Retry(forever=True, cap=app.config["NOTICE_RETRY"])
    sms = build_channels(app.config).get("sms")
    quiet = parse_quiet_hours(app.config.get("SMS_QUIET_HOURS", ""))
    services.jobs.register(NOTIFY_RESIDENT, make_notify_handler(senders, status_url, sms, quiet), retry=until_told)

    def deputy_url(ticket):
        # Jobs run without a request: the link only where PUBLIC_URL says where the portal is.
        base = (app.config.get("PUBLIC_URL") or "").rstrip("/")
        return f"{base}/deputy/tickets/{quote(ticket.number)}" if base else ""

    services.jobs.register(NOTIFY_DEPUTY, make_deputy_notify_handler(senders, deputy_url, sms), retry=until_told)
    staff_notify.register(services.jobs, channels, app.config["STAFF_BUNDLE"], until_told)
    services.jobs.register(CLASSIFY, *make_classify(services.classifier.current, services.threshold, services.agency_threshold))
    services.jobs.register_periodic(INDEX_MATTERS, index_matters_job, schedule_indexing)
    services.jobs.register(
        HOTLINE_IMPORT, make_import_job(services.classifier.current, services.threshold, services.agency_threshold)
    )
    backends = backends_from(app.config)
    services.jobs.register(TRANSCRIBE, make_transcribe(lambda: backends, services.reader))
