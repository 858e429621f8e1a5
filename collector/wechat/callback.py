"""The WeChat callback, ``/wechat``: verification, messages in, replies out.

The signature is checked before anything is read or stored. WeChat wants an
answer within five seconds and retries three times without one, so only the
storing happens here; classification, media, transcription and
notifications are jobs. The busiest case, a new matter in text, is answered
before Flask by the quick lane (``lane.py``), with the same functions.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from xml.parsers.expat import ExpatError

from flask import Blueprint, Response, abort, current_app, request
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from routing.clock import now
from routing.dispatch.places import valid_coordinates

from ..context import db_session, services
from ..web import status_url
from .delivery import Settings
from .intake import receive

log = logging.getLogger(__name__)
bp = Blueprint("wechat", __name__)

# WeChat reads a plain "success" as "no reply, and do not retry".
NO_REPLY = "success"


class Refused(Exception):
    """A request that is no message of WeChat's: ``status`` says why (403
    for a wrong signature, 400 for what is not a message)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def verified(config: Mapping[str, Any], args: Mapping[str, str]) -> None:
    """The request's signature, from WeChat's token (raises ``Refused``)."""
    try:
        check_signature(
            config.get("WECHAT_TOKEN") or "", args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", "")
        )
    except InvalidSignatureException:
        raise Refused(403) from None


def open_message(config: Mapping[str, Any], args: Mapping[str, str], body: bytes) -> Any:
    """The message in a POST's body, once the request is ``verified``: in
    safe mode its own signature checked and decrypted; parsed (raises
    ``Refused``)."""
    try:
        if args.get("encrypt_type") == "aes":
            xml = _crypto(config).decrypt_message(
                body, args.get("msg_signature", ""), args.get("timestamp", ""), args.get("nonce", "")
            )
        else:
            xml = body
        if _declares(xml):
            # WeChat never sends a DTD; refused here whatever the XML parser
            # below does with one (newer xmltodict ignores entities instead of failing).
            raise ValueError("a document type declaration")
        msg = parse_message(xml)
    except (InvalidSignatureException, InvalidAppIdException):
        raise Refused(403) from None
    except (ExpatError, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        # Malformed XML, entity tricks (expat refuses DTD entities), no MsgType,
        # an empty or repeated one (wechatpy then calls .lower() on None or a list).
        log.info("wechat: refused a body that is not a message: %s", type(exc).__name__)
        raise Refused(400) from None
    if msg is None or not well_formed(msg):
        raise Refused(400)
    return msg


# WeChat's identifiers are short; the message table keeps the sender in 128 characters.
MAX_SENDER = 128
# MsgId and CreateTime are 64-bit numbers on WeChat's side.
MAX_WECHAT_NUMBER = 2**63 - 1


def _declares(xml: bytes | str) -> bool:
    return (b"<!DOCTYPE" if isinstance(xml, bytes) else "<!DOCTYPE") in (xml.upper() if xml else xml)


def well_formed(msg: Any) -> bool:
    """Whether a parsed message has what WeChat always sends, in its types.

    wechatpy converts fields when they are read, so a signed but malformed
    body (an element where text belongs, a MsgId that is no number, a NaN for
    a latitude) would otherwise fail deep in intake, after work had begun.
    """
    data = msg._data
    if any(not isinstance(value, str) and value is not None for value in data.values()):
        return False  # nested elements or repeated ones: never from WeChat
    try:
        if not (isinstance(msg.source, str) and 0 < len(msg.source) <= MAX_SENDER):
            return False
        if not 0 <= int(msg.time) <= MAX_WECHAT_NUMBER:
            return False
        if msg.type != "event" and "MsgId" in data and not 0 <= int(data["MsgId"]) <= MAX_WECHAT_NUMBER:
            return False
        if msg.type == "location":
            latitude, longitude = (float(value) for value in msg.location)
            if not valid_coordinates(latitude, longitude):
                return False
    except (TypeError, ValueError, OverflowError):
        return False
    return True


def sealed_reply(config: Mapping[str, Any], args: Mapping[str, str], msg: Any, reply: str | None) -> str:
    """The answer's body: a passive text reply, encrypted when the request
    was, or ``success`` where no reply is due."""
    if not reply:
        return NO_REPLY
    body = TextReply(content=reply, message=msg).render()
    if args.get("encrypt_type") == "aes":
        body = _crypto(config).encrypt_message(body, args.get("nonce", ""), args.get("timestamp"))
    return body


def content_type(body: str) -> str:
    return "text/xml" if body.startswith("<xml") else "text/plain"


def _crypto(config: Mapping[str, Any]) -> WeChatCrypto:
    return _crypto_of(config.get("WECHAT_TOKEN"), config.get("WECHAT_ENCODING_AES_KEY"), config.get("WECHAT_APPID"))


@lru_cache(maxsize=4)
def _crypto_of(token: str | None, aes_key: str | None, appid: str | None) -> WeChatCrypto:
    """One per account's settings: it holds no state between messages."""
    return WeChatCrypto(token, aes_key, appid)


def _configured() -> Mapping[str, Any]:
    config = current_app.config
    if not config.get("WECHAT_TOKEN"):
        abort(404)
    return config


@bp.get("/wechat")
def verify():
    """WeChat's server check when the callback URL is configured."""
    try:
        verified(_configured(), request.args)
    except Refused as refused:
        abort(refused.status)
    return Response(request.args.get("echostr", ""), mimetype="text/plain")


@bp.post("/wechat")
def callback():
    config = _configured()
    try:
        verified(config, request.args)  # before the body is even read
        msg = open_message(config, request.args, request.get_data())
    except Refused as refused:
        abort(refused.status)
    app_services = services()
    settings = Settings(
        window=config["WECHAT_MESSAGE_WINDOW"],
        threshold=app_services.threshold,
        agency_threshold=app_services.agency_threshold,
        status_url=status_url,
        ticket_ids=app_services.ticket_ids,
        redo_escalation=config["REDO_ESCALATION"],
    )
    outcome = receive(db_session(), msg, app_services.classifier.current(), now(), settings)
    if outcome.jobs:
        app_services.wake_worker()
    body = sealed_reply(config, request.args, msg, outcome.reply)
    return Response(body, mimetype=content_type(body))
