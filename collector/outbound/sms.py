"""SMS (短信) to residents and deputies, through the providers Chinese
governments use: Aliyun (阿里云短信) or Tencent Cloud (腾讯云短信), chosen by
``SMS_PROVIDER``.

SMS in China may only carry templates registered with the provider (短信模板):
each occasion maps to a template code (``SMS_TEMPLATES``, ``occasion=CODE``
pairs) and fills its parameters; free text is never sent. A provider's
refusal that can never succeed (an invalid number, a template not approved)
raises ``SmsRefused``, a ``jobs.Permanent``, with the provider's code; anything
else (throttling, the network, the provider down) raises for the job to retry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any, ClassVar

from collector.outbound.base import Channel, OutboundMessage
from routing.store.jobs import Permanent
from routing.store.privacy import mask_phone
from routing.texts import N_

# The occasions a resident or a deputy gets an SMS for, and the template
# parameters each one fills (the template registered with the provider must use
# these names).
OCCASIONS: dict[str, tuple[str, ...]] = {
    "receipt": ("number", "code", "link"),
    "ask": ("number", "link"),
    "extend": ("number", "date"),
    "answer": ("number", "link"),
    "reopen": ("number", "link"),
    "deputy_notice": ("number", "link"),
}

_MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")


class SmsRefused(Permanent):
    """The provider refused for good; ``code`` is its error code."""

    def __init__(self, code: str, reason: str):
        super().__init__(f"{reason}（{code}）")
        self.code = code


def mainland_mobile(phone: str) -> str | None:
    """The 11-digit mainland mobile number in ``phone`` (spaces, dashes and a
    +86 or 86 prefix allowed), or None when it is no mobile number."""
    digits = re.sub(r"[\s\-()]", "", phone or "")
    digits = digits.removeprefix("+86") if digits.startswith("+86") else digits
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if _MAINLAND_MOBILE.fullmatch(digits) else None


def masked(phone: str) -> str:
    """A number as the timeline shows it: 138****5678 (the one mask of
    ``routing.store.privacy``)."""
    return mask_phone(mainland_mobile(phone) or phone)


def parse_templates(text: str) -> dict[str, str]:
    """``receipt=SMS_1, ask=SMS_2`` (commas, semicolons or new lines between
    pairs) as {occasion: template code}; an unknown occasion or a pair without
    a code is a clear error."""
    templates = {}
    for pair in re.split(r"[,;\n]", text or ""):
        if not pair.strip():
            continue
        occasion, _, code = (part.strip() for part in pair.partition("="))
        if occasion not in OCCASIONS:
            raise ValueError(f"SMS_TEMPLATES: unknown occasion {occasion!r} (known: {', '.join(OCCASIONS)})")
        if not code:
            raise ValueError(f"SMS_TEMPLATES: no template code for {occasion!r}")
        templates[occasion] = code
    return templates


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """``22:00-08:00`` as (start, end); empty means no quiet hours."""
    if not (text or "").strip():
        return None
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if not match:
        raise ValueError(f"SMS_QUIET_HOURS: {text!r} is not like 22:00-08:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    return time(h1, m1), time(h2, m2)


def quiet_until(now: datetime, quiet: tuple[time, time] | None) -> datetime | None:
    """When the quiet hours around ``now`` end, or None when ``now`` is not in
    them: a non-urgent SMS waits until then (deferred, never dropped)."""
    if quiet is None:
        return None
    start, end = quiet
    clock = now.time()
    if start <= end:
        inside = start <= clock < end
    else:  # over midnight, 22:00-08:00
        inside = clock >= start or clock < end
    if not inside:
        return None
    until = now.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    return until if until > now else until + timedelta(days=1)


class SmsChannel(Channel):
    """The SMS channel; ``from_config`` builds the provider's subclass."""

    name = "sms"
    label = N_("短信")
    provider: ClassVar[str] = ""
    # What the administrators' channel page names when SMS is off.
    required_settings: ClassVar[tuple[str, ...]] = (
        "SMS_PROVIDER", "SMS_ACCESS_KEY_ID", "SMS_ACCESS_KEY_SECRET", "SMS_SIGN_NAME", "SMS_TEMPLATES",
    )
    # The provider's error codes that can never succeed, with a reason a person can read.
    REFUSALS: ClassVar[dict[str, str]] = {}

    def __init__(self, *, key_id: str, key_secret: str, sign_name: str, templates: Mapping[str, str], **options: Any):
        self.key_id = key_id
        self.key_secret = key_secret
        self.sign_name = sign_name
        self.templates = dict(templates)
        self.options = options

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **_runtime: Any) -> Channel | None:
        from collector.outbound.aliyun import AliyunSms
        from collector.outbound.tencent import TencentSms

        providers = {AliyunSms.provider: AliyunSms, TencentSms.provider: TencentSms}
        chosen = (config.get("SMS_PROVIDER") or "").strip().lower()
        if not chosen:
            return None
        if chosen not in providers:
            raise ValueError(f"SMS_PROVIDER: {chosen!r} is none of {', '.join(providers)}")
        return providers[chosen](
            key_id=config.get("SMS_ACCESS_KEY_ID", ""),
            key_secret=config.get("SMS_ACCESS_KEY_SECRET", ""),
            sign_name=config.get("SMS_SIGN_NAME", ""),
            templates=parse_templates(config.get("SMS_TEMPLATES", "")),
            sdk_app_id=config.get("SMS_SDK_APP_ID", ""),
            region=config.get("SMS_REGION", ""),
            endpoint=config.get("SMS_ENDPOINT", ""),
        )

    def template_for(self, message: OutboundMessage) -> tuple[str, str, list[str]]:
        """(mobile, template code, parameters in the occasion's order), or a
        refusal when the number or the occasion's template is missing."""
        mobile = mainland_mobile(message.recipient)
        if mobile is None:
            raise SmsRefused("invalid_number", "不是有效的手机号码")
        if message.occasion not in self.templates:
            raise SmsRefused("no_template", f"未配置“{message.occasion}”的短信模板")
        params = [str(message.params.get(key, "")) for key in OCCASIONS.get(message.occasion, ())]
        return mobile, self.templates[message.occasion], params

    def refuse_or_retry(self, code: str, text: str) -> None:
        """Raise the refusal for a code that cannot succeed, else an error to retry."""
        if code in self.REFUSALS:
            raise SmsRefused(code, self.REFUSALS[code])
        raise RuntimeError(f"{self.provider} SMS not sent, to retry: {code} {text}")
