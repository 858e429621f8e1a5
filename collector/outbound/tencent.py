"""Tencent Cloud SMS (腾讯云短信, API 2021-01-11 SendSms) through its SDK."""

from __future__ import annotations

from typing import Any, ClassVar

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from collector.outbound.base import OutboundMessage
from collector.outbound.sms import SmsChannel
from routing.texts import N_

DEFAULT_ENDPOINT = "sms.tencentcloudapi.com"
DEFAULT_REGION = "ap-guangzhou"


class TencentSms(SmsChannel):
    provider = "tencent"
    label = N_("短信（腾讯云）")
    # Tencent Cloud's documented SendSms codes that a retry cannot fix. The
    # frequency limits (LimitExceeded.*), RequestLimitExceeded, an empty SMS
    # package (FailedOperation.InsufficientBalanceInSmsPackage) and InternalError.*
    # may succeed later: retried.
    REFUSALS: ClassVar[dict[str, str]] = {
        "InvalidParameterValue.IncorrectPhoneNumber": "手机号码格式错误",
        "FailedOperation.TemplateIncorrectOrUnapproved": "短信模板不存在或未审核通过",
        "FailedOperation.SignatureIncorrectOrUnapproved": "短信签名不存在或未审核通过",
        "FailedOperation.PhoneNumberInBlacklist": "号码在免打扰名单中",
        "FailedOperation.ContainSensitiveWord": "内容含有敏感词",
        "InvalidParameterValue.TemplateParameterFormatError": "短信模板参数格式错误",
        "InvalidParameterValue.TemplateParameterLengthLimit": "短信参数超出长度限制",
        "UnauthorizedOperation.SmsSdkAppIdVerifyFail": "SdkAppId 校验失败",
        "AuthFailure.SecretIdNotFound": "SecretId 不存在",
        "AuthFailure.SignatureFailure": "签名校验失败",
    }

    def __init__(self, **settings: Any):
        super().__init__(**settings)
        endpoint = self.options.get("endpoint") or DEFAULT_ENDPOINT
        scheme, _, host = endpoint.rpartition("://")
        http = HttpProfile(endpoint=host, reqTimeout=10)
        http.scheme = scheme or "https"
        self.client = sms_client.SmsClient(
            credential.Credential(self.key_id, self.key_secret),
            self.options.get("region") or DEFAULT_REGION,
            ClientProfile(httpProfile=http),
        )

    def send(self, message: OutboundMessage) -> None:
        mobile, template, values = self.template_for(message)
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [f"+86{mobile}"]
        request.SmsSdkAppId = self.options.get("sdk_app_id", "")
        request.SignName = self.sign_name
        request.TemplateId = template
        request.TemplateParamSet = values
        try:
            answer = self.client.SendSms(request)
        except TencentCloudSDKException as error:  # the whole request was refused
            self.refuse_or_retry(error.get_code() or "", error.get_message() or "")
            raise
        status = answer.SendStatusSet[0] if answer.SendStatusSet else None
        if status is None:
            raise RuntimeError("tencent SMS: no status in the answer, to retry")
        if status.Code != "Ok":
            self.refuse_or_retry(status.Code or "", status.Message or "")
