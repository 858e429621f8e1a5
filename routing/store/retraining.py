"""The record of the classifier's retrainings (模型重新训练记录): each run of
the learning loop, what started it, what it learnt from, how the new version
did against the active one on held-out corrections, and whether it was used.

Routing keeps the record, the admin's learning job writes it: routing does not
train (it knows no classifier), but every process reads the same table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from routing.store.db import Base
from routing.store.people import User
from routing.texts import N_

# Why a retraining ran.
SCHEDULE, COUNT, MANUAL = "schedule", "count", "manual"
TRIGGER_LABELS = {SCHEDULE: N_("定期"), COUNT: N_("新样本达到数量"), MANUAL: N_("手动")}
# What became of the version it trained.
ACTIVATED, REFUSED, FAILED = "activated", "refused", "failed"
OUTCOME_LABELS = {ACTIVATED: N_("已启用"), REFUSED: N_("未启用"), FAILED: N_("训练失败")}


class Retraining(Base):
    __tablename__ = "model_retraining"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The examples made before this moment are the ones it could learn from.
    started_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)  # how long the training took
    trigger: Mapped[str] = mapped_column(String(16))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    outcome: Mapped[str] = mapped_column(String(16))
    version_before: Mapped[str | None] = mapped_column(String(32))
    version_after: Mapped[str | None] = mapped_column(String(32))
    # The topic model on the held-out corrections: the active version's and the new one's.
    held_out: Mapped[int] = mapped_column(Integer, default=0)
    accuracy_before: Mapped[float | None] = mapped_column(Float)
    accuracy_after: Mapped[float | None] = mapped_column(Float)
    # The agency model likewise, on its own held-out examples.
    agency_held_out: Mapped[int] = mapped_column(Integer, default=0)
    agency_accuracy_before: Mapped[float | None] = mapped_column(Float)
    agency_accuracy_after: Mapped[float | None] = mapped_column(Float)
    # What it was trained on: every example, of them the corrections and the
    # closed tickets; and the contradicting corrections it withheld.
    examples: Mapped[int] = mapped_column(Integer, default=0)
    corrections: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    withheld: Mapped[int] = mapped_column(Integer, default=0)
    # The trainer's own account of the decision, or the error of a failed run.
    note: Mapped[str | None] = mapped_column(Text)

    requested_by: Mapped[User | None] = relationship()


def last_retraining(session: Session) -> Retraining | None:
    return session.scalar(select(Retraining).order_by(Retraining.started_at.desc(), Retraining.id.desc()).limit(1))


def recent_retrainings(session: Session, limit: int = 20) -> list[Retraining]:
    query = select(Retraining).order_by(Retraining.started_at.desc(), Retraining.id.desc()).limit(limit)
    return list(session.scalars(query))
