"""The index of ticket fingerprints (重复件检索): which open tickets may
raise the same matter as a new one, and the fingerprints hot issues are
grouped on.

A fingerprint is a few dozen (term, weight) pairs whose weights are of unit
length; the classifier computes them (``classifier.similar``), intake hands
them over with a ticket's labels, and routing stores and searches them
without knowing what a term is. The score of two fingerprints is the sum of
their shared terms' weight products: their cosine.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import case, delete, func, insert, select, text
from sqlalchemy.orm import Session

from routing.dispatch.rules import OPEN
from routing.store.tickets import MatterTerm, Message, Ticket

# (term, weight) pairs, as the classifier makes them.
Fingerprint = Sequence[tuple[int, float]]

_COLUMNS = ("ticket_id", "term", "weight", "raised_at")
_INSERT_UNNESTED = text(
    "INSERT INTO matter_term (ticket_id, term, weight, raised_at)"
    " SELECT * FROM unnest(CAST(:ids AS integer[]), CAST(:terms AS integer[]),"
    " CAST(:weights AS double precision[]), CAST(:raised AS timestamp[]))"
)


def index_matters(session: Session, prints: Mapping[int, tuple[datetime, Fingerprint]]) -> None:
    """Store each ticket's fingerprint, replacing the one it had (``prints``:
    ticket id → (the ticket's ``created_at``, fingerprint)). The caller commits."""
    if not prints:
        return
    table = MatterTerm.__table__
    session.execute(delete(table).where(table.c.ticket_id.in_(list(prints))))
    rows = [
        (ticket_id, term, weight, raised_at)
        for ticket_id, (raised_at, fingerprint) in prints.items()
        for term, weight in fingerprint
    ]
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        # A run of the indexing job is thousands of rows: as four arrays in
        # one statement, rather than a statement per row in a pipeline.
        ids, terms, weights, raised = (list(column) for column in zip(*rows, strict=True))
        session.execute(_INSERT_UNNESTED, {"ids": ids, "terms": terms, "weights": weights, "raised": raised})
    else:
        session.execute(insert(table), [dict(zip(_COLUMNS, row, strict=True)) for row in rows])


def index_ticket(session: Session, ticket: Ticket, fingerprint: Fingerprint) -> None:
    """``index_matters`` for one ticket (flushed first, for its id)."""
    if ticket.id is None:
        session.flush()
    index_matters(session, {ticket.id: (ticket.created_at, fingerprint)})


def fingerprints_of(session: Session, ticket_ids: Sequence[int]) -> dict[int, list[tuple[int, float]]]:
    """The stored fingerprints of these tickets (those that have one)."""
    prints: dict[int, list[tuple[int, float]]] = {}
    for start in range(0, len(ticket_ids), 5000):
        rows = session.execute(
            select(MatterTerm.ticket_id, MatterTerm.term, MatterTerm.weight)
            .where(MatterTerm.ticket_id.in_(ticket_ids[start : start + 5000]))
            .order_by(MatterTerm.ticket_id, MatterTerm.weight.desc())
        )
        prints.update(_by_ticket(rows))
    return prints


def similar_open(
    session: Session,
    fingerprint: Fingerprint,
    since: datetime,
    *,
    district_id: int | None = None,
    exclude: int | None = None,
    limit: int = 20,
) -> list[tuple[int, float]]:
    """Open tickets raised since ``since`` whose fingerprints share terms with
    this one: (ticket id, score), highest first. Where ``district_id`` is
    given, that district's tickets and those whose district is not known."""
    weights = dict(fingerprint)
    if not weights:
        return []
    score = func.sum(MatterTerm.weight * case(weights, value=MatterTerm.term)).label("score")
    query = (
        select(MatterTerm.ticket_id, score)
        .join(Ticket, Ticket.id == MatterTerm.ticket_id)
        .where(MatterTerm.term.in_(list(weights)), MatterTerm.raised_at >= since, Ticket.status.in_(OPEN))
        .group_by(MatterTerm.ticket_id)
        .order_by(score.desc(), MatterTerm.ticket_id.desc())
        .limit(limit)
    )
    if district_id is not None:
        query = query.where((Ticket.district_id == district_id) | Ticket.district_id.is_(None))
    if exclude is not None:
        query = query.where(MatterTerm.ticket_id != exclude)
    return [(ticket_id, float(value)) for ticket_id, value in session.execute(query)]


def open_since_state(session: Session, since: datetime) -> tuple:
    """What changes whenever the open tickets raised since ``since`` change:
    one arrives, leaves the open states or ages out of the window, or
    anything on one changes (its ``updated_at``). Cheap beside reading their fingerprints."""
    row = session.execute(
        select(func.count(), func.max(Ticket.id), func.max(Ticket.updated_at)).where(
            Ticket.status.in_(OPEN), Ticket.created_at >= since
        )
    ).one()
    return tuple(row)


def open_fingerprints_since(session: Session, since: datetime, *, limit: int) -> dict[int, list[tuple[int, float]]]:
    """The fingerprints of the open tickets raised since ``since``, newest
    ``limit`` tickets at most: ticket id → fingerprint, newest first."""
    newest = (
        select(Ticket.id)
        .where(Ticket.status.in_(OPEN), Ticket.created_at >= since)
        .order_by(Ticket.id.desc())
        .limit(limit)
        .subquery()
    )
    rows = session.execute(
        select(MatterTerm.ticket_id, MatterTerm.term, MatterTerm.weight)
        .join(newest, newest.c.id == MatterTerm.ticket_id)
        .order_by(MatterTerm.ticket_id.desc(), MatterTerm.weight.desc())
    )
    return _by_ticket(rows)


def residents_of(session: Session, ticket_ids: Sequence[int]) -> dict[int, str]:
    """Who raised each ticket, as hot issues count people: the sender of its
    first message on its channel (a WeChat openid, a deputy's account), else
    its contact phone, else the ticket itself — one resident's several
    tickets are one resident."""
    residents: dict[int, str] = {}
    for start in range(0, len(ticket_ids), 5000):
        chunk = ticket_ids[start : start + 5000]
        senders = session.execute(
            select(Message.ticket_id, Message.channel, Message.sender)
            .where(Message.ticket_id.in_(chunk), Message.sender.is_not(None), Message.sender != "")
            .order_by(Message.id)
        )
        for ticket_id, channel, sender in senders:
            residents.setdefault(ticket_id, f"{channel}:{sender}")
        phones = session.execute(select(Ticket.id, Ticket.contact_phone).where(Ticket.id.in_(chunk)))
        for ticket_id, phone in phones:
            digits = re.sub(r"\D", "", phone or "")
            residents.setdefault(ticket_id, f"phone:{digits}" if digits else f"ticket:{ticket_id}")
    return residents


def _by_ticket(rows) -> dict[int, list[tuple[int, float]]]:
    """(ticket id, term, weight) rows, in the order read, as ticket id → fingerprint."""
    prints: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for ticket_id, term, weight in rows:
        prints[ticket_id].append((term, weight))
    return dict(prints)


def _unindexed(since: datetime):
    indexed = select(MatterTerm.ticket_id).where(MatterTerm.ticket_id == Ticket.id).exists()
    return Ticket.status.in_(OPEN), Ticket.created_at >= since, Ticket.text != "", ~indexed


def count_unindexed(session: Session, since: datetime) -> int:
    """Open tickets raised since ``since`` with text but no fingerprint."""
    return session.scalar(select(func.count()).select_from(Ticket).where(*_unindexed(since))) or 0


def unindexed_open(session: Session, since: datetime, *, after: int = 0, limit: int = 500) -> list[Ticket]:
    """Open tickets raised since ``since`` with text but no fingerprint (those
    raised before the index existed), by id after ``after``."""
    return list(
        session.scalars(select(Ticket).where(Ticket.id > after, *_unindexed(since)).order_by(Ticket.id).limit(limit))
    )
