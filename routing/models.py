"""The domain's tables: places, agencies, rules, policies, people and tickets.

Times are naive local times of the city (Asia/Shanghai): deadlines are counted
in the city's working days, and one city never spans two time zones.
"""

from __future__ import annotations

import enum
import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .db import Base


def _enum(cls: type[enum.Enum]) -> Enum:
    # Store the readable value, and as a plain string column: adding a state
    # later is then a code change, not a database type migration.
    return Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class Status(str, enum.Enum):
    """工单状态: where a ticket stands in its workflow."""

    RECEIVED = "received"  # 已受理: stored and numbered; the classifier reads it in a job
    TRIAGE = "triage"  # 待分拣: waiting for a dispatcher
    ASSIGNED = "assigned"  # 已派单: waiting for the agency to accept
    ACCEPTED = "accepted"  # 已签收: the agency is working on it
    WAITING = "waiting"  # 待补充: the agency waits on the resident; its clock is paused
    ANSWERED = "answered"  # 已答复: the agency has answered the resident
    CLOSED = "closed"  # 已办结
    MERGED = "merged"  # 已合并: a duplicate, handled with the ticket it was merged into
    INVALID = "invalid"  # 无效: spam, abuse, nothing to handle

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    Status.RECEIVED: "已受理",
    Status.TRIAGE: "待分拣",
    Status.ASSIGNED: "待签收",
    Status.ACCEPTED: "办理中",
    Status.WAITING: "待群众补充",
    Status.ANSWERED: "已答复",
    Status.CLOSED: "已办结",
    Status.MERGED: "已合并",
    Status.INVALID: "无效",
}


class Kind(str, enum.Enum):
    """诉求类型: decides the deadline policy."""

    CONSULTATION = "consultation"  # 咨询
    HELP = "help"  # 求助
    SUGGESTION = "suggestion"  # 建议
    COMPLAINT = "complaint"  # 投诉举报
    DEPUTY_SUGGESTION = "deputy_suggestion"  # 代表建议

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    Kind.CONSULTATION: "咨询",
    Kind.HELP: "求助",
    Kind.SUGGESTION: "建议",
    Kind.COMPLAINT: "投诉举报",
    Kind.DEPUTY_SUGGESTION: "代表建议",
}


class Urgency(str, enum.Enum):
    NORMAL = "normal"
    URGENT = "urgent"  # 紧急: danger to people or property
    UTILITY = "utility"  # 水电气热: no water, power, gas or heating — a day, not weeks

    @property
    def label(self) -> str:
        return URGENCY_LABELS[self]


URGENCY_LABELS = {Urgency.NORMAL: "一般", Urgency.URGENT: "紧急", Urgency.UTILITY: "水电气热"}


class Role(str, enum.Enum):
    ADMIN = "admin"
    DISPATCHER = "dispatcher"  # 分拨员 (liaison office / hotline centre)
    AGENCY = "agency"  # 承办单位工作人员, bound to one agency
    DEPUTY = "deputy"  # 人大代表

    @property
    def label(self) -> str:
        return {"admin": "管理员", "dispatcher": "分拨员", "agency": "承办单位", "deputy": "人大代表"}[
            self.value
        ]


class District(Base):
    """区县: one of the city's county-level divisions."""

    __tablename__ = "district"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)

    streets: Mapped[list[Street]] = relationship(back_populates="district", order_by="Street.name")


class Street(Base):
    """街道 / 乡镇: the level below a district."""

    __tablename__ = "street"
    __table_args__ = (UniqueConstraint("district_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))
    name: Mapped[str] = mapped_column(String(32))

    district: Mapped[District] = relationship(back_populates="streets")


class Agency(Base):
    """承办单位: a body that must answer tickets."""

    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # Where its writ runs: none for a municipal bureau, a district for a district
    # government, a street for a street office.
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # 上级督办单位: receives the notices (通报) when this agency stays overdue —
    # a district government for its street offices, the municipal government
    # office for bureaus. None: the dispatcher centre alone follows it up.
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))

    district: Mapped[District | None] = relationship()
    street: Mapped[Street | None] = relationship()
    supervisor: Mapped[Agency | None] = relationship(remote_side=[id])


class Station(Base):
    """代表联络站: a liaison station where deputies meet constituents."""

    __tablename__ = "station"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"))
    address: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    district: Mapped[District] = relationship()
    street: Mapped[Street | None] = relationship()


# 协办单位 of a rule: the agencies that help the lead one on its tickets.
rule_assist = Table(
    "routing_rule_assist",
    Base.metadata,
    Column("rule_id", ForeignKey("routing_rule.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agency.id"), primary_key=True),
)

