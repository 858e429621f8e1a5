"""Corrections that contradict each other (互相矛盾的纠错).

The same text corrected to one topic (or agency) on one ticket and to another
on another: a model trained on both learns neither. Such corrections are
withheld from training and listed for a dispatcher, whose ruling (裁定)
supersedes the corrections that lost; the text is learnt again from then on.

Texts are compared as a reader would: the same characters once full-width
and half-width forms, case, spaces and punctuation are set aside.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.store.people import User
from routing.store.tickets import Correction, Ticket, TicketEvent
from routing.texts import DomainError, N_

SETTLE = "settle_correction"
FIELDS = ("topic", "agency")


class CorrectionError(DomainError):
    """A ruling that cannot be made as asked."""


def text_key(text: str) -> str:
    """The text as corrections are compared: NFKC, case-folded, without
    spaces, punctuation or control characters."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "PZC")


def learnable(correction: Correction) -> bool:
    # A first-level topic alone teaches a two-level model nothing (see corrections.topic_examples).
    return correction.field != "topic" or "/" in correction.label


def latest_live(session: Session, field_name: str) -> list[Correction]:
    """The latest correction of ``field_name`` on each ticket, of those no ruling superseded."""
    rows = session.scalars(
        select(Correction)
        .where(Correction.field == field_name, Correction.superseded_at.is_(None))
        .order_by(Correction.id)
    )
    latest: dict[int, Correction] = {}
    for correction in rows:
        latest[correction.ticket_id] = correction
    return [c for c in latest.values() if learnable(c) and text_key(c.text)]


@dataclass
class Disagreement:
    """One text whose tickets' corrections name different labels."""

    field: str
    key: str
    by_label: dict[str, list[Correction]] = field(default_factory=dict)

    @property
    def corrections(self) -> list[Correction]:
        return sorted((c for group in self.by_label.values() for c in group), key=lambda c: c.id)

    @property
    def text(self) -> str:
        return self.corrections[0].text

    @property
    def handle(self) -> int:
        """The correction that names the disagreement in a ruling's form."""
        return self.corrections[0].id


def disagreements_among(corrections: Iterable[Correction]) -> list[Disagreement]:
    groups: dict[tuple[str, str], Disagreement] = {}
    for correction in corrections:
        key = text_key(correction.text)
        group = groups.setdefault((correction.field, key), Disagreement(correction.field, key))
        group.by_label.setdefault(correction.label, []).append(correction)
    return sorted((g for g in groups.values() if len(g.by_label) > 1), key=lambda g: g.handle)


def disagreements(session: Session, field_name: str | None = None) -> list[Disagreement]:
    """The texts whose corrections disagree, oldest first: of one field, or of both."""
    fields = FIELDS if field_name is None else (field_name,)
    return [d for f in fields for d in disagreements_among(latest_live(session, f))]


def withheld_keys(session: Session, field_name: str) -> set[str]:
    return {d.key for d in disagreements(session, field_name)}


def settle(session: Session, correction_id: int, label: str, actor: User, now: datetime) -> Disagreement:
    """裁定: ``label`` is right for the text of correction ``correction_id``;
    every live correction of that text naming another label is superseded,
    with who and when, and each ticket concerned has it on its timeline."""
    correction = session.get(Correction, correction_id)
    found = None
    if correction is not None and correction.superseded_at is None:
        key = text_key(correction.text)
        found = next((d for d in disagreements(session, correction.field) if d.key == key), None)
    if found is None:
        raise CorrectionError(N_("这组互相矛盾的纠错已不存在，可能已有人裁定。"))
    if label not in found.by_label:
        raise CorrectionError(N_("所选的结果不在这组纠错之中。"))
    losing = [
        c
        for c in session.scalars(
            select(Correction).where(
                Correction.field == found.field, Correction.superseded_at.is_(None), Correction.label != label
            )
        )
        if text_key(c.text) == found.key
    ]
    for lost in losing:
        lost.superseded_at, lost.superseded_by_id = now, actor.id
    for ticket_id in sorted({c.ticket_id for c in losing}):
        ticket = session.get(Ticket, ticket_id)
        session.add(
            TicketEvent(
                ticket_id=ticket_id, at=now, agency_id=ticket.agency_id, actor_id=actor.id, actor=actor.label,
                action=SETTLE, to_status=ticket.status.value,
                detail={"field": found.field, "label": label, "superseded": sorted({c.label for c in losing
                                                                                    if c.ticket_id == ticket_id})},
            )
        )
    return found
