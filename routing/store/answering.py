"""What shapes an answer before it reaches the resident (答复管理): the
review rules (审核办结) that hold an answer for the dispatcher centre, and
each agency's reusable answer templates (答复模板).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from routing.store.db import Base, enum_column
from routing.store.tickets import Kind

if TYPE_CHECKING:  # relationships name these; the mapper finds them by name
    from routing.store.people import Agency


class ReviewRule(Base):
    """审核规则: answers of this kind from this agency wait for the dispatcher
    centre's review (when ``review``). An empty kind or agency matches any; with
    ``require_signer`` the agency names who signed the answer off (签发人)."""

    __tablename__ = "review_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[Kind | None] = mapped_column(enum_column(Kind), nullable=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    # 须审核: the answer waits for review; a rule may ask only for the signer.
    review: Mapped[bool] = mapped_column(Boolean, default=True)
    require_signer: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    agency: Mapped[Agency | None] = relationship()


class AnswerTemplate(Base):
    """答复模板: an agency's reusable answer text, with the regulation it rests
    on (依据). Deactivated, never deleted."""

    __tablename__ = "answer_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    citation: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)

    agency: Mapped[Agency] = relationship()
