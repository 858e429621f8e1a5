"""WeCom's and DingTalk's servers, simulated on loopback, checking what the
real ones check: WeCom's token (expired: errcode 42001), agent id and the
fields each message type requires; a DingTalk robot's signature and time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Self

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


def _json(data: dict, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


@dataclass
class FakeWeCom:
    corp_id: str = "ww-test-corp"
    secret: str = "wecom-test-secret"
    agent_id: int = 1000002
    members: set[str] = field(default_factory=lambda: {"zhangsan", "lisi"})
    tokens_issued: int = 0
    expired: set[str] = field(default_factory=set)
    sent: list[dict] = field(default_factory=list)
    # Sends to answer 502 before answering normally (WeCom down for a while).
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def expire_all(self) -> None:
        """Every token issued so far expires (WeCom answers 42001 to them)."""
        with self.lock:
            self.expired |= {f"WECOM-{n}" for n in range(1, self.tokens_issued + 1)}

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path.endswith("/gettoken"):
            response = self.gettoken(request)
        elif request.path.endswith("/message/send"):
            response = self.send(request)
        else:
            response = _json({"errcode": 404, "errmsg": "unknown api"}, 404)
        return response(environ, start_response)

    def gettoken(self, request: Request) -> Response:
        if request.args.get("corpid") != self.corp_id:
            return _json({"errcode": 40013, "errmsg": "invalid corpid"})
        if request.args.get("corpsecret") != self.secret:
            return _json({"errcode": 40001, "errmsg": "invalid secret"})
        with self.lock:
            self.tokens_issued += 1
            token = f"WECOM-{self.tokens_issued}"
        return _json({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})

    def send(self, request: Request) -> Response:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return Response("bad gateway", status=502)
        token = request.args.get("access_token", "")
        if token in self.expired:
            return _json({"errcode": 42001, "errmsg": "access_token expired"})
        if not token.startswith("WECOM-") or int(token[6:]) > self.tokens_issued:
            return _json({"errcode": 40014, "errmsg": "invalid access_token"})
        body = json.loads(request.get_data())
        if body.get("agentid") != self.agent_id:
            return _json({"errcode": 40056, "errmsg": "invalid agentid"})
        kind = body.get("msgtype")
        required = {"text": ("content",), "textcard": ("title", "description", "url")}.get(kind)
        if required is None or any(not (body.get(kind) or {}).get(name) for name in required):
            return _json({"errcode": 41008, "errmsg": f"missing {kind} field"})
        users = [u for u in (body.get("touser") or "").split("|") if u]
        if not users:
            return _json({"errcode": 40031, "errmsg": "invalid user list"})
        invalid = [u for u in users if u not in self.members]
        if len(invalid) == len(users):
            return _json({"errcode": 81013, "errmsg": "user & party & tag all invalid"})
        with self.lock:
            self.sent.append(body)
        return _json({"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(invalid)})


@dataclass
class FakeRobots:
    """Both providers' robot webhooks: WeCom's by key, DingTalk's by access
    token, a DingTalk robot optionally signed with its secret."""

    wecom_keys: set[str] = field(default_factory=lambda: {"wecom-robot-key"})
    dingtalk_secrets: dict[str, str] = field(default_factory=lambda: {"ding-token": "SECding-secret", "plain": ""})
    wecom_sent: list[dict] = field(default_factory=list)
    dingtalk_sent: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path.endswith("/webhook/send"):
            response = self.wecom(request)
        elif request.path.endswith("/robot/send"):
            response = self.dingtalk(request)
        else:
            response = _json({"errcode": 404, "errmsg": "unknown api"}, 404)
        return response(environ, start_response)

    @staticmethod
    def _text(body: dict) -> str:
        return body.get("msgtype") == "text" and (body.get("text") or {}).get("content") or ""

    def wecom(self, request: Request) -> Response:
        if request.args.get("key") not in self.wecom_keys:
            return _json({"errcode": 93000, "errmsg": "invalid webhook url"})
        body = json.loads(request.get_data())
        if not self._text(body):
            return _json({"errcode": 40008, "errmsg": "invalid message type"})
        with self.lock:
            self.wecom_sent.append(body)
        return _json({"errcode": 0, "errmsg": "ok"})

    def dingtalk(self, request: Request) -> Response:
        token = request.args.get("access_token", "")
        if token not in self.dingtalk_secrets:
            return _json({"errcode": 300001, "errmsg": "token is not exist"})
        secret = self.dingtalk_secrets[token]
        if secret:
            stamp, sign = request.args.get("timestamp", ""), request.args.get("sign", "")
            if not stamp.isdigit() or abs(int(stamp) - time.time() * 1000) > 3600 * 1000:
                return _json({"errcode": 310000, "errmsg": "invalid timestamp"})
            expected = base64.b64encode(
                hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
            ).decode()
            if not hmac.compare_digest(sign, expected):
                return _json({"errcode": 310000, "errmsg": "sign not match"})
        body = json.loads(request.get_data())
        if not self._text(body):
            return _json({"errcode": 40035, "errmsg": "missing text content"})
        with self.lock:
            self.dingtalk_sent.append(body)
        return _json({"errcode": 0, "errmsg": "ok"})


class FakeServer:
    """Serves a fake on 127.0.0.1 in a thread."""

    def __init__(self, fake) -> None:
        self.fake = fake
        self.server = make_server("127.0.0.1", 0, fake, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
