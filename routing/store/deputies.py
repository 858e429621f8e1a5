"""Deputies of the people's congress (人大代表): their accounts and stations,
the suggestions and notes they submit, and the notices they receive.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from routing.store.db import Base, enum_column

if TYPE_CHECKING:  # relationships name these; the mapper finds them by name
    from routing.store.areas import Station
    from routing.store.people import User
    from routing.store.tickets import Ticket


class DeputyLevel(str, enum.Enum):
    """代表层级: the congress a deputy was elected to."""

    PROVINCE = "province"  # 省人大代表
    CITY = "city"  # 市人大代表
    DISTRICT = "district"  # 区人大代表

    @property
    def label(self) -> str:
        return {"province": "省", "city": "市", "district": "区"}[self.value]


class Deputy(Base):
    """人大代表: a deputy's account, the level of their congress and the
    liaison stations (联络站) where they meet constituents."""

    __tablename__ = "deputy"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[DeputyLevel] = mapped_column(enum_column(DeputyLevel))
    # The deputy's WeChat account (openid), bound with a one-time code shown in the portal.
    wechat_openid: Mapped[str | None] = mapped_column(String(128), unique=True)
    bind_code: Mapped[str | None] = mapped_column(String(16), index=True)
    bind_code_expires: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()
    # Read here, written as DeputyStation rows.
    stations: Mapped[list[Station]] = relationship(secondary="deputy_station", order_by="Station.name", viewonly=True)


class DeputyStation(Base):
    """Which deputies serve at which liaison station (many to many)."""

    __tablename__ = "deputy_station"

    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputy.id"), primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), primary_key=True, index=True)


class DeputySubmission(Base):
    """代表反映: what a deputy raised, beside the ticket it made: whether it
    passes on constituents' complaint or is the deputy's formal suggestion
    (代表建议), how many constituents raised it, and where."""

    __tablename__ = "deputy_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), unique=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputy.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"), index=True)
    mode: Mapped[str] = mapped_column(String(16))  # "complaint" (转交群众意见) or "suggestion" (代表建议)
    constituents: Mapped[int] = mapped_column(Integer, default=1)
    place: Mapped[str | None] = mapped_column(String(200))  # where it was raised
    created_at: Mapped[datetime] = mapped_column(DateTime)

    ticket: Mapped[Ticket] = relationship()
    deputy: Mapped[Deputy] = relationship()
    station: Mapped[Station | None] = relationship()


class DeputyNotice(Base):
    """代表通知: news of a deputy's ticket in the portal — its answer came, or a
    deadline passed — unread until the deputy opens the ticket. One per
    ticket, event and occasion (``stamp``: the answer's time, or which
    deadline and when it fell due), however often its job runs."""

    __tablename__ = "deputy_notice"
    __table_args__ = (
        UniqueConstraint("deputy_id", "ticket_id", "event", "stamp"),
        # The portal's unread list: a deputy's notices not yet read.
        Index("ix_deputy_notice_deputy_id_read_at", "deputy_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputy.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    event: Mapped[str] = mapped_column(String(16))  # "answer" or "overdue"
    stamp: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    ticket: Mapped[Ticket] = relationship()
