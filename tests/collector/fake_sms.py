"""A local stand-in for Aliyun's and Tencent Cloud's SMS APIs, checking what
the real servers check: the request's signature (Aliyun ACS3-HMAC-SHA256,
Tencent TC3-HMAC-SHA256) with the secret of a known key, the action and
version, and the required fields of SendSms. It answers success, or the
provider's error codes queued in ``script``, or its throttling error when a
number gets more than ``per_number_limit`` messages, or fails every
``fail_every``-th request with the provider's system error."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import uuid
from collections import deque
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qsl, quote, urlsplit

KEY_ID = "test-key-id"
KEY_SECRET = "test-key-secret"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class FakeSms:
    def __init__(self, provider: str, *, fail_every: int = 0, per_number_limit: int = 0):
        self.provider = provider
        self.fail_every = fail_every
        self.per_number_limit = per_number_limit
        self.script: deque[str] = deque()
        self.sent: list[dict] = []  # accepted messages: phone, sign, template, params
        self.requests = 0
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = fake.handle(self.command, self.path, dict(self.headers.items()), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # The decision, shared by both providers: a refusal scripted, a failure
    # injected, throttling, or acceptance.
    def _outcome(self, phone: str) -> str:
        with self.lock:
            self.requests += 1
            if self.script:
                return self.script.popleft()
            if self.fail_every and self.requests % self.fail_every == 0:
                return "system"
            if self.per_number_limit and sum(1 for m in self.sent if m["phone"] == phone) >= self.per_number_limit:
                return "throttle"
            return "ok"

    def handle(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, dict]:
        headers = {k.lower(): v for k, v in headers.items()}
        if self.provider == "aliyun":
            return self._aliyun(method, path, headers, body)
        return self._tencent(headers, body)

    def _aliyun(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, dict]:
        request_id = str(uuid.uuid4())

        def error(status: int, code: str, text: str) -> tuple[int, dict]:
            return status, {"Code": code, "Message": text, "RequestId": request_id}

        match = re.fullmatch(
            r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)",
            headers.get("authorization", ""),
        )
        if not match:
            return error(400, "MissingAuthorization", "no ACS3-HMAC-SHA256 Authorization")
        key_id, signed, signature = match.groups()
        if key_id != KEY_ID:
            return error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        names = signed.split(";")
        for needed in ("host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce"):
            if needed not in names:
                return error(400, "IncompleteSignature", f"{needed} is not signed")
        if headers.get("x-acs-content-sha256") != _sha256(body):
            return error(400, "SignatureDoesNotMatch", "x-acs-content-sha256 is not the body's hash")
        url = urlsplit(path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        canonical_query = "&".join(f"{quote(k, safe='~')}={quote(query[k], safe='~')}" for k in sorted(query))
        canonical = "\n".join(
            [method, url.path or "/", canonical_query]
            + [f"{name}:{headers.get(name, '').strip()}" for name in names]
            + ["", signed, headers["x-acs-content-sha256"]]
        )
        expected = hmac.new(
            KEY_SECRET.encode(), f"ACS3-HMAC-SHA256\n{_sha256(canonical.encode())}".encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return error(400, "SignatureDoesNotMatch", "Specified signature does not match our calculation.")
        if headers.get("x-acs-action") != "SendSms" or headers.get("x-acs-version") != "2017-05-25":
            return error(400, "InvalidAction.NotFound", "Specified api is not found")
        for field in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not query.get(field):
                return error(400, "MissingParameter", f"{field} is mandatory for this action.")
        phone = query["PhoneNumbers"]
        outcome = self._outcome(phone)
        if outcome == "system":
            return error(500, "isp.SYSTEM_ERROR", "system error")
        if outcome == "throttle":
            return 200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发号码天级流控", "RequestId": request_id}
        if outcome != "ok":
            return 200, {"Code": outcome, "Message": outcome, "RequestId": request_id}
        with self.lock:
            self.sent.append(
                {
                    "phone": phone,
                    "sign": query["SignName"],
                    "template": query["TemplateCode"],
                    "params": json.loads(query.get("TemplateParam") or "{}"),
                }
            )
        return 200, {"Code": "OK", "Message": "OK", "BizId": uuid.uuid4().hex, "RequestId": request_id}

    def _tencent(self, headers: dict, body: bytes) -> tuple[int, dict]:
        request_id = str(uuid.uuid4())

        def error(code: str, text: str) -> tuple[int, dict]:
            return 200, {"Response": {"Error": {"Code": code, "Message": text}, "RequestId": request_id}}

        match = re.fullmatch(
            r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/([a-z]+)/tc3_request, "
            r"SignedHeaders=([^,]+), Signature=([0-9a-f]+)",
            headers.get("authorization", ""),
        )
        if not match:
            return error("AuthFailure.InvalidAuthorization", "Authorization is not TC3-HMAC-SHA256")
        key_id, date, service, signed, signature = match.groups()
        if key_id != KEY_ID:
            return error("AuthFailure.SecretIdNotFound", "The SecretId is not found")
        timestamp = headers.get("x-tc-timestamp", "")
        if not timestamp.isdigit() or datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d") != date:
            return error("AuthFailure.SignatureExpire", "the timestamp and the credential's date differ")
        names = signed.split(";")
        canonical = "\n".join(
            ["POST", "/", ""]
            + [f"{name}:{headers.get(name, '').strip().lower()}" for name in names]
            + ["", signed, _sha256(body)]
        )
        key = _hmac(_hmac(_hmac(f"TC3{KEY_SECRET}".encode(), date), service), "tc3_request")
        to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n{_sha256(canonical.encode())}"
        if not hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), signature):
            return error("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
        if headers.get("x-tc-action") != "SendSms" or headers.get("x-tc-version") != "2021-01-11":
            return error("InvalidAction", "no such action")
        if not headers.get("x-tc-region"):
            return error("MissingParameter", "X-TC-Region is missing")
        fields = json.loads(body or b"{}")
        for field in ("PhoneNumberSet", "SmsSdkAppId", "TemplateId", "SignName"):
            if not fields.get(field):
                return error("MissingParameter", f"{field} is missing")
        phone = fields["PhoneNumberSet"][0]
        outcome = self._outcome(phone)
        if outcome == "system":
            return error("InternalError.Timeout", "internal timeout")
        code = {"ok": "Ok", "throttle": "LimitExceeded.PhoneNumberThirtySecondLimit"}.get(outcome, outcome)
        if code == "Ok":
            with self.lock:
                self.sent.append(
                    {
                        "phone": phone,
                        "sign": fields["SignName"],
                        "template": fields["TemplateId"],
                        "params": fields.get("TemplateParamSet") or [],
                    }
                )
        status = {"SerialNo": uuid.uuid4().hex, "PhoneNumber": phone, "Fee": 1, "Code": code, "Message": code}
        return 200, {"Response": {"SendStatusSet": [status], "RequestId": request_id}}
