"""Open311's POST requests: a service request's form fields as the same
``Inbound`` every channel hands to intake (collector.intake.submit).

The fields are checked by the rules of the station form and the JSON API
(``collector.submissions``), so Open311 refuses what they refuse, naming the
Open311 parameter. The service the client chose is kept with the message;
the classifier reads the description as for any channel, and routing decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from routing.flow.inbound import Inbound, storable
from routing.store.tickets import Ticket

from .open311_services import Catalogue
from .submissions import MAX_NAME, SubmissionError, inbound_of

CHANNEL = "open311"
MAX_URL = 1000
MAX_EMAIL = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The Open311 parameter behind each field the shared checks name.
PARAMETERS = {
    "text": "description",
    "contact.name": "first_name / last_name",
    "contact.phone": "phone",
    "location": "address_string",
    "location.label": "address_string",
    "location.latitude": "lat",
    "location.longitude": "long",
}


class Open311Error(Exception):
    """A request refused, with the HTTP status the specification gives it."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def refused(description: str) -> Open311Error:
    return Open311Error(400, description)


def parse_request(session: Session, form: Mapping[str, str], catalogue: Catalogue, client: str) -> Inbound:
    """A POST's form from the API client named ``client`` → the ``Inbound``
    for intake; ``Open311Error`` (400) for anything wrong, before anything is stored."""
    code = form.get("service_code")
    if not code:
        raise refused("请提供 service_code（服务类型，见 services.json）。")
    service = catalogue.find(code)
    if service is None:
        raise refused(f"没有 service_code 为“{code[:40]}”的服务类型，请从 services.json 中选择。")
    attributes = sorted(key[len("attribute["):-1] for key in form if key.startswith("attribute[") and key.endswith("]"))
    if attributes:
        # metadata is false for every service: an attribute is a client's mistake, said so.
        raise refused(f"服务类型 {service.code} 没有附加属性（attribute），不能接收 attribute[{attributes[0][:40]}]。")
    try:
        inbound = inbound_of(
            session,
            {"text": form.get("description"), "contact": _contact(form), "location": _location(form)},
            CHANNEL,
        )
    except SubmissionError as exc:
        raise refused(f"{PARAMETERS.get(exc.field, exc.field)}：{exc.message}") from None
    payload = {
        **inbound.payload,
        "api_client": client,
        "service_code": service.code,
        "service_name": service.name,
        "media_url": _media_url(_clean(form, "media_url")),
        "email": _email(_clean(form, "email")),
        "device_id": _short(form, "device_id"),
        "account_id": _short(form, "account_id"),
    }
    return replace(inbound, payload={k: v for k, v in payload.items() if v is not None})


def _contact(form: Mapping[str, str]) -> dict[str, Any]:
    first, last = (form.get(key, "").strip() for key in ("first_name", "last_name"))
    for key, part in (("first_name", first), ("last_name", last)):
        if len(part) > MAX_NAME:
            raise refused(f"{key}：姓名应为不超过 {MAX_NAME} 字的文字。")
    # Western names first name first; Chinese ones family name first, unspaced (张 + 三 → 张三).
    name = f"{first} {last}".strip() if (first + last).isascii() else f"{last}{first}"
    return {"name": name or None, "phone": form.get("phone") or None}


def _location(form: Mapping[str, str]) -> dict[str, Any]:
    """lat/long and address_string as the shared checks take them; one of
    them is required (the specification's address_id names no address here)."""
    lat, lon, address = form.get("lat", "").strip(), form.get("long", "").strip(), form.get("address_string")
    if not (lat or lon) and not (address or "").strip():
        raise refused("请提供地点：lat 和 long（WGS84），或 address_string（本系统不使用 address_id）。")
    if bool(lat) != bool(lon):
        raise refused("lat、long：经度和纬度要同时提供。")
    location: dict[str, Any] = {"label": address.strip() if address else None}
    for key, given, name in (("latitude", lat, "lat"), ("longitude", lon, "long")):
        try:
            location[key] = float(given) if given else None
        except ValueError:
            raise refused(f"{name}：经纬度应为数字（纬度 ±90、经度 ±180 以内）。") from None
    return location


def _media_url(value: str | None) -> str | None:
    if not value:
        return None
    parts = urlsplit(value) if len(value) <= MAX_URL else None
    if parts is None or parts.scheme not in {"http", "https"} or not parts.netloc or any(c.isspace() for c in value):
        raise refused(f"media_url：应为不超过 {MAX_URL} 个字符的 http 或 https 链接。")
    return value


def _email(value: str | None) -> str | None:
    if not value:
        return None
    if len(value) > MAX_EMAIL or not _EMAIL.match(value):
        raise refused("email：电子邮箱格式不对，例如 name@example.com。")
    return value


def _clean(form: Mapping[str, str], key: str) -> str | None:
    # Kept in the message's payload: without what no store can keep (a NUL, for PostgreSQL).
    return storable(form.get(key, "")).strip() or None


def _short(form: Mapping[str, str], key: str) -> str | None:
    value = _clean(form, key)
    if value and len(value) > 64:
        raise refused(f"{key}：不超过 64 个字符。")
    return value or None


def notice(ticket: Ticket, status_url: str) -> str:
    """The service_notice: what happens next, and where the resident follows it."""
    where = f"已交{ticket.agency.name}办理" if ticket.agency is not None else "由工作人员分派承办单位"
    deadline = f"，答复时限 {ticket.answer_by:%Y-%m-%d}" if ticket.answer_by else ""
    return f"已受理，工单号 {ticket.number}，{where}{deadline}。办理进度可凭查询码查看：{status_url}"
