"""Dispatchers' corrections as labelled examples (纠错样本) for retraining."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Correction


def topic_examples(session: Session) -> list[tuple[str, str]]:
    """(text, "一级/二级") for every corrected ticket, by its latest correction.

    A correction that names only the first level teaches nothing a two-level
    model can use, so it is left out."""
    latest: dict[int, tuple[str, str]] = {}
    rows = session.scalars(select(Correction).where(Correction.field == "topic").order_by(Correction.id))
    for correction in rows:
        latest[correction.ticket_id] = (correction.text, correction.label)
    return [(text, label) for text, label in latest.values() if "/" in label and text.strip()]
