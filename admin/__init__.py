"""The web face and the wiring: ``create_app`` builds the whole system."""

from __future__ import annotations

import atexit
import os
from typing import Any

from flask import Flask, jsonify, render_template, request, url_for
from flask_babel import gettext
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import NotFound, TooManyRequests

import collector
from classifier import LiveClassifier, ModelStore
from collector import open311, web
from collector.context import Services, install
from collector.places import CityGazetteer
from routing.clock import now
from routing.flow import answer_files, escalation, retention, sweep
from routing.flow.steps import STEPS
from routing.store.blobs import SharedModelFiles, blobs_for
from routing.store.db import Database
from routing.store.jobs import ensure_periodic
from routing.store.workers import Worker
from routing.texts import N_

csrf = CSRFProtect()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The application factory: ``flask --app admin run`` and
    ``gunicorn 'admin:create_app()'`` both call it."""
    from . import (
        account,
        accounts,
        agency,
        answer_setup,
        auth,
        badges,
        callbacks,
        channels,
        cli,
        dashboard,
        deputy,
        desk,
        disputes,
        i18n,
        import_cli,
        imports,
        knowledge,
        learning_desk,
        notes,
        ops,
        org_import,
        organisation,
        params,
        photos,
        places,
        policies,
        privacy,
        privacy_cli,
        reports,
        reviews,
        rules,
        scorecards,
        security,
        settings,
        setup,
        stations,
        ticket_list,
        timeline,
        transcribe,
        user_cli,
    )

    # INSTANCE_PATH: where this process keeps what is its own (the embedded
    # default's SQLite file and secret key); nothing several machines share.
    app = Flask(__name__, instance_path=os.environ.get("INSTANCE_PATH") or None, instance_relative_config=True)
    app.url_map.converters["int"] = params.RowId  # before any route is added
    app.config.from_mapping(settings.from_environment(app.instance_path, config))

    db = Database(app.config["DATABASE_URL"])
    store = model_store_for(app.config, db)
    app.extensions["tingjian.models"] = store
    city_places = CityGazetteer(db, check_seconds=app.config["GAZETTEER_CHECK_SECONDS"])
    services = Services(
        db=db,
        classifier=LiveClassifier(
            store, city_places.shipped, city_places, routing_precision=app.config["ROUTING_PRECISION"]
        ),
        threshold=app.config["CLASSIFIER_THRESHOLD"],
        agency_threshold=app.config["AGENCY_THRESHOLD"],
    )
    install(app, services)
    app.extensions["tingjian.places"] = city_places  # the console tells it when it changed the gazetteer
    ops.init_app(app, services)  # first: its clock times every request

    _upload_limits(app)  # before CSRF, which reads the form first
    csrf.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    account.init_app(app)
    accounts.init_app(app)
    channels.init_app(app)
    organisation.init_app(app)
    places.init_app(app)
    stations.init_app(app)
    org_import.init_app(app)
    collector.init_app(app, services)
    desk.init_app(app)
    learning_desk.init_app(app)
    disputes.init_app(app)
    callbacks.init_app(app)
    imports.init_app(app)
    reviews.init_app(app)
    answer_setup.init_app(app)
    knowledge.init_app(app)
    agency.init_app(app)
    scorecards.init_app(app)
    rules.init_app(app)
    policies.init_app(app)
    dashboard.init_app(app)
    ticket_list.init_app(app)
    reports.init_app(app)
    deputy.init_app(app)
    transcribe.init_app(app)
    photos.init_app(app)
    notes.init_app(app)
    privacy.init_app(app)
    privacy_cli.init_app(app)
    cli.init_app(app)
    import_cli.init_app(app)
    setup.init_app(app)
    user_cli.init_app(app)
    security.init_app(app)
    policy = escalation_policy(app)
    services.jobs.register_periodic(
        sweep.SWEEP, sweep.make_sweep(app.config["SATISFACTION_DAYS"], policy, app.config["IDEMPOTENCY_HOURS"]),
        sweep.schedule,
    )
    escalation.register_jobs(services.jobs, policy)
    retention.register_jobs(services.jobs, privacy.retention_schedule(app.config))

    # Chinese stays readable in JSON answers and in the timeline's details.
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.jinja_env.filters["action_label"] = action_label
    badges.init_app(app)
    app.jinja_env.filters["change_value"] = change_value
    timeline.init_app(app)
    _error_pages(app)
    if app.config["JOBS_IN_PROCESS"]:
        _start_worker_on_first_request(app, services)
    return app


def model_store_for(config: Any, db: Database) -> ModelStore:
    """MODEL_DIR's folder when set (development, tests), else the store every
    machine shares: the database, or the object store OBJECT_STORE_URL names."""
    if config["MODEL_DIR"]:
        return ModelStore(config["MODEL_DIR"])
    blobs = blobs_for(db, config["OBJECT_STORE_URL"], config["OBJECT_STORE_ENDPOINT"], config["OBJECT_STORE_REGION"])
    return ModelStore(SharedModelFiles(blobs))


def escalation_policy(app: Flask) -> escalation.EscalationPolicy:
    return escalation.EscalationPolicy(
        warning_share=app.config["WARNING_SHARE"], escalation_days=app.config["ESCALATION_DAYS"]
    )


# Views that take uploads: the setting that bounds each file, and how many files at most.
UPLOADS = {
    "deputy.portal": ("VOICE_MAX_BYTES", 1), "station.add_more": ("PHOTO_MAX_BYTES", 1),
    "imports.upload": ("IMPORT_MAX_BYTES", 1), "org_import.upload": ("IMPORT_MAX_BYTES", 1),
    "agency.answer": ("PHOTO_MAX_BYTES", answer_files.MAX_FILES),
}


def _upload_limits(app: Flask) -> None:
    """A larger request body where a file is uploaded (a voice note, a photo), and only there."""

    @app.before_request
    def _raise_limit() -> None:
        upload = UPLOADS.get(request.endpoint or "")
        if upload:
            setting, files = upload
            request.max_content_length = app.config[setting] * files + 256 * 1024  # the files and the form around them


def _start_worker_on_first_request(app: Flask, services: Services) -> None:
    """The embedded default runs jobs in a thread of the serving process.

    Started by the first request, not by the factory, so CLI commands and
    imports do not start workers behind one's back.
    """

    @app.before_request
    def _ensure_worker() -> None:
        if services.worker is None:
            ensure_periodic(services.db, services.jobs, now())
            services.worker = Worker(services.db, services.jobs, now, lease=app.config["JOB_LEASE"])
            services.worker.start()
            atexit.register(services.worker.stop)


def _error_pages(app: Flask) -> None:
    """Error pages in the reader's language; JSON in Chinese for the API, whose clients are programs."""

    def answer(code: int, title: str, message: str, field: str | None = None, **values: Any):
        text = message % values if values else message
        if open311.asked():  # Open311's own errors, also where none of its routes was found
            return open311.error(code, text)
        if request.path.startswith("/api/"):
            body = {"error": text} | ({"field": field} if field else {})
            return jsonify(body), code
        # The page is read by a person, in their language; the JSON above by a program, in Chinese.
        back, back_label = _way_back()
        return render_template(
            "error.html", title=gettext(title), message=gettext(message, **values), back=back,
            back_label=gettext(back_label),
        ), code

    @app.errorhandler(404)
    def not_found(exc):
        # A view's own description says more ("check the lookup code"); the default says nothing useful.
        specific = exc.description != NotFound.description
        return answer(404, N_("页面不存在"), exc.description if specific else N_("没有这个页面。"))

    @app.errorhandler(405)
    def wrong_method(exc):
        return open311.error(405, exc.description) if open311.asked() else exc

    @app.errorhandler(403)
    def forbidden(exc):
        return answer(403, N_("没有权限"), N_("您没有权限查看这个页面。"))

    @app.errorhandler(413)
    def too_large(exc):
        upload = UPLOADS.get(request.endpoint or "")
        if upload:
            limit = app.config[upload[0]] / 1048576  # each file's limit, as the form says
            return answer(413, N_("文件太大"), N_("上传的文件太大，请控制在 %(limit)s MB 以内。"), field="voice", limit=f"{limit:.0f}")
        return answer(413, N_("内容太长"), N_("提交的内容太大，反映内容请控制在 5000 字以内。"), field="text")

    @app.errorhandler(429)
    def too_many(exc):
        # A limit the limiter counts gets the polite page; a view's own 429 says what to wait for.
        if not isinstance(exc, RateLimitExceeded) and exc.description != TooManyRequests.description:
            return answer(429, N_("请稍后再试"), exc.description)
        polite = N_("您提交得太频繁了，请稍等几分钟再试。感谢您的理解，您反映的问题我们都会认真办理。")
        if request.endpoint == "station.submit_form" and request.method == "POST":
            return web.submit_page_over_limit(gettext(polite))
        return answer(429, N_("提交太频繁"), polite)


