"""How staff are reached outside Tingjian (外发联系方式): the channel each
agency chose for its notices, and the record of every message sent to staff.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from routing.store.db import Base
from routing.store.people import Agency

# The kinds an agency may choose, by the outbound channel's name.
CHANNEL_KINDS = ("wecom", "wecom_robot", "dingtalk_robot", "sms", "email")


class AgencyChannel(Base):
    """An agency's channel for staff notices (新派单、催办、通报、每日简报).

    ``address`` is what the channel needs: WeCom UserIDs joined by ``|``, a
    robot's webhook address or key, a mobile number, an email address;
    ``secret`` a DingTalk robot's signing secret (加签). No row: the agency
    reads its queue in Tingjian only.
    """

    __tablename__ = "agency_channel"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200), default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class StaffMessage(Base):
    """One message to staff, sent or refused: channel, the recipient masked,
    which template, when, the result. ``occasion`` is unique: the same
    occasion (a job run twice) is never sent twice."""

    __tablename__ = "staff_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    occasion: Mapped[str] = mapped_column(String(160), unique=True)
    template: Mapped[str] = mapped_column(String(32))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(80))
    result: Mapped[str] = mapped_column(String(16))  # "sent" or "refused"
    error: Mapped[str | None] = mapped_column(Text)
    ticket_count: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class ContactError(ValueError):
    """A channel choice that cannot be stored; the message says why, in Chinese."""


def set_agency_channel(
    session: Session, agency_id: int, kind: str, address: str, secret: str, now: datetime
) -> AgencyChannel | None:
    """Choose how an agency's staff are reached; an empty ``kind``: in Tingjian only. The caller commits."""
    if session.get(Agency, agency_id) is None:
        raise ContactError("没有这个承办单位。")
    current = session.get(AgencyChannel, agency_id)
    if not kind:
        if current is not None:
            session.delete(current)
        return None
    address, secret = (address or "").strip(), (secret or "").strip()
    if kind not in CHANNEL_KINDS:
        raise ContactError(f"不认识的渠道：{kind}")
    if not address or len(address) > 500 or len(secret) > 200:
        raise ContactError("请填写接收地址（500 字以内）。")
    if kind == "email" and "@" not in address:
        raise ContactError("电子邮件地址不对。")
    if current is None:
        current = AgencyChannel(agency_id=agency_id)
        session.add(current)
    current.kind, current.address, current.secret, current.updated_at = kind, address, secret, now
    return current


def recent_messages(session: Session, limit: int = 50) -> list[StaffMessage]:
    return list(session.scalars(select(StaffMessage).order_by(StaffMessage.id.desc()).limit(limit)))
