"""WeChat's servers, simulated on loopback: the token, customer-service
messages and media downloads, with token expiry and failures on demand."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass
class FakeWeChat:
    appid: str = "wx-test-app"
    secret: str = "test-secret"
    tokens_issued: int = 0
    sent: list[dict] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    # Failures to serve before answering normally, by endpoint.
    fail_next: dict[str, int] = field(default_factory=dict)
    # Tokens WeChat no longer accepts (as after another process refreshed).
    revoked: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Set: WeChat refuses every message with this errcode (e.g. 43004, the resident unsubscribed).
    refuse: int | None = None
    # Called with each message before it is delivered (something else happening meanwhile).
    on_send: Callable[[dict], None] | None = None

    def _token_ok(self, request: Request) -> bool:
        token = request.args.get("access_token", "")
        return token.startswith("TOKEN-") and token not in self.revoked

    def _failing(self, name: str) -> bool:
        with self.lock:
            if self.fail_next.get(name, 0) > 0:
                self.fail_next[name] -= 1
                return True
        return False

    def __call__(self, environ, start_response):
        request = Request(environ)
        path = request.path
        if path.endswith("/token"):
            response = self.token(request)
        elif path.endswith("/message/custom/send"):
            response = self.send(request)
        elif path.endswith("/media/get"):
            response = self.media_get(request)
        else:
            response = self.json({"errcode": 404, "errmsg": "unknown api"}, 404)
        return response(environ, start_response)

    @staticmethod
    def json(data: dict, status: int = 200) -> Response:
        return Response(json.dumps(data), status=status, mimetype="application/json")

    def token(self, request: Request) -> Response:
        if self._failing("token"):
            return Response("busy", status=503)
        if request.args.get("appid") != self.appid or request.args.get("secret") != self.secret:
            return self.json({"errcode": 40125, "errmsg": "invalid appsecret"})
        with self.lock:
            self.tokens_issued += 1
            token = f"TOKEN-{self.tokens_issued}"
        return self.json({"access_token": token, "expires_in": 7200})

    def send(self, request: Request) -> Response:
        if not self._token_ok(request):
            return self.json({"errcode": 40001, "errmsg": "invalid credential"})
        if self._failing("send"):
            return Response("bad gateway", status=502)
        if self.refuse is not None:
            return self.json({"errcode": self.refuse, "errmsg": "refused"})
        message = json.loads(request.get_data())
        if self.on_send is not None:
            self.on_send(message)
        with self.lock:
            self.sent.append(message)
        return self.json({"errcode": 0, "errmsg": "ok"})

    def media_get(self, request: Request) -> Response:
        if not self._token_ok(request):
            return self.json({"errcode": 40001, "errmsg": "invalid credential"})
        if self._failing("media"):
            return Response("bad gateway", status=502)
        media_id = request.args.get("media_id", "")
        if media_id not in self.media:
            return self.json({"errcode": 40007, "errmsg": "invalid media_id"})
        data, content_type = self.media[media_id]
        return Response(data, mimetype=content_type)


class FakeWeChatServer:
    """Serves a ``FakeWeChat`` on 127.0.0.1 in a thread."""

    def __init__(self, fake: FakeWeChat) -> None:
        self.fake = fake
        self.server = make_server("127.0.0.1", 0, fake, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/cgi-bin/"

    def app_config(self, token: str, aes_key: str) -> dict:
        """The app's settings for an official account served by this fake."""
        return {
            "WECHAT_TOKEN": token,
            "WECHAT_ENCODING_AES_KEY": aes_key,
            "WECHAT_APPID": self.fake.appid,
            "WECHAT_APPSECRET": self.fake.secret,
            "WECHAT_API_BASE_URL": self.base_url,
            "PUBLIC_URL": "https://tingjian.test",
        }

    def __enter__(self) -> FakeWeChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
