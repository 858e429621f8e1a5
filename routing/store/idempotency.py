"""Idempotency keys (幂等键) of the JSON API.

A client that retries a submission sends the same ``Idempotency-Key`` and
must get the first attempt's ticket, not a second one. A key belongs to its
caller (an API key, or the address of a caller without one), so two callers
who happen to pick the same key never see each other's tickets; and it is
bound to a hash of the body it came with, so a key reused for a different
complaint is refused instead of silently answered with the old ticket — the
behaviour of the IETF's Idempotency-Key draft and of Stripe. A key is
remembered for a stated time (``IDEMPOTENCY_HOURS``), after which the sweep
forgets it and it may name a new request.

The key is stored in the ticket's own transaction: a ticket is never stored
without the key that made it, nor a key without its ticket.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from routing.store.db import Base
from routing.store.tickets import Ticket

DEFAULT_HOURS = 24
MAX_KEY = 128
MAX_CALLER = 80


class IdempotencyKey(Base):
    """One caller's key, the hash of the body it came with, and the ticket it made."""

    __tablename__ = "idempotency_key"
    __table_args__ = (
        UniqueConstraint("caller", "key"),
        Index("ix_idempotency_key_created_at", "created_at"),  # the sweep forgets by age
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    caller: Mapped[str] = mapped_column(String(MAX_CALLER))
    key: Mapped[str] = mapped_column(String(MAX_KEY))
    body_hash: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    ticket: Mapped[Ticket] = relationship()


class KeyReused(ValueError):
    """The caller used this key before, for a different body."""


@dataclass(frozen=True)
class Request:
    """What makes two submissions the same request: who sent it, the key, the body."""

    caller: str
    key: str
    body_hash: str


def request_of(caller: str, key: str, body: Any) -> Request:
    """The request as remembered: a caller's name longer than its column
    (an address as a proxy wrote it) is kept as its hash."""
    if len(caller) > MAX_CALLER:
        caller = hashlib.sha256(caller.encode("utf-8", "surrogatepass")).hexdigest()
    return Request(caller, key, body_hash(body))


def body_hash(body: Any) -> str:
    """SHA-256 of the body as canonical JSON: the same object whatever the key
    order or spacing a client's serialiser chose."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    # A lone surrogate is legal in JSON text but not in UTF-8: hash it as written.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def remembered(session: Session, request: Request, now: datetime, hours: int = DEFAULT_HOURS) -> Ticket | None:
    """The ticket this request made before, if its key is still remembered.
    Raises ``KeyReused`` when the caller's key came with another body."""
    stored = session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.caller == request.caller, IdempotencyKey.key == request.key)
    )
    if stored is None or stored.created_at <= now - timedelta(hours=hours):
        return None
    if stored.body_hash != request.body_hash:
        raise KeyReused(request.key)
    return stored.ticket


def remember(session: Session, request: Request, ticket: Ticket, now: datetime, hours: int = DEFAULT_HOURS) -> None:
    """Bind the key to the ticket it made, in the ticket's transaction. An
    expired row of the same key is replaced: the key names a new request. A
    live one is kept, so that a request racing this one fails on the unique
    key instead of taking over its ticket."""
    session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.caller == request.caller,
            IdempotencyKey.key == request.key,
            IdempotencyKey.created_at <= now - timedelta(hours=hours),
        )
    )
    session.add(
        IdempotencyKey(
            caller=request.caller, key=request.key, body_hash=request.body_hash, ticket=ticket, created_at=now
        )
    )


def forget_expired(session: Session, now: datetime, hours: int = DEFAULT_HOURS) -> int:
    """Drop the keys older than ``hours``; the caller commits. Returns how many."""
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at <= now - timedelta(hours=hours)))
    return result.rowcount or 0
