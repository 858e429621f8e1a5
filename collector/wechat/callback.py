"""The WeChat callback, ``/wechat``: verification, messages in, replies out.

The signature is checked before anything is read or stored. WeChat wants an
answer within five seconds and retries three times without one, so only the
storing and the (sub-millisecond) classification happen here; media,
transcription and notifications are jobs.
"""

from __future__ import annotations

import logging
from xml.parsers.expat import ExpatError

from flask import Blueprint, Response, abort, current_app, request
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from routing.clock import now

from ..context import db_session, services
from ..web import status_url
from .intake import Settings, receive

log = logging.getLogger(__name__)
bp = Blueprint("wechat", __name__)

# WeChat reads a plain "success" as "no reply, and do not retry".
NO_REPLY = "success"


def _config(name: str) -> str:
    return current_app.config.get(name) or ""


def _verified() -> None:
    token = _config("WECHAT_TOKEN")
    if not token:
        abort(404)
    args = request.args
    try:
        check_signature(token, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
    except InvalidSignatureException:
        abort(403)


def _crypto() -> WeChatCrypto:
    return WeChatCrypto(_config("WECHAT_TOKEN"), _config("WECHAT_ENCODING_AES_KEY"), _config("WECHAT_APPID"))


def _text(body: str) -> Response:
    return Response(body, mimetype="text/xml" if body.startswith("<xml") else "text/plain")


@bp.get("/wechat")
def verify():
    """WeChat's server check when the callback URL is configured."""
    _verified()
    return Response(request.args.get("echostr", ""), mimetype="text/plain")


@bp.post("/wechat")
def callback():
    _verified()
    body = request.get_data()
    args = request.args
    encrypted = args.get("encrypt_type") == "aes"
    try:
        if encrypted:
            xml = _crypto().decrypt_message(
                body, args.get("msg_signature", ""), args.get("timestamp", ""), args.get("nonce", "")
            )
        else:
            xml = body
        msg = parse_message(xml)
    except (InvalidSignatureException, InvalidAppIdException):
        abort(403)
    except (ExpatError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        # Malformed XML, entity tricks (expat refuses DTD entities), no MsgType.
        log.info("wechat: refused a body that is not a message: %s", type(exc).__name__)
        abort(400)
    if msg is None:
        abort(400)

    app_services = services()
    settings = Settings(
        window=current_app.config["WECHAT_MESSAGE_WINDOW"],
        threshold=app_services.threshold,
        agency_threshold=app_services.agency_threshold,
        status_url=status_url,
    )
    outcome = receive(db_session(), msg, app_services.classifier.current(), now(), settings)
    if outcome.jobs:
        app_services.wake_worker()
    if not outcome.reply:
        return _text(NO_REPLY)
    reply = TextReply(content=outcome.reply, message=msg).render()
    if encrypted:
        reply = _crypto().encrypt_message(reply, args.get("nonce", ""), args.get("timestamp"))
    return _text(reply)
