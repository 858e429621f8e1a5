"""Imports of hotline exports as tickets (热线工单导入): one row per upload,
with the file itself, so the job that imports it can run on any machine and
run again after a crash.

The file is kept in the database, not on the disk of the process that took
the upload: the job may run in a worker elsewhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from routing.store.db import Base
from routing.store.people import User
from routing.texts import N_

# A run's states: checked and waiting for its job, importing, done, or failed
# (the job gave up; ``error`` says why).
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATE_LABELS = {QUEUED: N_("排队中"), RUNNING: N_("导入中"), DONE: N_("已完成"), FAILED: N_("失败")}


class TicketImport(Base):
    """One hotline export handed in for import, and what importing it found."""

    __tablename__ = "ticket_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    rows: Mapped[int] = mapped_column(default=0)  # data rows in the file
    # Filled as the job goes: imported, routed, triage, duplicates, already, unknown_agency.
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(String(500))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    created_by: Mapped[User | None] = relationship()

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.status, self.status)
