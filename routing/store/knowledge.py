"""The knowledge base (知识库): answers to consultations (咨询) kept as articles.

An article is what an agency answered once, written to be answered again: the
agency, the topic, the text, the regulation it rests on (政策依据) and the date
it stays valid until. Its fingerprint is kept in ``ArticleTerm``, in the same
(term, weight) form a ticket's is (``tickets.MatterTerm``), so that a
consultation finds the articles that answer it the way it finds its duplicates.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from routing.store.db import Base

if TYPE_CHECKING:  # relationships name these; the mapper finds them by name
    from routing.store.people import Agency, User
    from routing.store.tickets import Ticket


class Article(Base):
    """知识库文章: one answer to a consultation, kept current by its agency."""

    __tablename__ = "knowledge_article"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    topic: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    # 政策依据: the regulation or document the answer rests on.
    citation: Mapped[str | None] = mapped_column(String(500))
    # 有效期至: after this day the article is flagged 已过期 and answers nothing.
    valid_until: Mapped[date | None] = mapped_column(Date)
    # 已停用: retired articles are kept (tickets name them), never deleted.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    source_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    agency: Mapped[Agency] = relationship()
    source_ticket: Mapped[Ticket | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    def expired(self, today: date) -> bool:
        """已过期: past its valid-until day."""
        return self.valid_until is not None and self.valid_until < today


class ArticleTerm(Base):
    """One term of an article's fingerprint, as ``MatterTerm`` is a ticket's."""

    __tablename__ = "knowledge_term"

    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_article.id", ondelete="CASCADE"), primary_key=True)
    term: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    weight: Mapped[float] = mapped_column(Float)