# 协办单位 of a ticket, set when a rule with assisting agencies routed it.
ticket_assist = Table(
    "ticket_assist",
    Base.metadata,
    Column("ticket_id", ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True),
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
    kind: Mapped[Kind] = mapped_column(_enum(Kind))
    urgency: Mapped[Urgency] = mapped_column(_enum(Urgency))
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


class User(Base):
    """A member of staff, a deputy, or an administrator."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(_enum(Role))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The language of the pages for this person: "zh" (Simplified Chinese) or "en".
    locale: Mapped[str] = mapped_column(String(10), default="zh", server_default="zh")
    # Every session carries the version it was opened under; bumping it ends
    # them all on the server, also a session cookie someone kept.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    agency: Mapped[Agency | None] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        """Log this person out everywhere (on logout and a new password; a
        deactivated account is refused at every request anyway)."""
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def label(self) -> str:
        return f"{self.display_name}（{self.role.label}）"


class Ticket(Base):
    """工单: one matter raised by a resident or deputy, however many messages it took."""

    __tablename__ = "ticket"
    __table_args__ = (
        # The sweep finds due and overdue tickets by state and deadline, never
        # by reading every open ticket.
        Index("ix_ticket_status_accept_by", "status", "accept_by"),
        Index("ix_ticket_status_answer_by", "status", "answer_by"),
        # An agency's queue, and the scorecards: the tickets assigned to an
        # agency in a period (for all agencies too, one range per agency).
        Index("ix_ticket_agency_id_assigned_at", "agency_id", "assigned_at"),
        # Queues and sweeps by status (replaces the index on status alone);
        # the sweep's answers waiting for a rating, oldest first.
        Index("ix_ticket_status_answered_at", "status", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    # 查询码: the resident's key to the public status page.
    code: Mapped[str] = mapped_column(String(16))
    status: Mapped[Status] = mapped_column(_enum(Status))
    kind: Mapped[Kind] = mapped_column(_enum(Kind), default=Kind.COMPLAINT)
    urgency: Mapped[Urgency] = mapped_column(_enum(Urgency), default=Urgency.NORMAL)
    channel: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)

    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"))
    contact_name: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(32))

    location_text: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("street.id"))

    topic: Mapped[str | None] = mapped_column(String(32))
    subtopic: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[float | None] = mapped_column(Float)
    # What the classifier said, kept apart from what the ticket now carries, so
    # that a dispatcher's correction is visible as one and teaches the model.
    prediction: Mapped[dict[str, Any] | None] = mapped_column()

    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime)
    accept_by: Mapped[datetime | None] = mapped_column(DateTime)
    answer_by: Mapped[datetime | None] = mapped_column(DateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    answer: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # 满意度: the resident's rating of the answer (see workflow.RATINGS).
    rating: Mapped[str | None] = mapped_column(String(24))
    rated_at: Mapped[datetime | None] = mapped_column(DateTime)
    # 待补充: when the clock stopped, to move the answer deadline on when it runs again.
    paused_at: Mapped[datetime | None] = mapped_column(DateTime)
    # 延期申请: the agency's request, waiting for the dispatcher's decision.
    extension_until: Mapped[datetime | None] = mapped_column(DateTime)
    extension_reason: Mapped[str | None] = mapped_column(String(500))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))

    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # Optimistic lock: two people acting on one ticket at once cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    station: Mapped[Station | None] = relationship()
    district: Mapped[District | None] = relationship()
    street: Mapped[Street | None] = relationship()
    agency: Mapped[Agency | None] = relationship()
    # 协办单位: they see the ticket and add opinions; only the lead agency acts on it.
    assisting: Mapped[list[Agency]] = relationship(secondary=ticket_assist, order_by="Agency.id")
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )
    messages: Mapped[list[Message]] = relationship(back_populates="ticket", order_by="Message.id")
    merged_into: Mapped[Ticket | None] = relationship(remote_side=[id], foreign_keys=[merged_into_id])


class Message(Base):
    """消息: one inbound item on a channel, stored raw and never changed.

    ``(channel, external_id)`` is the idempotency key: a channel that delivers
    the same message twice (WeChat retries, a client re-posting) finds it here.
    """

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        # A resident's messages on a channel, newest first: every WeChat message looks them up.
        Index("ix_message_channel_sender_received_at", "channel", "sender", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(128))
    sender: Mapped[str | None] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(DateTime)

    ticket: Mapped[Ticket | None] = relationship(back_populates="messages")


class MatterTerm(Base):
    """One term of a ticket's fingerprint (重复件检索): the index in which a
    new ticket finds the open tickets that raise the same matter.

    The fingerprint is the text's heaviest terms with their weights, as the
    classifier computes them (``classifier.similar``); routing stores and
    searches them without knowing what a term is. ``raised_at`` is the
    ticket's own ``created_at``, copied so that the search reads only a
    window's postings of a term, not every year's.
    """

    __tablename__ = "matter_term"
    __table_args__ = (
        # The search reads a window's postings of a few dozen terms: with the
        # ticket and the weight in the index (PostgreSQL), from the index
        # alone — a year of 200,000 tickets has 6.4 million rows.
        Index("ix_matter_term_term_raised_at", "term", "raised_at", postgresql_include=["ticket_id", "weight"]),
    )

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True)
    term: Mapped[int] = mapped_column(Integer, primary_key=True)
    weight: Mapped[float] = mapped_column(Float)
    raised_at: Mapped[datetime] = mapped_column(DateTime)


class TicketEvent(Base):
    """One change on a ticket's timeline (处理记录): who, when, what, why.

    Events are only ever added; the timeline is the ticket's history.
    """

    __tablename__ = "ticket_event"
    __table_args__ = (
        # Scorecards count steps of a kind in a period (returns, transfers,
        # ratings), for one agency or all: the agency is checked in the index.
        Index("ix_ticket_event_action_at_agency_id", "action", "at", "agency_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    # The agency answerable for the ticket when the step was taken — for a
    # transfer (转办), the one it was taken from; for a return (退回), the one
    # returning it. Kept here because the ticket's own agency changes later.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Kept as text too, so the record still reads right if the account changes.
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column()

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class EscalationKind(str, enum.Enum):
    """督办的层级: a reminder to the agency, then a notice to its supervisor."""

    REMINDER = "reminder"  # 催办: the deadline is reached
    NOTICE = "notice"  # 通报: still overdue after the configured working days

    @property
    def label(self) -> str:
        return {"reminder": "催办", "notice": "通报"}[self.value]


class Escalation(Base):
    """催办 / 通报: one per ticket, kind and deadline — a new deadline (an
    extension, a reassignment) may be chased again, the same one never twice."""

    __tablename__ = "escalation"
    __table_args__ = (UniqueConstraint("ticket_id", "kind", "deadline", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    kind: Mapped[EscalationKind] = mapped_column(_enum(EscalationKind))
    deadline: Mapped[str] = mapped_column(String(16))  # "accept" (签收) or "answer" (答复)
    due_at: Mapped[datetime] = mapped_column(DateTime)
    # The agency that is late, and the one the record is addressed to: the same
    # for a reminder, its supervisor (or none: the dispatcher centre) for a notice.
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    text: Mapped[str] = mapped_column(String(500))

    ticket: Mapped[Ticket] = relationship()
    agency: Mapped[Agency] = relationship(foreign_keys=[agency_id])
    recipient: Mapped[Agency | None] = relationship(foreign_keys=[recipient_id])


class AgencyDigest(Base):
    """每日督办简报: what an agency should know at the start of a working day."""

    __tablename__ = "agency_digest"
    __table_args__ = (UniqueConstraint("agency_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    day: Mapped[date] = mapped_column(Date)
    new_tickets: Mapped[int] = mapped_column(Integer, default=0)
    due_soon: Mapped[int] = mapped_column(Integer, default=0)
    overdue: Mapped[int] = mapped_column(Integer, default=0)
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    notices: Mapped[int] = mapped_column(Integer, default=0)
    # Ticket numbers behind each count, so the page can list them.
    detail: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(DateTime)

    agency: Mapped[Agency] = relationship()


class Correction(Base):
    """A dispatcher's correction, kept as a labelled example for retraining."""

    __tablename__ = "correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    field: Mapped[str] = mapped_column(String(16))  # "topic" or "agency"
    text: Mapped[str] = mapped_column(Text)
    predicted: Mapped[str | None] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(DateTime)


class HistoricalTicket(Base):
    """历史工单: a ticket a city handled before Tingjian, imported from a file
    (a hotline export) so the agency model starts from the city's own history.

    ``digest`` (SHA-256 of the text and the agency's name) makes an import
    idempotent: the same row imported twice is stored once.
    """

    __tablename__ = "historical_ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(Text)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    topic: Mapped[str | None] = mapped_column(String(80))
    number: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime | None] = mapped_column(DateTime)  # when the city received it
    source: Mapped[str] = mapped_column(String(200))  # the file's name
    imported_at: Mapped[datetime] = mapped_column(DateTime)

    agency: Mapped[Agency] = relationship()


