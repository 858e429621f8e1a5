"""SMS to residents and deputies through Aliyun's and Tencent Cloud's own SDKs,
pointed at a local fake that checks their signatures and fields."""

from __future__ import annotations

from datetime import datetime

import pytest

from collector.outbound.base import OutboundMessage
from collector.outbound.registry import build_channels, channel_classes
from collector.outbound.sms import (
    SmsChannel,
    SmsRefused,
    mainland_mobile,
    masked,
    parse_quiet_hours,
    parse_templates,
    quiet_until,
)
from routing.store.jobs import Permanent
from tests.collector.fake_sms import KEY_ID, KEY_SECRET, FakeSms

TEMPLATES = "receipt=SMS_100, ask=SMS_101, answer=SMS_102"
RECEIPT = OutboundMessage(
    recipient="138 0013 8000",
    text="",
    occasion="receipt",
    params={"number": "TJ-2026-0001", "code": "8K3Q", "link": "https://tj.example/s/8K3Q"},
)


def config(provider: str, fake: FakeSms, **overrides) -> dict:
    return {
        "SMS_PROVIDER": provider,
        "SMS_ACCESS_KEY_ID": KEY_ID,
        "SMS_ACCESS_KEY_SECRET": KEY_SECRET,
        "SMS_SIGN_NAME": "听见",
        "SMS_SDK_APP_ID": "1400000000",
        "SMS_REGION": "ap-guangzhou",
        "SMS_ENDPOINT": fake.endpoint,
        "SMS_TEMPLATES": TEMPLATES,
    } | overrides


@pytest.fixture(params=["aliyun", "tencent"])
def provider(request):
    with FakeSms(request.param) as fake:
        yield request.param, fake, SmsChannel.from_config(config(request.param, fake))


def test_unconfigured_sms_is_off_and_registered():
    assert SmsChannel in channel_classes()
    assert "sms" not in build_channels({"SMS_PROVIDER": ""})


def test_an_unknown_provider_is_a_clear_error():
    with pytest.raises(ValueError, match="SMS_PROVIDER"):
        SmsChannel.from_config({"SMS_PROVIDER": "carrier-pigeon"})


def test_the_registry_builds_the_chosen_provider():
    with FakeSms("tencent") as fake:
        channels = build_channels(config("tencent", fake))
    assert channels["sms"].provider == "tencent"


def test_a_receipt_goes_out_as_the_occasions_template_with_its_parameters(provider):
    name, fake, channel = provider
    channel.send(RECEIPT)
    [sent] = fake.sent
    assert sent["template"] == "SMS_100"
    assert sent["sign"] == "听见"
    if name == "aliyun":
        assert sent["phone"] == "13800138000"
        assert sent["params"] == {"number": "TJ-2026-0001", "code": "8K3Q", "link": "https://tj.example/s/8K3Q"}
    else:
        assert sent["phone"] == "+8613800138000"
        assert sent["params"] == ["TJ-2026-0001", "8K3Q", "https://tj.example/s/8K3Q"]


def test_a_wrong_secret_fails_the_providers_signature_check(provider):
    name, fake, _ = provider
    channel = SmsChannel.from_config(config(name, fake, SMS_ACCESS_KEY_SECRET="not-the-secret"))
    with pytest.raises(SmsRefused, match="Signature"):
        channel.send(RECEIPT)
    assert fake.sent == []


REFUSALS = {
    "aliyun": ["isv.MOBILE_NUMBER_ILLEGAL", "isv.SMS_TEMPLATE_ILLEGAL", "isv.SMS_SIGNATURE_ILLEGAL"],
    "tencent": [
        "InvalidParameterValue.IncorrectPhoneNumber",
        "FailedOperation.TemplateIncorrectOrUnapproved",
        "FailedOperation.SignatureIncorrectOrUnapproved",
    ],
}
RETRIES = {
    "aliyun": ["isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "isv.OUT_OF_SERVICE"],
    "tencent": ["LimitExceeded.PhoneNumberDailyLimit", "FailedOperation.InsufficientBalanceInSmsPackage"],
}


def test_what_can_never_succeed_is_given_up_with_the_providers_code(provider):
    name, fake, channel = provider
    for code in REFUSALS[name]:
        fake.script.append(code)
        with pytest.raises(Permanent) as refused:
            channel.send(RECEIPT)
        assert code in str(refused.value)
    assert fake.sent == []


def test_throttling_and_passing_trouble_raise_to_be_retried_not_given_up(provider):
    name, fake, channel = provider
    for code in RETRIES[name]:
        fake.script.append(code)
        with pytest.raises(Exception) as failed:
            channel.send(RECEIPT)
        assert not isinstance(failed.value, Permanent)
    channel.send(RECEIPT)
    assert len(fake.sent) == 1


def test_the_providers_own_throttling_is_retried(provider):
    _, fake, channel = provider
    fake.per_number_limit = 1
    channel.send(RECEIPT)
    with pytest.raises(Exception) as throttled:
        channel.send(RECEIPT)
    assert not isinstance(throttled.value, Permanent)
    assert len(fake.sent) == 1


def test_a_provider_down_is_retried(provider):
    _, fake, channel = provider
    fake.fail_every = 1
    with pytest.raises(Exception) as failed:
        channel.send(RECEIPT)
    assert not isinstance(failed.value, Permanent)


def test_no_number_or_no_template_is_refused_before_asking_the_provider(provider):
    _, fake, channel = provider
    with pytest.raises(SmsRefused, match="手机号码"):
        channel.send(OutboundMessage(recipient="010-12345678", text="", occasion="receipt"))
    with pytest.raises(SmsRefused, match="reopen"):
        channel.send(OutboundMessage(recipient="13800138000", text="", occasion="reopen"))
    assert fake.requests == 0


def test_mainland_mobile_numbers():
    assert mainland_mobile("+86 138-0013-8000") == "13800138000"
    assert mainland_mobile("8613800138000") == "13800138000"
    assert mainland_mobile("12800138000") is None
    assert mainland_mobile("010 12345678") is None
    assert masked("13800135678") == "138****5678"


def test_templates_setting():
    assert parse_templates("receipt=SMS_1;ask = SMS_2\nanswer=SMS_3") == {
        "receipt": "SMS_1",
        "ask": "SMS_2",
        "answer": "SMS_3",
    }
    with pytest.raises(ValueError, match="unknown occasion"):
        parse_templates("welcome=SMS_9")
    with pytest.raises(ValueError, match="no template code"):
        parse_templates("receipt=")


def test_quiet_hours_defer_to_their_end():
    quiet = parse_quiet_hours("22:00-08:00")
    assert quiet_until(datetime(2026, 12, 3, 23, 30), quiet) == datetime(2026, 12, 4, 8, 0)
    assert quiet_until(datetime(2026, 12, 3, 6, 15), quiet) == datetime(2026, 12, 3, 8, 0)
    assert quiet_until(datetime(2026, 12, 3, 12, 0), quiet) is None
    assert quiet_until(datetime(2026, 12, 3, 23, 30), parse_quiet_hours("")) is None
    with pytest.raises(ValueError, match="SMS_QUIET_HOURS"):
        parse_quiet_hours("late")
