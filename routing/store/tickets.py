"""Tickets and what hangs on them (工单): the states, kinds and urgencies, the
ticket itself, its messages, timeline events, attachments, transcriptions,
fingerprint terms, dispatchers' corrections and imported history.

Times are naive local times of the city (Asia/Shanghai): deadlines are counted
in the city's working days, and one city never spans two time zones.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from routing.store.db import Base, enum_column

if TYPE_CHECKING:  # relationships name these; the mapper finds them by name
    from routing.store.areas import District, Station, Street
    from routing.store.people import Agency


class Status(str, enum.Enum):
    """工单状态: where a ticket stands in its workflow."""

    RECEIVED = "received"  # 已受理: stored and numbered; the classifier reads it in a job
    TRIAGE = "triage"  # 待分拣: waiting for a dispatcher
    ASSIGNED = "assigned"  # 已派单: waiting for the agency to accept
    # 争议待裁定: the agency disputes the assignment; the dispatcher centre rules (see flow.disputes)
    DISPUTED = "disputed"
    ACCEPTED = "accepted"  # 已签收: the agency is working on it
    WAITING = "waiting"  # 待补充: the agency waits on the resident; its clock is paused
    # 待审核: the answer waits for the dispatcher centre's review (审核办结, see flow.answers)
    REVIEWING = "reviewing"
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
    Status.DISPUTED: "争议待裁定",
    Status.ACCEPTED: "办理中",
    Status.WAITING: "待群众补充",
    Status.REVIEWING: "待审核",
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
# 协办单位 of a ticket, set when a rule with assisting agencies routed it.
ticket_assist = Table(
    "ticket_assist",
    Base.metadata,
    Column("ticket_id", ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agency.id"), primary_key=True),
)


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
        # The retention job: closed tickets not yet anonymised, oldest first.
        Index("ix_ticket_anonymised_at_status_closed_at", "anonymised_at", "status", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    # 查询码: the resident's key to the public status page.
    code: Mapped[str] = mapped_column(String(16))
    status: Mapped[Status] = mapped_column(enum_column(Status))
    kind: Mapped[Kind] = mapped_column(enum_column(Kind), default=Kind.COMPLAINT)
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency), default=Urgency.NORMAL)
    channel: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)

    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"))
    contact_name: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    # 短信告知办理进展: whether the resident agreed to be texted at that number;
    # they may stop it on the status page (``routing.flow.resident.stop_sms``).
    sms_notice: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

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
    # 派单争议: the dispatcher centre's ruling is due by then, while the ticket is disputed.
    ruling_by: Mapped[datetime | None] = mapped_column(DateTime)
    # 首接负责: a dispute was rejected; the agency can no longer return or dispute the ticket.
    dispute_rejected: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # 重办: how many times the resident (or deputy) was not satisfied and the
    # agency had to handle it again (see flow.redo); and, once that reached
    # REDO_ESCALATION, since when the dispatcher centre is to decide on it.
    redo_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    redo_review_since: Mapped[datetime | None] = mapped_column(DateTime)
    # 保密: the resident asked that their identity not reach the agency, or the
    # ticket reports an official or an agency (检举, routing.store.privacy):
    # only the centre sees its contact data, and the centre relays.
    confidential: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # 个人信息已删除: when the retention job (or an erasure on request) removed
    # its contact data and scrubbed its texts (routing.flow.retention).
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime)

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
    # 已被裁定取代: a dispatcher settled corrections of the same text that
    # disagreed, and this one lost; it is no longer learnt from.
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


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
