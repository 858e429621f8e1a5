"""Aliyun SMS (阿里云短信服务, Dysmsapi 2017-05-25 SendSms) through its SDK."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from alibabacloud_dysmsapi20170525 import models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import models as openapi_models
from Tea.exceptions import TeaException

from collector.outbound.base import OutboundMessage
from collector.outbound.sms import OCCASIONS, SmsChannel, SmsRefused
from routing.texts import N_

DEFAULT_ENDPOINT = "dysmsapi.aliyuncs.com"


class AliyunSms(SmsChannel):
    provider = "aliyun"
    label = N_("短信（阿里云）")
    # Aliyun's documented SendSms error codes that a retry cannot fix. Throttling
    # (isv.BUSINESS_LIMIT_CONTROL, isv.DAY_LIMIT_CONTROL), isp.SYSTEM_ERROR and
    # an account in arrears (isv.OUT_OF_SERVICE) may succeed later: retried.
    REFUSALS: ClassVar[dict[str, str]] = {
        "isv.MOBILE_NUMBER_ILLEGAL": "手机号码格式错误",
        "isv.SMS_TEMPLATE_ILLEGAL": "短信模板不存在或未审核通过",
        "isv.SMS_SIGNATURE_ILLEGAL": "短信签名不存在或未审核通过",
        "isv.TEMPLATE_MISSING_PARAMETERS": "短信模板缺少参数",
        "isv.INVALID_PARAMETERS": "参数格式错误",
        "isv.PARAM_LENGTH_LIMIT": "短信参数超出长度限制",
        "isv.BLACK_KEY_CONTROL_LIMIT": "内容含有禁止发送的关键字",
        "isv.ACCOUNT_NOT_EXISTS": "短信账户不存在",
        "isv.ACCOUNT_ABNORMAL": "短信账户异常",
        "InvalidAccessKeyId.NotFound": "AccessKey 不存在",
        "SignatureDoesNotMatch": "AccessKey 签名不匹配",
    }

    def __init__(self, **settings: Any):
        super().__init__(**settings)
        endpoint = self.options.get("endpoint") or DEFAULT_ENDPOINT
        scheme, _, host = endpoint.rpartition("://")
        self.client = Client(
            openapi_models.Config(
                access_key_id=self.key_id,
                access_key_secret=self.key_secret,
                endpoint=host,
                protocol=scheme or "https",
                read_timeout=10000,
                connect_timeout=5000,
            )
        )

    def send(self, message: OutboundMessage) -> None:
        mobile, template, values = self.template_for(message)
        params = dict(zip(OCCASIONS.get(message.occasion, ()), values, strict=True))
        request = models.SendSmsRequest(
            phone_numbers=mobile,
            sign_name=self.sign_name,
            template_code=template,
            template_param=json.dumps(params, ensure_ascii=False),
        )
        try:
            body = self.client.send_sms(request).body
        except TeaException as error:  # the HTTP answer was an error (400, 403, 5xx)
            self.refuse_or_retry(str(error.code or ""), str(error.message or ""))
            raise  # refuse_or_retry always raises; for the type checker
        if body.code != "OK":
            self.refuse_or_retry(body.code or "", body.message or "")


__all__ = ["AliyunSms", "SmsRefused"]
