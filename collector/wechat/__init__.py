"""The WeChat official account as a channel (微信公众号)."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from flask import Flask

from ..context import Services
from .client import DEFAULT_API_BASE, CityWeChatClient, DatabaseStorage


def init_app(app: Flask, services: Services) -> tuple[dict, object]:
    """Register the callback and the WeChat jobs; returns the channel's sender."""
    from . import callback, jobs, lane

    config = app.config
    config.setdefault("WECHAT_MESSAGE_WINDOW", timedelta(minutes=10))
    app.register_blueprint(callback.bp)
    # WeChat posts XML with a signature, not a form with a CSRF token.
    app.extensions["csrf"].exempt(callback.bp)
    lane.install(app, services)

    @lru_cache(maxsize=1)
    def client() -> CityWeChatClient:
        return CityWeChatClient(
            config.get("WECHAT_APPID") or "",
            config.get("WECHAT_APPSECRET") or "",
            storage=DatabaseStorage(services.db),
            api_base_url=config.get("WECHAT_API_BASE_URL") or DEFAULT_API_BASE,
        )

    services.jobs.register("wechat.download_media", jobs.make_download_media(client))
    return {"wechat": jobs.make_send_text(client)}, client
