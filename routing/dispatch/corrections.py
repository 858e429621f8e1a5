"""Labelled examples for retraining: dispatchers' corrections (纠错样本), and
for the agency model the tickets agencies actually closed and imported history."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.store.people import Agency
from routing.store.tickets import Correction, HistoricalTicket, Status, Ticket


def topic_examples(session: Session) -> list[tuple[str, str]]:
    """(text, "一级/二级") for every corrected ticket, by its latest correction.

    A correction that names only the first level teaches nothing a two-level
    model can use, so it is left out."""
    latest: dict[int, tuple[str, str]] = {}
    rows = session.scalars(select(Correction).where(Correction.field == "topic").order_by(Correction.id))
    for correction in rows:
        latest[correction.ticket_id] = (correction.text, correction.label)
    return [(text, label) for text, label in latest.values() if "/" in label and text.strip()]


@dataclass
class AgencyExamples:
    """(text, agency name) pairs, and how many came from each source."""

    pairs: list[tuple[str, str]]
    closed: int = 0
    history: int = 0
    corrections: int = 0

    @property
    def texts(self) -> list[str]:
        return [text for text, _ in self.pairs]

    @property
    def agencies(self) -> list[str]:
        return [agency for _, agency in self.pairs]


def agency_examples(session: Session) -> AgencyExamples:
    """Texts with the agency that answered for them (承办单位样本), for the agency model.

    Three sources, later ones winning for the same text:
    1. imported history (历史工单);
    2. dispatchers' agency corrections, the latest per ticket — of tickets not
       merged or invalid, since those were never handled as themselves;
    3. closed tickets (已办结) with the agency that closed them: the final
       one, after every return and transfer, which is what the agency
       actually took responsibility for. It overrides a correction on the
       same ticket, which may have been returned again afterwards.
    Inactive agencies are left out: routing would never send them a ticket.
    """
    by_text: dict[str, tuple[str, str]] = {}
    for text, agency in session.execute(
        select(HistoricalTicket.text, Agency.name)
        .join(Agency, HistoricalTicket.agency_id == Agency.id)
        .where(Agency.active.is_(True))
        .order_by(HistoricalTicket.id)
    ):
        by_text[text.strip()] = ("history", agency)
    latest: dict[int, tuple[str, str]] = {}
    corrected = (
        select(Correction.ticket_id, Correction.text, Correction.label)
        .join(Ticket, Correction.ticket_id == Ticket.id)
        .join(Agency, Agency.name == Correction.label)
        .where(
            Correction.field == "agency",
            Agency.active.is_(True),
            Ticket.status.not_in((Status.MERGED, Status.INVALID, Status.CLOSED)),
        )
        .order_by(Correction.id)
    )
    for ticket_id, text, agency in session.execute(corrected):
        latest[ticket_id] = (text, agency)
    for text, agency in latest.values():
        by_text[text.strip()] = ("corrections", agency)
    closed = (
        select(Ticket.text, Agency.name)
        .join(Agency, Ticket.agency_id == Agency.id)
        .where(Ticket.status == Status.CLOSED, Agency.active.is_(True))
        .order_by(Ticket.id)
    )
    for text, agency in session.execute(closed):
        by_text[text.strip()] = ("closed", agency)
    by_text.pop("", None)
    examples = AgencyExamples([(text, agency) for text, (_, agency) in by_text.items()])
    for source, _ in by_text.values():
        setattr(examples, source, getattr(examples, source) + 1)
    return examples
