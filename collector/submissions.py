"""Checking what a resident sent before anything is stored.

One set of rules for the API and the station form, so both refuse the same
input with the same words.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.flow.inbound import Contact, Inbound, Location, storable
from routing.store.areas import Station
from routing.store.db import MAX_INTEGER
from routing.texts import DomainError

MIN_TEXT = 5
MAX_TEXT = 5000
MAX_NAME = 64
MAX_LOCATION = 200
CHANNELS = {"web", "api", "import"}
_PHONE = re.compile(r"^\+?[0-9][0-9\- ]{4,30}$")


class SubmissionError(DomainError):
    """Bad input: ``field`` names the field, the message says what to do
    (a marked template and its values, translated where it is shown)."""

    def __init__(self, field: str, message: str, **values: Any) -> None:
        super().__init__(message, **values)
        self.field = field
        self.message = str(self)


def checked_text(value: Any) -> str:
    """A resident's text as every form and the API take it: made storable,
    trimmed, and between MIN_TEXT and MAX_TEXT long; else ``SubmissionError``."""
    if not isinstance(value, str):
        raise SubmissionError("text", "请填写反映内容（文字）。")
    text = storable(value).strip()
    if len(text) < MIN_TEXT:
        raise SubmissionError("text", f"反映内容太短，请至少写 {MIN_TEXT} 个字，说清楚问题和地点。")
    if len(text) > MAX_TEXT:
        raise SubmissionError("text", f"反映内容太长（{len(text)} 字），请控制在 {MAX_TEXT} 字以内。")
    return text


def find_station(session: Session, value: Any) -> Station | None:
    """A station by id or by name; None when no station was given."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise SubmissionError("station", "联络站应为编号或名称。")
    if isinstance(value, int) or (value.strip().isascii() and value.strip().isdigit()):
        # An id beyond any row's is no station (and beyond the column's range a database error).
        station = session.get(Station, int(value)) if 0 < int(value) <= MAX_INTEGER else None
    else:
        station = session.scalar(select(Station).where(Station.name == value.strip()))
    if station is None or not station.active:
        raise SubmissionError("station", "没有这个联络站，请从列表中选择。")
    return station


def checked_contact(value: Any) -> Contact:
    if value is None:
        return Contact()
    if not isinstance(value, dict):
        raise SubmissionError("contact", "联系方式应为包含 name 和 phone 的对象。")
    name, phone = value.get("name"), value.get("phone")
    if name is not None and (not isinstance(name, str) or len(name.strip()) > MAX_NAME):
        raise SubmissionError("contact.name", f"姓名应为不超过 {MAX_NAME} 字的文字。")
    if phone is not None and phone != "":
        if not isinstance(phone, str) or not _PHONE.match(phone.strip()):
            raise SubmissionError("contact.phone", "电话号码格式不对，请只填写数字，例如 13800000000。")
    return Contact(name=(name or "").strip() or None, phone=(phone or "").strip() or None)


def checked_sms_notice(value: Any) -> bool:
    """短信告知办理进展: whether the resident agrees to SMS at their phone;
    yes when not said (nothing is texted without a mobile number anyway)."""
    if not isinstance(value, bool):
        raise SubmissionError("sms_notice", "sms_notice 应为 true 或 false。")
    return value


def checked_location(value: Any) -> Location:
    if value is None or value == "":
        return Location()
    if isinstance(value, str):
        if len(value) > MAX_LOCATION:
            raise SubmissionError("location", f"地点描述请控制在 {MAX_LOCATION} 字以内。")
        return Location(text=value.strip() or None)
    if isinstance(value, dict):
        # Each checked on its own: a label that is no text ({}, 0) is refused, not passed over for ``text``.
        for key in ("label", "text"):
            given = value.get(key)
            if given is not None and (not isinstance(given, str) or len(given) > MAX_LOCATION):
                raise SubmissionError(f"location.{key}", f"地点描述请控制在 {MAX_LOCATION} 字以内。")
        text = value.get("label") or value.get("text")
        lat, lon = value.get("latitude"), value.get("longitude")
        for key, number, limit in (("latitude", lat, 90), ("longitude", lon, 180)):
            if number is not None and (
                isinstance(number, bool) or not isinstance(number, (int, float)) or not abs(number) <= limit
            ):
                raise SubmissionError(f"location.{key}", "经纬度应为数字（纬度 ±90、经度 ±180 以内）。")
        if (lat is None) != (lon is None):
            raise SubmissionError("location", "经度和纬度要同时提供。")
        return Location(text=text, latitude=lat, longitude=lon)
    raise SubmissionError("location", "地点应为文字，或包含 latitude、longitude 的对象。")


def parse_submission(session: Session, data: Any, *, default_channel: str = "web") -> Inbound:
    """A JSON object → an ``Inbound`` message, or ``SubmissionError``."""
    if not isinstance(data, dict):
        raise SubmissionError("body", "请求体应为 JSON 对象。")
    channel = data.get("channel", default_channel)
    if not isinstance(channel, str) or channel not in CHANNELS:
        raise SubmissionError("channel", f"channel 只能是 {', '.join(sorted(CHANNELS))} 之一。")
    return inbound_of(session, data, channel)


def inbound_of(session: Session, data: dict[str, Any], channel: str) -> Inbound:
    """The fields every channel's submission has (text, station, contact,
    location), checked, as an ``Inbound`` on ``channel``; or ``SubmissionError``.
    A channel with a protocol of its own (Open311) maps its fields to these
    and checks them here, by the same rules as the form and the API."""
    text = checked_text(data.get("text"))
    station = find_station(session, data.get("station"))
    contact = replace(checked_contact(data.get("contact")), sms_notice=checked_sms_notice(data.get("sms_notice", True)))
    confidential = data.get("confidential", False)
    if not isinstance(confidential, bool):
        raise SubmissionError("confidential", "confidential 应为 true 或 false。")
    contact = replace(contact, confidential=confidential)
    location = checked_location(data.get("location"))
    return Inbound(
        channel=channel,
        text=text,
        station=station,
        contact=contact,
        location=location,
        payload={"station": station.name if station else None},
    )
