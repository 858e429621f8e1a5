"""Settings from the environment (12-factor), with an embedded default that
needs nothing: a SQLite file and a model store in the instance folder."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from routing.flow.callback_rules import parse_kinds
from routing.store.access_log import MINIMUM_DAYS, retention_days
from routing.store.retention import Schedule, retention_years
from routing.store.second_factor import parse_roles


def _choice(value: str, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _share(name: str, value: str) -> float:
    """A share between 0 (exclusive) and 1, such as a precision."""
    try:
        share = float(value)
    except ValueError:
        share = -1.0
    if not 0.0 < share <= 1.0:
        raise ValueError(f"{name} must be a share between 0 and 1 (0.95 = 95 %), not {value!r}")
    return share


def _count(name: str, value: str) -> int:
    """A whole number, 0 or more."""
    if not value.strip().isdigit():
        raise ValueError(f"{name} must be a whole number, 0 or more, not {value!r}")
    return int(value)


def _positive(value: str, name: str) -> int:
    """A whole number above zero, such as a cap on rows."""
    number = int(value) if value.strip().isdigit() else 0
    if number < 1:
        raise ValueError(f"{name} must be a whole number above 0, not {value!r}")
    return number


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment; on the embedded default, one made once
    and kept in the instance folder so logins survive a restart."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


class SettingsError(RuntimeError):
    """Settings a production city must not run with; the message says what to set."""


ENVIRONMENTS = ("development", "production")


def _production_problems(env: Any, given: dict[str, Any]) -> list[str]:
    """What a production city (TINGJIAN_ENV=production) lacks: defaults that
    serve one machine and one process, and quietly misbehave on several."""
    problems = []
    if not (given.get("SECRET_KEY") or env("SECRET_KEY")):
        problems.append(
            "SECRET_KEY 未设置：默认的 instance/secret_key 只在本机，多台机器或重新部署后登录会失效。"
            "请在每台机器上设置同一个随机值，如 python3 -c 'import secrets; print(secrets.token_hex(32))' 的输出。"
        )
    storage = given.get("RATELIMIT_STORAGE_URI") or env("RATELIMIT_STORAGE_URI", "memory://")
    single = bool(given["RATELIMIT_SINGLE_PROCESS"]) if "RATELIMIT_SINGLE_PROCESS" in given else (
        env("RATELIMIT_SINGLE_PROCESS", "0") == "1")
    if storage.startswith("memory://") and not single:
        problems.append(
            "RATELIMIT_STORAGE_URI 是 memory://：每个进程各记各的，多个 gunicorn 进程时限流和密码错误次数形同虚设。"
            "请设为各进程共用的存储（如 redis://host:6379）；确实只有一个进程时设 RATELIMIT_SINGLE_PROCESS=1。"
        )
    if env("MODEL_DIR") and env("MODEL_DIR_SHARED", "0") != "1":
        problems.append(
            "MODEL_DIR 已设置：模型会写在本机文件夹里，其他机器看不到新训练的模型。"
            "请去掉 MODEL_DIR，模型即存入数据库（或 OBJECT_STORE_URL 指定的对象存储）；"
            "该文件夹确是各机器共用的网络盘时设 MODEL_DIR_SHARED=1。"
        )
    return problems


def _environment(env: Any, given: dict[str, Any]) -> str:
    """TINGJIAN_ENV: production is said, never guessed from the database URL,
    so a developer's PostgreSQL and the test suite run as before."""
    name = given.get("TINGJIAN_ENV") or env("TINGJIAN_ENV") or "development"
    if name not in ENVIRONMENTS:
        raise SettingsError(f"TINGJIAN_ENV 应为 {' 或 '.join(ENVIRONMENTS)}，不是“{name}”。")
    if name == "production":
        problems = _production_problems(env, given)
        if problems:
            raise SettingsError("TINGJIAN_ENV=production，但以下设置不适合生产环境，应用未启动：\n" + "\n".join(
                f"- {problem}" for problem in problems))
    return name