# The public pages that take a ticket's number and code: a wrong one leads
# back to the lookup with the number filled in, not to the home page.
WITH_CODE = ("station.status", "station.add_more", "station.rate", "station.stop_sms_notices")


def _way_back() -> tuple[str, str]:
    if request.endpoint in WITH_CODE:
        number = (request.view_args or {}).get("number", "")
        return url_for("station.lookup", number=number), N_("返回查询页重新输入")
    return url_for("station.submit_form"), N_("返回首页")


EVENT_LABELS = {
    "internal_note": N_("内部备注"),
    "create": N_("受理"),
    "add_message": N_("补充消息"),
    "classify": N_("自动分类"),
    "notify": N_("通知群众"),
    "absorb": N_("合并进来"),
    "remerge": N_("改为合并到另一工单"),
    "locate": N_("按位置确定地点"),
    "answer_merged": N_("随合并工单答复"),
    "remind": N_("催办"),
    "notify_supervisor": N_("通报"),
    "assist": N_("协办单位"),
    "assist_opinion": N_("协办意见"),
    "transcribe": N_("语音转写"),
    "notify_deputy": N_("通知代表"),
    "notify_staff": N_("通知承办单位"),
    "save_article": N_("存为知识库文章"),
    "stop_sms": N_("停止短信告知"),
    "reveal_contact": N_("查看联系方式"),
    "settle_correction": N_("纠错裁定"),
    "mark_confidential": N_("群众要求保密"),
    "anonymise": N_("个人信息到期删除"),
    "remove_media": N_("照片录音到期删除"),
    "erase": N_("应群众要求删除个人信息"),
}


def action_label(action: str) -> str:
    """The name of a timeline action, in the reader's language."""
    step = STEPS.get(action)
    label = step.label if step else EVENT_LABELS.get(action)
    return gettext(label) if label else action


def change_value(value: Any) -> str:
    """A value in the audit trail as a person reads it."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    if isinstance(value, list):
        return "、".join(map(str, value))
    return str(value)
