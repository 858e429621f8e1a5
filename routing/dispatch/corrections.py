"""Labelled examples for retraining: dispatchers' corrections (纠错样本),
closed tickets with their final topic, and for the agency model the tickets
agencies actually closed and imported history. Corrections that contradict
each other are withheld until a dispatcher settles them (``contradictions``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.dispatch.contradictions import latest_live, text_key, withheld_keys
from routing.store.people import Agency
from routing.store.tickets import Correction, HistoricalTicket, Status, Ticket, TicketEvent


def topic_examples(session: Session) -> list[tuple[str, str]]:
    """(text, "一级/二级") for every corrected ticket, by its latest correction
    that no ruling superseded; texts whose corrections disagree are withheld.

    A correction that names only the first level teaches nothing a two-level
    model can use, so it is left out."""
    withheld = withheld_keys(session, "topic")
    return [
        (c.text, c.label) for c in latest_live(session, "topic") if text_key(c.text) not in withheld
    ]


def closed_topic_examples(session: Session) -> list[tuple[str, str]]:
    """(text, "一级/二级") of closed tickets (已办结) with their final topic.

    Only tickets no dispatcher had to look at: never in triage (where a topic
    is the model's unsure hint, and returns land) and never corrected (those
    are learnt as corrections, and a text whose corrections disagree is not
    learnt at all). What is left is a topic the model read, the rules routed
    by and the agency answered under. The latest ticket wins for a text."""
    corrected = {text_key(text) for text in session.scalars(select(Correction.text).where(Correction.field == "topic"))}
    triaged = select(TicketEvent.ticket_id).where(TicketEvent.to_status == Status.TRIAGE.value)
    rows = session.execute(
        select(Ticket.text, Ticket.topic, Ticket.subtopic)
        .where(
            Ticket.status == Status.CLOSED,
            Ticket.topic.is_not(None),
            Ticket.subtopic.is_not(None),
            Ticket.id.not_in(triaged),
        )
        .order_by(Ticket.id)
    )
    by_key: dict[str, tuple[str, str]] = {}
    for text, topic, subtopic in rows:
        key = text_key(text)
        if key and key not in corrected:
            by_key[key] = (text.strip(), f"{topic}/{subtopic}")
    return list(by_key.values())


def new_examples_since(session: Session, since: datetime | None) -> int:
    """Corrections made and tickets closed since ``since`` (ever, with None):
    what a retraining after ``since`` would have that one then did not."""
    corrections = select(func.count()).select_from(Correction).where(Correction.superseded_at.is_(None))
    closed = select(func.count()).select_from(Ticket).where(Ticket.status == Status.CLOSED)
    if since is not None:
        corrections = corrections.where(Correction.at > since)
        closed = closed.where(Ticket.closed_at > since)
    return (session.scalar(corrections) or 0) + (session.scalar(closed) or 0)


def oldest_example(session: Session) -> datetime | None:
    """When the first correction was made or the first ticket closed."""
    times = [
        session.scalar(select(func.min(Correction.at))),
        session.scalar(select(func.min(Ticket.closed_at)).where(Ticket.status == Status.CLOSED)),
    ]
    return min((t for t in times if t is not None), default=None)


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
    Inactive agencies are left out: routing would never send them a ticket;
    so are corrections a ruling superseded, and every example of a text whose
    agency corrections disagree, until a dispatcher settles them.
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
            Correction.superseded_at.is_(None),
            Agency.active.is_(True),
            Ticket.status.not_in((Status.MERGED, Status.INVALID, Status.CLOSED)),
        )
        .order_by(Correction.id)
    )
    for ticket_id, text, agency in session.execute(corrected):
        latest[ticket_id] = (text, agency)
    for text, agency in latest.values():
        by_text[text.strip()] = ("corrections", agency)
    withheld = withheld_keys(session, "agency")
    closed = (
        select(Ticket.text, Agency.name)
        .join(Agency, Ticket.agency_id == Agency.id)
        .where(Ticket.status == Status.CLOSED, Agency.active.is_(True))
        .order_by(Ticket.id)
    )
    for text, agency in session.execute(closed):
        by_text[text.strip()] = ("closed", agency)
    by_text.pop("", None)
    by_text = {text: entry for text, entry in by_text.items() if text_key(text) not in withheld}
    examples = AgencyExamples([(text, agency) for text, (_, agency) in by_text.items()])
    for source, _ in by_text.values():
        setattr(examples, source, getattr(examples, source) + 1)
    return examples
