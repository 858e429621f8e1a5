"""The WeChat official account as a channel (微信公众号)."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from flask import Flask

from ..context import Services
from .client import CityWeChatClient, DatabaseStorage


def init_app(app: Flask, services: Services) -> tuple[dict, object]:
    """Register the callback and the WeChat jobs; returns the channel's sender."""
    # Here, not above: the registry's channel module imports this package's client.
    from ..outbound.base import OutboundMessage
    from ..outbound.wechat import WeChatChannel, official_account_client
    from . import callback, jobs, lane

    config = app.config
    config.setdefault("WECHAT_MESSAGE_WINDOW", timedelta(minutes=10))
    app.register_blueprint(callback.bp)
    # WeChat posts XML with a signature, not a form with a CSRF token.
    app.extensions["csrf"].exempt(callback.bp)
    lane.install(app, services)

    @lru_cache(maxsize=1)
    def client() -> CityWeChatClient:
        return official_account_client(config, DatabaseStorage(services.db))

    def send_text(openid: str, text: str) -> None:
        # The registry's WeChat channel on the one client: the notices residents
        # get are the ones they always got. Unconfigured, it fails as the token
        # fetch would, and the notice waits (retried) rather than being dropped.
        WeChatChannel(client()).send(OutboundMessage(openid, text))

    services.jobs.register("wechat.download_media", jobs.make_download_media(client))
    return {"wechat": send_text}, client
