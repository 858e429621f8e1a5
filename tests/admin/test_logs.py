"""LOG_FORMAT=json: one JSON object a line, with the request's id and path."""

from __future__ import annotations

import io
import json
import logging

import pytest
from flask import Flask

from admin.logs import REQUEST_ID_HEADER, json_handler

log = logging.getLogger("tingjian.test")


@pytest.fixture
def lines(app: Flask):
    """What the app's JSON handler writes, line by line."""
    stream = io.StringIO()
    handler = json_handler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_record_in_a_request_carries_its_id_and_path(app, lines):
    @app.get("/log-something")
    def log_something():
        log.info("已受理 %s", "工单 1")
        return "done"

    response = app.test_client().get("/log-something?code=SECRET", headers={REQUEST_ID_HEADER: "lb-42"})
    assert response.headers[REQUEST_ID_HEADER] == "lb-42"
    (entry,) = [e for e in lines() if e["logger"] == "tingjian.test"]
    assert entry["message"] == "已受理 工单 1" and entry["level"] == "INFO"
    assert (entry["request_id"], entry["path"]) == ("lb-42", "/log-something")
    assert "SECRET" not in json.dumps(entry) and entry["time"].endswith("+00:00")


def test_a_request_id_that_is_not_one_is_replaced(client):
    response = client.get("/healthz", headers={REQUEST_ID_HEADER: '"}, "level": "FORGED'})
    assert len(response.headers[REQUEST_ID_HEADER]) == 32 and "FORGED" not in response.headers[REQUEST_ID_HEADER]


def test_outside_a_request_and_with_an_exception_it_is_still_one_line(lines):
    try:
        raise ValueError("坏了")
    except ValueError:
        log.exception("任务失败")
    (entry,) = lines()
    assert "request_id" not in entry and entry["message"] == "任务失败"
    assert "ValueError: 坏了" in entry["exception"]


@pytest.mark.parametrize("app_config", [{"LOG_FORMAT": "json"}])
def test_log_format_json_puts_one_json_handler_on_the_root_logger(app):
    handlers = [h for h in logging.getLogger().handlers if h.name == "tingjian-json"]
    try:
        assert len(handlers) == 1
        assert not app.logger.handlers  # Flask's text handler would write each record twice
    finally:
        for handler in handlers:
            logging.getLogger().removeHandler(handler)


def test_plain_text_stays_the_default(app):
    assert app.config["LOG_FORMAT"] == "text"
    assert not [h for h in logging.getLogger().handlers if h.name == "tingjian-json"]
