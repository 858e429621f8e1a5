"""Logs a log collector reads (日志): with ``LOG_FORMAT=json`` every record
is one JSON object on one line — time, level, logger, message, and inside a
request its id and path — so a search for one request finds all its lines.
The default stays plain text, for a person at a terminal.

Every request carries an id: the proxy's ``X-Request-ID`` when it sends a
sensible one, else a new one; the answer gives it back in the same header.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import IO

from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id is believed only when it looks like one: no line breaks or
# markup smuggled into the logs through a header.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class JsonFormatter(logging.Formatter):
    """One record, one line of JSON. Chinese stays readable (no \\u escapes)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
            entry["path"] = request.path  # the path only: a status page's code is in its query
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def json_handler(stream: IO[str] | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.name = "tingjian-json"
    return handler


def _use_json(stream: IO[str] | None = None) -> None:
    """The root logger writes JSON; every logger of the app (and Flask's)
    propagates to it. Once per process: a second app does not add a second handler."""
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.name != "tingjian-json"] + [json_handler(stream)]
    if root.level > logging.INFO:
        root.setLevel(logging.INFO)


def init_app(app: Flask) -> None:
    if app.config["LOG_FORMAT"] == "json":
        _use_json()
        # Flask's own handler would write the same record again, as text.
        from flask.logging import default_handler

        app.logger.removeHandler(default_handler)

    @app.before_request
    def _request_id() -> None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex

    @app.after_request
    def _give_back(response):
        if "request_id" in g:
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response