class Attachment(Base):
    """附件: a photo, voice note or video that came with a ticket's messages.

    Downloaded by a job (WeChat keeps media only three days) and kept with the
    ticket, so the evidence outlives the channel.
    """

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    kind: Mapped[str] = mapped_column(String(16))  # image, voice, video, link, file
    media_id: Mapped[str | None] = mapped_column(String(160))
    content_type: Mapped[str | None] = mapped_column(String(100))
    url: Mapped[str | None] = mapped_column(String(1000))
    title: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    downloaded_at: Mapped[datetime | None] = mapped_column(DateTime)


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
    level: Mapped[DeputyLevel] = mapped_column(_enum(DeputyLevel))
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


class Transcription(Base):
    """语音转写: the text of a voice note, from whichever source gave it
    (WeChat's recognition, a speech-to-text service, a person).

    ``status``: ``pending`` while a machine may still give it, ``person`` when
    only a person can (no backend, or the backend gave up), ``done``.
    """

    __tablename__ = "transcription"

    id: Mapped[int] = mapped_column(primary_key=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    text: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(32))  # wechat, http, person
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    transcribed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)

    attachment: Mapped[Attachment] = relationship()
    ticket: Mapped[Ticket] = relationship()


class ApiClient(Base):
    """接口调用方: a program that calls the JSON API with its own key (a
    hotline system, a district's app). Only the key's SHA-256 is kept: the key
    is shown once, when issued. Its requests are counted against its own rate
    limit instead of the address it shares with others."""

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
