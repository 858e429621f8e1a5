"""The access log (个人信息访问日志): who looked at which ticket's personal
data, who revealed it, who exported what and who downloaded an attachment —
with time and address. Append-only: the application writes entries through
``record_access`` and offers no edit or delete; on PostgreSQL a trigger
(migration 0032_privacy) refuses UPDATE and DELETE but for the purge of
entries past the retention (``purge_access_log``), which sets
``tingjian.purge`` for its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, delete, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from routing.store.db import Base
from routing.store.people import User
from routing.store.tickets import Ticket

VIEW_CONTACT = "view_contact"
REVEAL = "reveal"
EXPORT = "export"
ATTACHMENT = "attachment"
ERASE = "erase"  # a resident's data erased on request (routing.flow.erasure)
ACTIONS = (VIEW_CONTACT, REVEAL, EXPORT, ATTACHMENT, ERASE)
# The network security law (网络安全法 Art. 21) asks for six months of logs.
MINIMUM_DAYS = 180


class AccessEntry(Base):
    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    rows: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    user: Mapped[User | None] = relationship()
    ticket: Mapped[Ticket | None] = relationship()


def record_access(
    session: Session,
    user: User | None,
    action: str,
    *,
    at: datetime,
    address: str | None = None,
    ticket: Ticket | None = None,
    rows: int | None = None,
    role: str | None = None,
    **detail: Any,
) -> AccessEntry:
    """Append one entry; the caller commits (with what it shows, or alone).
    ``role``: who acted without an account (the command line), when not a user."""
    if action not in ACTIONS:
        raise ValueError(f"unknown access-log action {action!r}")
    entry = AccessEntry(
        at=at,
        user_id=user.id if user else None,
        role=user.role.value if user else (role or "anonymous"),
        address=(address or "")[:64] or None,
        action=action,
        ticket_id=ticket.id if ticket else None,
        rows=rows,
        detail=detail,
    )
    session.add(entry)
    return entry


def retention_days(value: str | int | None) -> int:
    """``ACCESS_LOG_DAYS``: at least six months, whatever is set; in days
    (``365``) or whole years (``3y``, counted as 365 days each)."""
    text = str(value).strip().lower() if value not in (None, "") else str(MINIMUM_DAYS)
    number = text.removesuffix("y")
    if not number.isdigit():
        raise ValueError(f"ACCESS_LOG_DAYS must be days (365) or years (3y), not {value!r}")
    days = int(number) * (365 if text.endswith("y") else 1)
    if days < MINIMUM_DAYS:
        raise ValueError(f"ACCESS_LOG_DAYS must be at least {MINIMUM_DAYS}, not {days}")
    return days


def purge_access_log(session: Session, now: datetime, days: int) -> int:
    """Remove the entries older than ``days`` (never fewer than six months);
    how many went. The retention job calls it; the caller commits."""
    cutoff = now - timedelta(days=retention_days(days))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL tingjian.purge = 'on'"))
    return session.execute(delete(AccessEntry).where(AccessEntry.at < cutoff)).rowcount


@dataclass(frozen=True)
class AccessQuery:
    """The search on /admin/access-log: every field optional."""

    username: str = ""
    number: str = ""
    action: str = ""
    since: date | None = None
    until: date | None = None


def search_access_log(session: Session, query: AccessQuery, limit: int | None = 200) -> list[AccessEntry]:
    statement = select(AccessEntry).order_by(AccessEntry.at.desc(), AccessEntry.id.desc())
    if query.username:
        statement = statement.join(User, User.id == AccessEntry.user_id).where(User.username == query.username)
    if query.number:
        statement = statement.join(Ticket, Ticket.id == AccessEntry.ticket_id).where(Ticket.number == query.number)
    if query.action:
        statement = statement.where(AccessEntry.action == query.action)
    if query.since:
        statement = statement.where(AccessEntry.at >= datetime.combine(query.since, datetime.min.time()))
    if query.until:
        statement = statement.where(
            AccessEntry.at < datetime.combine(query.until + timedelta(days=1), datetime.min.time())
        )
    if limit:
        statement = statement.limit(limit)
    return list(session.scalars(statement))
