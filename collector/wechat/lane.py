"""The quick lane: WeChat's busiest case answered before Flask (PostgreSQL).

Most of what the official account receives is a resident's first text about
a matter. Its answer needs the signatures, one SQL statement and the
encrypted reply (``intake.answer_at_once``); Flask's request handling around
it would cost as much CPU again. So this WSGI middleware, in front of the
Flask application as ProxyFix is, takes a signed POST to ``/wechat`` whose
message is a new matter in text and answers it itself, with the same
functions as the callback view. Everything else — and anything the lane is
unsure of: no token configured, a bad signature, an oversized or unreadable
body, a sender with a current matter, a delivery racing its twin — goes on
to Flask unchanged, which answers as it always has.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask
from sqlalchemy.exc import DBAPIError

from routing.clock import now

from ..context import Services
from ..web import status_url_outside_flask
from .callback import Refused, content_type, open_message, sealed_reply, verified
from .delivery import Settings, is_new_matter, lost_round
from .quick import answer_at_once

PATH = "/wechat"


class QuickLane:
    """WSGI middleware: ``app.wsgi_app = QuickLane(app, services, app.wsgi_app)``."""

    def __init__(self, app: Flask, services: Services, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.services = services
        self.wsgi_app = wsgi_app
        self.engine = services.db.autocommit

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == PATH and environ.get("REQUEST_METHOD") == "POST":
            body = self._body(environ)
            if body is not None:
                # Flask reads the body again if the lane passes the request on.
                environ["wsgi.input"] = io.BytesIO(body)
                answer = self.answer(environ, body)
                if answer is not None:
                    data = answer.encode()
                    start_response("200 OK", [("Content-Type", f"{content_type(answer)}; charset=utf-8"), ("Content-Length", str(len(data)))])
                    return [data]
        return self.wsgi_app(environ, start_response)

    def _body(self, environ: dict[str, Any]) -> bytes | None:
        """The body where its length is declared and within the limit; Flask
        answers the rest (413 for too large)."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        if not 0 < length <= (self.app.config.get("MAX_CONTENT_LENGTH") or length):
            return None
        body = environ["wsgi.input"].read(length)
        return body if len(body) == length else None

    def answer(self, environ: dict[str, Any], body: bytes) -> str | None:
        """The answer's body for a new matter in text, stored; None for
        everything the Flask view must handle."""
        config = self.app.config
        if not config.get("WECHAT_TOKEN"):
            return None
        if config.get("JOBS_IN_PROCESS") and self.services.worker is None:
            return None  # Flask's first request starts the in-process job worker; the lane then takes over
        args = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        try:
            verified(config, args)
            msg = open_message(config, args, body)
        except Refused:
            return None
        if not is_new_matter(msg):
            return None
        settings = Settings(
            window=config["WECHAT_MESSAGE_WINDOW"],
            status_url=status_url_outside_flask(self.app, environ),
            ticket_ids=self.services.ticket_ids,
        )
        try:
            with self.engine.connect() as connection:
                outcome = answer_at_once(connection, msg, now(), settings)
        except DBAPIError as exc:
            if lost_round(exc):
                # The same delivery, stored by another worker a moment ago, or
                # a connection lost with the answer: the view reads what was stored.
                return None
            raise
        if outcome is None:
            return None
        if outcome.jobs:
            self.services.wake_worker()
        return sealed_reply(config, args, msg, outcome.reply)


def install(app: Flask, services: Services) -> None:
    """The lane where it pays: on PostgreSQL, whose one statement both asks
    and stores. On SQLite the view's own short path serves."""
    if services.db.engine.dialect.name == "postgresql":
        app.wsgi_app = QuickLane(app, services, app.wsgi_app)  # type: ignore[method-assign]
