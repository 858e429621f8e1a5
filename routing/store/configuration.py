"""What the city configures (配置): routing rules and their assisting
agencies, deadline policies, the working-day calendar's overrides, shared
values, and the audit trail of every change to them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from routing.store.db import Base, enum_column
from routing.store.tickets import Kind, Urgency

if TYPE_CHECKING:  # relationships name these; the mapper finds them by name
    from routing.store.areas import District, Street
    from routing.store.people import Agency


# 协办单位 of a rule: the agencies that help the lead one on its tickets.
rule_assist = Table(
    "routing_rule_assist",
    Base.metadata,
    Column("rule_id", ForeignKey("routing_rule.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agency.id"), primary_key=True),
)


class RoutingRule(Base):
    """派单规则: topic × jurisdiction × keywords → the lead agency (主办) and
    assisting agencies (协办).

    Empty conditions match anything; of the matching rules the higher priority
    wins, then the more specific. Rules are deactivated, never deleted: the
    tickets' timelines name the rule that routed them.
    """

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str | None] = mapped_column(String(32))  # 一级分类
    subtopic: Mapped[str | None] = mapped_column(String(32))  # 二级分类
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"))
    # 关键词: any one of them in the text makes the rule apply; separated by 、 or spaces.
    keywords: Mapped[str] = mapped_column(String(500), default="")
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_by: Mapped[str | None] = mapped_column(String(100))

    district: Mapped[District | None] = relationship()
    street: Mapped[Street | None] = relationship()
    agency: Mapped[Agency] = relationship(foreign_keys=[agency_id])
    assisting: Mapped[list[Agency]] = relationship(secondary=rule_assist, order_by="Agency.id")

    @property
    def keyword_list(self) -> list[str]:
        return split_keywords(self.keywords)


def split_keywords(text: str | None) -> list[str]:
    """Keywords as a dispatcher types them: 、，, ; or spaces between, in order, once each."""
    words = re.split(r"[\s、，,；;]+", text or "")
    return list(dict.fromkeys(w for w in words if w))


class DeadlinePolicy(Base):
    """时限规则: working days to accept and to answer, by kind and urgency."""

    __tablename__ = "deadline_policy"
    __table_args__ = (UniqueConstraint("kind", "urgency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[Kind] = mapped_column(enum_column(Kind))
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency))
    accept_days: Mapped[int] = mapped_column(Integer)
    answer_days: Mapped[int] = mapped_column(Integer)
    # Emergencies are counted in hours on the clock, not days (Beijing: 2 hours;
    # no water, power, gas or heating: 24 hours).
    answer_hours: Mapped[int | None] = mapped_column(Integer)
    # A deputy's suggestion is answered within months of its assignment, by law
    # (three months, six at most), not working days.
    answer_months: Mapped[int | None] = mapped_column(Integer)


class CalendarOverride(Base):
    """调休 / 节假日: a day that is a holiday or a make-up working day,
    entered where the `chinesecalendar` package knows nothing of the year."""

    __tablename__ = "calendar_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(64), default="")


class SharedValue(Base):
    """A value every process must see alike, with an expiry: WeChat's access
    token above all (a per-process token makes workers invalidate each other)."""

    __tablename__ = "shared_value"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)


class ConfigChange(Base):
    """配置变更记录: who changed a routing rule, a deadline policy or the
    calendar, when, and what it was before and after."""

    __tablename__ = "config_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(16))  # rule, policy, calendar
    subject_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # create, edit, deactivate, activate, remove
    before: Mapped[dict[str, Any] | None] = mapped_column()
    after: Mapped[dict[str, Any] | None] = mapped_column()
    summary: Mapped[str | None] = mapped_column(String(200))