def from_environment(instance_path: str, given: dict[str, Any] | None = None) -> dict[str, Any]:
    """Settings from the environment; ``given`` (the factory's argument) wins.
    Raises ``SettingsError`` when production lacks a setting it needs."""
    given = given or {}
    env = os.environ.get
    environment = _environment(env, given)  # before the instance folder gets a secret key
    instance = Path(instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    database_url = given.get("DATABASE_URL") or env("DATABASE_URL") or f"sqlite:///{instance / 'tingjian.db'}"
    # Heroku-style URLs name the old driver; we speak psycopg 3.
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://") :]
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    return {
        "TINGJIAN_ENV": environment,
        "SECRET_KEY": given.get("SECRET_KEY") or _secret_key(instance),
        "DATABASE_URL": database_url,
        # A local folder for the models (development, tests); unset, they live in
        # the shared store below, which every machine sees.
        "MODEL_DIR": env("MODEL_DIR", ""),
        # Shared files (models) in an S3-compatible bucket, s3://bucket/prefix;
        # unset, in the database. Credentials come from boto3's usual environment.
        "OBJECT_STORE_URL": env("OBJECT_STORE_URL", ""),
        "OBJECT_STORE_ENDPOINT": env("OBJECT_STORE_ENDPOINT", ""),
        "OBJECT_STORE_REGION": env("OBJECT_STORE_REGION", ""),
        # Used only with a model stored without routing thresholds (trained before them).
        "CLASSIFIER_THRESHOLD": float(env("CLASSIFIER_THRESHOLD", "0.5")),
        # Seconds a process trusts its gazetteer before it looks whether the console changed it.
        "GAZETTEER_CHECK_SECONDS": float(env("GAZETTEER_CHECK_SECONDS", "5")),
        # How often an automatically routed ticket must be right; each topic's threshold follows from it.
        "ROUTING_PRECISION": _share("ROUTING_PRECISION", env("ROUTING_PRECISION", "0.95")),
        # The learning loop: retrain every so many days, or after so many new
        # corrections and closed tickets; 0 turns either off.
        "RETRAIN_EVERY_DAYS": _count("RETRAIN_EVERY_DAYS", env("RETRAIN_EVERY_DAYS", "7")),
        "RETRAIN_AFTER_CORRECTIONS": _count("RETRAIN_AFTER_CORRECTIONS", env("RETRAIN_AFTER_CORRECTIONS", "200")),
        # Above this confidence the learned agency wins over the routing rules.
        "AGENCY_THRESHOLD": float(env("AGENCY_THRESHOLD", "0.8")),
        # A resident's message is at most a few thousand characters.
        "MAX_CONTENT_LENGTH": int(env("MAX_CONTENT_LENGTH", str(256 * 1024))),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env("SESSION_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_SECURE": env("SESSION_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Staff sessions end after this many minutes without a request.
        "IDLE_MINUTES": int(env("IDLE_MINUTES", "30")),
        # The public form's rate limit per client address; memory storage serves
        # one process, several processes need a shared store (redis://host:6379).
        "RATELIMIT_SUBMIT": env("RATELIMIT_SUBMIT", "10 per minute;100 per day"),
        # The JSON API's limit per client: per API key, or per address without one.
        "RATELIMIT_API": env("RATELIMIT_API", "120 per minute"),
        # Wrong passwords: per address, and per account from every address.
        "RATELIMIT_LOGIN_ADDRESS": env("RATELIMIT_LOGIN_ADDRESS", "20 per 10 minutes"),
        "RATELIMIT_LOGIN_ACCOUNT": env("RATELIMIT_LOGIN_ACCOUNT", "10 per 10 minutes"),
        # Roles that must set up a second factor (TOTP) before any other page; empty: optional for all.
        "SECOND_FACTOR_ROLES": parse_roles(env("SECOND_FACTOR_ROLES", "")),
        # The public status pages: lookups per address, and wrong codes per ticket.
        "RATELIMIT_LOOKUP": env("RATELIMIT_LOOKUP", "30 per minute;300 per day"),
        "RATELIMIT_LOOKUP_TICKET": env("RATELIMIT_LOOKUP_TICKET", "20 per hour"),
        # Hours an API caller's Idempotency-Key is remembered (and may not name another body).
        "IDEMPOTENCY_HOURS": int(env("IDEMPOTENCY_HOURS", "24")),
        # Open311's jurisdiction_id for this city; a request naming another one gets 404.
        "OPEN311_JURISDICTION": env("OPEN311_JURISDICTION", ""),
        "RATELIMIT_STORAGE_URI": env("RATELIMIT_STORAGE_URI", "memory://"),
        # Production refuses memory:// above unless this says one process serves.
        "RATELIMIT_SINGLE_PROCESS": env("RATELIMIT_SINGLE_PROCESS", "0") == "1",
        # /metrics: a bearer token Prometheus sends; unset, only this machine may scrape.
        "METRICS_TOKEN": env("METRICS_TOKEN", ""),
        # "json": one JSON object a line, for a log collector; else plain text.
        "LOG_FORMAT": env("LOG_FORMAT", "text"),
        # Reverse proxies in front of the app whose X-Forwarded-For is trusted.
        "TRUSTED_PROXIES": int(env("TRUSTED_PROXIES", "0")),
        "PREFERRED_URL_SCHEME": env("PREFERRED_URL_SCHEME", "http"),
        # Where residents reach the public pages, for links in messages sent by jobs.
        "PUBLIC_URL": env("PUBLIC_URL", ""),
        # Jobs run in a thread of the web process on the embedded default;
        # with PostgreSQL, run `flask --app admin jobs work` processes instead.
        "JOBS_IN_PROCESS": env("JOBS_IN_PROCESS", "1" if database_url.startswith("sqlite") else "0") == "1",
        # How long a job stays a worker's without a renewal (renewed three times a
        # lease while it runs): how long the jobs of a worker that died wait.
        "JOB_LEASE": timedelta(seconds=int(env("JOB_LEASE_SECONDS", "30"))),
        # 分拨员 see residents' contact data unmasked unless the centre restricts them (routing.store.privacy).
        "DISPATCHER_SEES_CONTACT": env("DISPATCHER_SEES_CONTACT", "1") == "1",
        # The most rows one export with residents' contact data may hold; more is refused, never cut.
        "EXPORT_MAX_ROWS": _positive(env("EXPORT_MAX_ROWS", "2000"), "EXPORT_MAX_ROWS"),
        # Days the access log (个人信息访问日志) is kept: six months at least.
        "ACCESS_LOG_DAYS": retention_days(env("ACCESS_LOG_DAYS", str(MINIMUM_DAYS))),
        # 存储期限: years after a ticket closed that its contact data and raw
        # messages, and its photos and voice notes, are kept (routing.store.retention).
        "RETENTION_CONTACT_YEARS": retention_years(
            "RETENTION_CONTACT_YEARS", env("RETENTION_CONTACT_YEARS", str(Schedule.contact_years)), Schedule.contact_years
        ),
        "RETENTION_MEDIA_YEARS": retention_years(
            "RETENTION_MEDIA_YEARS", env("RETENTION_MEDIA_YEARS", str(Schedule.media_years)), Schedule.media_years
        ),
        # Longest wait between attempts to deliver a notice while its channel is down.
        "NOTICE_RETRY": timedelta(minutes=int(env("NOTICE_RETRY_MINUTES", "30"))),
        # Working days a resident has to rate an answer before the ticket closes itself.
        "SATISFACTION_DAYS": int(env("SATISFACTION_DAYS", "5")),
        # Share of a deadline's working time after which a ticket shows 临期 (yellow).
        "WARNING_SHARE": float(env("WARNING_SHARE", "0.8")),
        # Working days a ticket stays overdue before its agency's supervisor gets a notice (通报).
        "ESCALATION_DAYS": int(env("ESCALATION_DAYS", "2")),
        # 重办: from this many redos after 不满意 on, the supervisor gets a notice and the centre decides.
        "REDO_ESCALATION": int(env("REDO_ESCALATION", "2")),
        # 回访: the kinds always called back (every deputy suggestion is too), the
        # share of the rest sampled, tries before giving up, and then: close or keep.
        "CALLBACK_KINDS": parse_kinds(env("CALLBACK_KINDS", "complaint")),
        "CALLBACK_SAMPLE_PERCENT": int(env("CALLBACK_SAMPLE_PERCENT", "10")),
        "CALLBACK_ATTEMPTS": int(env("CALLBACK_ATTEMPTS", "3")),
        "CALLBACK_UNREACHED": _choice(env("CALLBACK_UNREACHED", "close"), "CALLBACK_UNREACHED", ("close", "keep")),
        # Working hours the dispatcher centre has to rule on an agency's dispute of an assignment (派单争议).
        "DISPUTE_RULING_HOURS": float(env("DISPUTE_RULING_HOURS", "4")),
        # Deputies' voice notes: the longest and the largest accepted.
        "VOICE_MAX_SECONDS": int(env("VOICE_MAX_SECONDS", "600")),
        "VOICE_MAX_BYTES": int(env("VOICE_MAX_BYTES", str(20 * 1024 * 1024))),
        # A photo a resident adds on the status page: the largest accepted.
        "IMPORT_MAX_BYTES": int(env("IMPORT_MAX_BYTES", str(50 * 1024 * 1024))),
        "PHOTO_MAX_BYTES": int(env("PHOTO_MAX_BYTES", str(10 * 1024 * 1024))),
        # An OpenAI-compatible speech-to-text service; without it people transcribe.
        "TRANSCRIPTION_URL": env("TRANSCRIPTION_URL", ""),
        "TRANSCRIPTION_MODEL": env("TRANSCRIPTION_MODEL", ""),
        "TRANSCRIPTION_API_KEY": env("TRANSCRIPTION_API_KEY", ""),
        "WECHAT_TOKEN": env("WECHAT_TOKEN", ""),
        "WECHAT_ENCODING_AES_KEY": env("WECHAT_ENCODING_AES_KEY", ""),
        "WECHAT_APPID": env("WECHAT_APPID", ""),
        "WECHAT_APPSECRET": env("WECHAT_APPSECRET", ""),
        "WECHAT_API_BASE_URL": env("WECHAT_API_BASE_URL", ""),
        "WECHAT_MESSAGE_WINDOW": timedelta(minutes=int(env("WECHAT_MESSAGE_WINDOW_MINUTES", "10"))),
        # Staff notices (通知承办单位): WeCom application messages, group robots, email.
        "WECOM_CORP_ID": env("WECOM_CORP_ID", ""),
        "WECOM_AGENT_ID": env("WECOM_AGENT_ID", ""),
        "WECOM_SECRET": env("WECOM_SECRET", ""),
        "WECOM_API_BASE": env("WECOM_API_BASE", ""),
        "WECOM_ROBOT_API_BASE": env("WECOM_ROBOT_API_BASE", ""),
        "DINGTALK_ROBOT_API_BASE": env("DINGTALK_ROBOT_API_BASE", ""),
        "SMTP_HOST": env("SMTP_HOST", ""),
        "SMTP_PORT": int(env("SMTP_PORT", "587")),
        "SMTP_USER": env("SMTP_USER", ""),
        "SMTP_PASSWORD": env("SMTP_PASSWORD", ""),
        "SMTP_FROM": env("SMTP_FROM", ""),
        "SMTP_STARTTLS": env("SMTP_STARTTLS", "1") == "1",
        "SMTP_SSL": env("SMTP_SSL", "0") == "1",
        # New tickets that are not urgent reach an agency at most once per this many minutes, bundled.
        "STAFF_BUNDLE": timedelta(minutes=int(env("STAFF_BUNDLE_MINUTES", "5"))),
        # SMS (短信) through Aliyun or Tencent Cloud; off when SMS_PROVIDER is empty.
        "SMS_PROVIDER": env("SMS_PROVIDER", ""),
        "SMS_ACCESS_KEY_ID": env("SMS_ACCESS_KEY_ID", ""),
        "SMS_ACCESS_KEY_SECRET": env("SMS_ACCESS_KEY_SECRET", ""),
        "SMS_SIGN_NAME": env("SMS_SIGN_NAME", ""),
        "SMS_SDK_APP_ID": env("SMS_SDK_APP_ID", ""),
        "SMS_REGION": env("SMS_REGION", ""),
        "SMS_ENDPOINT": env("SMS_ENDPOINT", ""),
        "SMS_TEMPLATES": env("SMS_TEMPLATES", ""),
        "SMS_QUIET_HOURS": env("SMS_QUIET_HOURS", "22:00-08:00"),
    } | {k: v for k, v in given.items() if k != "DATABASE_URL"}
