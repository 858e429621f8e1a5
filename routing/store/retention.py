"""Kept no longer than needed (存储期限): the retention schedule by data class,
and the one map of where residents' personal data lives.

Three classes, each with its own clock:

- ``contact`` (联系方式和原始消息): a ticket's contact name and number, the exact
  address and coordinates, the channel's raw payloads and the sender's
  openid, numbers and ID numbers typed into free text; counted from the day
  the ticket closed (办结, or marked invalid), ``RETENTION_CONTACT_YEARS``.
- ``media`` (照片、录音和附件): the bytes and links of photos, voice notes and
  other attachments; from the same day, ``RETENTION_MEDIA_YEARS``.
- ``access_log`` (个人信息访问日志): entries older than ``ACCESS_LOG_DAYS`` are
  purged (``access_log.purge_access_log``).

``PERSONAL`` names every column that holds such data and what retention does
to it; ``NOT_PERSONAL`` every other text, JSON or binary column, with why it
is kept. A test holds the two maps to the models, so a column added later
must be placed in one of them before the suite passes. What is kept — topic,
agency, district, street, dates, statuses, ratings, the timeline's actions —
is what the scorecards and reports count, so they add up after the job as
before it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from routing.store.access_log import MINIMUM_DAYS
from routing.store.privacy import mask_address, mask_id_number, mask_text

CONTACT, MEDIA, ACCESS_LOG = "contact", "media", "access_log"
DATA_CLASSES = (CONTACT, MEDIA, ACCESS_LOG)

# What retention does to a column.
CLEAR = "clear"  # set to NULL
EMPTY = "empty"  # a required file: emptied
TEXT = "text"  # free text: phone and ID numbers masked, the words kept
JSON = "json"  # personal keys dropped, the rest's strings as TEXT
ADDRESS = "address"  # kept down to the street (mask_address)
COORDINATE = "coordinate"  # rounded to about a kilometre
SENDER_KEY = "sender_key"  # an idempotency key naming the sender: cleared
DELETE = "delete"  # the whole row goes (it holds nothing a figure counts)
PURGE = "purge"  # the access log: only ever deleted, past ACCESS_LOG_DAYS


@dataclass(frozen=True)
class Personal:
    data_class: str
    treatment: str


PERSONAL: dict[str, Personal] = {
    "ticket.contact_name": Personal(CONTACT, CLEAR),
    "ticket.contact_phone": Personal(CONTACT, CLEAR),
    "ticket.location_text": Personal(CONTACT, ADDRESS),
    "ticket.latitude": Personal(CONTACT, COORDINATE),
    "ticket.longitude": Personal(CONTACT, COORDINATE),
    "ticket.text": Personal(CONTACT, TEXT),
    "ticket.answer": Personal(CONTACT, TEXT),
    "ticket.extension_reason": Personal(CONTACT, TEXT),
    "message.sender": Personal(CONTACT, CLEAR),
    "message.external_id": Personal(CONTACT, SENDER_KEY),
    "message.payload": Personal(CONTACT, JSON),
    "ticket_event.reason": Personal(CONTACT, TEXT),
    "ticket_event.detail": Personal(CONTACT, JSON),
    "correction.text": Personal(CONTACT, TEXT),
    "callback.said": Personal(CONTACT, TEXT),
    "transcription.text": Personal(CONTACT, TEXT),
    "deputy_submission.place": Personal(CONTACT, ADDRESS),
    "deputy_notice.text": Personal(CONTACT, TEXT),
    "escalation.text": Personal(CONTACT, TEXT),
    "idempotency_key.caller": Personal(CONTACT, DELETE),
    "historical_ticket.text": Personal(CONTACT, TEXT),
    "ticket_import.content": Personal(CONTACT, EMPTY),
    "ticket_import.error": Personal(CONTACT, TEXT),
    "job.payload": Personal(CONTACT, DELETE),
    "job.last_error": Personal(CONTACT, DELETE),
    "attachment.data": Personal(MEDIA, CLEAR),
    "attachment.url": Personal(MEDIA, CLEAR),
    "attachment.media_id": Personal(MEDIA, CLEAR),
    "attachment.title": Personal(MEDIA, CLEAR),
    "access_log.address": Personal(ACCESS_LOG, PURGE),
    "access_log.detail": Personal(ACCESS_LOG, PURGE),
}

_STAFF = "staff's own record (who did what), not a resident's"
_CONFIG = "configuration the city set up"
_CODE = "a code, a state or a label of the system's own"
NOT_PERSONAL: dict[str, str] = {
    "api_client.name": _CONFIG, "api_client.key_hash": _CONFIG,
    "calendar_override.note": _CONFIG,
    "district.name": _CONFIG, "street.name": _CONFIG, "place_alias.alias": _CONFIG,
    "station.name": _CONFIG, "station.address": "a liaison station's public address",
    "agency.name": _CONFIG, "agency.short_name": _CONFIG, "agency.kind": _CODE,
    "agency_channel.kind": _CODE, "agency_channel.address": "an agency's office channel",
    "agency_channel.secret": _CONFIG,
    "agency_digest.detail": "ticket numbers behind an agency's daily counts",
    "answer_template.title": _CONFIG, "answer_template.text": _CONFIG, "answer_template.citation": _CONFIG,
    "knowledge_article.topic": _CODE, "knowledge_article.title": "a published answer, edited by staff",
    "knowledge_article.text": "a published answer, edited by staff",
    "knowledge_article.citation": "a published answer, edited by staff",
    "routing_rule.topic": _CONFIG, "routing_rule.subtopic": _CONFIG, "routing_rule.keywords": _CONFIG,
    "routing_rule.note": _CONFIG, "routing_rule.updated_by": _STAFF,
    "config_change.actor": _STAFF, "config_change.subject": _CODE, "config_change.action": _CODE,
    "config_change.before": "the configuration's audit trail", "config_change.after": "the configuration's audit trail",
    "config_change.summary": "the configuration's audit trail",
    "user_account.username": _STAFF, "user_account.display_name": _STAFF,
    "user_account.password_hash": _STAFF, "user_account.locale": _CODE, "user_account.mobile": _STAFF,
    "user_account.im_user_id": _STAFF, "user_account.totp_secret": _STAFF,
    "deputy.name": "a deputy's public office", "deputy.wechat_openid": "a deputy's own account, bound by them",
    "deputy.bind_code": _CODE,
    "staff_message.occasion": _CODE, "staff_message.template": _CODE, "staff_message.channel": _CODE,
    "staff_message.recipient": "staff's address, stored masked", "staff_message.result": _CODE,
    "staff_message.error": "a staff channel's answer", "staff_message.detail": "ticket numbers of a staff notice",
    "stored_file.key": "the installation's own files (models)", "stored_file.content_type": _CODE,
    "stored_file.data": "the installation's own files (models)",
    "shared_value.key": _CODE, "shared_value.value": "values processes share (tokens, versions)",
    "ticket.number": _CODE, "ticket.code": _CODE, "ticket.channel": _CODE, "ticket.topic": _CODE,
    "ticket.subtopic": _CODE, "ticket.prediction": "the classifier's reading: labels and confidences",
    "ticket.rating": _CODE,
    "message.channel": _CODE,
    "ticket_event.actor": _STAFF, "ticket_event.action": _CODE, "ticket_event.from_status": _CODE,
    "ticket_event.to_status": _CODE,
    "correction.field": _CODE, "correction.predicted": _CODE, "correction.label": _CODE,
    "model_retraining.trigger": _CODE, "model_retraining.outcome": _CODE,
    "model_retraining.version_before": _CODE, "model_retraining.version_after": _CODE,
    "model_retraining.note": "the trainer's account of a run: figures and reasons, no resident's words",
    "escalation.deadline": _CODE,
    "idempotency_key.key": "dropped with its row", "idempotency_key.body_hash": "dropped with its row",
    "historical_ticket.digest": _CODE, "historical_ticket.topic": _CODE,
    "historical_ticket.number": "the hotline's own ticket number", "historical_ticket.source": "the file's name",
    "ticket_import.file_name": "the file's name", "ticket_import.status": _CODE,
    "ticket_import.figures": "counts of what the import did",
    "job.kind": _CODE, "job.status": _CODE, "job.key": "dropped with its row", "job.locked_by": _CODE,
    "attachment.kind": _CODE, "attachment.content_type": _CODE,
    "transcription.status": _CODE, "transcription.source": _CODE, "transcription.last_error": _CODE,
    "deputy_notice.event": _CODE, "deputy_notice.stamp": _CODE,
    "deputy_submission.mode": _CODE,
    "access_log.role": _CODE, "access_log.action": _CODE,
}

# Keys of a JSON value (a message's payload, an event's detail) that name or
# reach a person: dropped. Everything else stays, its strings scrubbed: the
# figures read keys such as ``rating``, ``redo`` and ``reason_class``.
PERSONAL_KEYS = frozenset({
    "raw", "name", "phone", "contact", "contact_name", "contact_phone", "recipient", "to", "email",
    "device_id", "account_id", "sender", "openid", "media_url", "address", "location",
})
# 身份证号: six digits of the place, the birth date, three digits and a check character.
_ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])"
)


def scrub_text(text: str | None) -> str | None:
    """Free text with its ID numbers and phone numbers masked; the words stay
    (a complaint is still read as one). Idempotent."""
    if not text:
        return text
    return mask_text(_ID_NUMBER.sub(lambda m: mask_id_number(m.group()), text))


def scrub_json(value: Any) -> Any:
    """A JSON value without its personal keys, its strings scrubbed."""
    if isinstance(value, dict):
        return {k: scrub_json(v) for k, v in value.items() if k not in PERSONAL_KEYS}
    if isinstance(value, list):
        return [scrub_json(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def coarse(coordinate: float | None) -> float | None:
    """Two decimals, about a kilometre: the map of past years still shows
    where matters were raised, not whose door."""
    return None if coordinate is None else round(coordinate, 2)


# Treatments whose result does not depend on the value: one UPDATE each.
FIXED: dict[str, Any] = {CLEAR: None, EMPTY: b""}
TREATMENTS: dict[str, Callable[[Any], Any]] = {
    TEXT: scrub_text,
    JSON: scrub_json,
    ADDRESS: lambda value: (mask_address(value) or None) if value else value,
    COORDINATE: coarse,
    SENDER_KEY: lambda value: None if value and value.startswith("event") else value,
}


def columns_of(table: str, data_class: str) -> dict[str, str]:
    """The columns of ``table`` the class covers, with their treatment (rows
    a DELETE or PURGE treatment removes whole are not here)."""
    return {
        key.split(".", 1)[1]: rule.treatment
        for key, rule in PERSONAL.items()
        if key.split(".", 1)[0] == table and rule.data_class == data_class
        and (rule.treatment in TREATMENTS or rule.treatment in FIXED)
    }


def deleted_whole(table: str) -> bool:
    """Whether retention removes ``table``'s rows rather than scrubbing them."""
    return any(key.split(".", 1)[0] == table and rule.treatment == DELETE for key, rule in PERSONAL.items())


def tables_of(data_class: str) -> list[str]:
    return sorted({key.split(".", 1)[0] for key, rule in PERSONAL.items() if rule.data_class == data_class})


def years_before(moment: datetime, years: int) -> datetime:
    """The same day ``years`` earlier (28 February for a 29th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


@dataclass(frozen=True)
class Schedule:
    """存储期限: how long each class is kept after the ticket closed."""

    contact_years: int = 3
    media_years: int = 1
    access_log_days: int = MINIMUM_DAYS

    def cutoff(self, data_class: str, now: datetime) -> datetime:
        if data_class == CONTACT:
            return years_before(now, self.contact_years)
        if data_class == MEDIA:
            return years_before(now, self.media_years)
        return now - timedelta(days=self.access_log_days)


MAX_YEARS = 30


def retention_years(name: str, value: str | int | None, default: int) -> int:
    """A ``RETENTION_*_YEARS`` setting: whole years from 1 to 30."""
    text = str(value).strip() if value not in (None, "") else str(default)
    if not text.isdigit() or not 1 <= int(text) <= MAX_YEARS:
        raise ValueError(f"{name} must be a whole number of years from 1 to {MAX_YEARS}, not {value!r}")
    return int(text)
