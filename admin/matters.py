"""Duplicates and hot issues for the dispatcher (重复件与热点): the
classifier's text similarity over the fingerprints the index holds
(``routing.matters``), so a new ticket is checked against a year of open
tickets, and a fortnight's hot issues are grouped without reading a text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from classifier.similar import fingerprints, hot_groups_of, most_similar
from routing.matters import fingerprints_of, open_fingerprints_since, similar_open
from routing.models import Ticket

DUPLICATE_WINDOW = timedelta(days=365)
HOT_WINDOW = timedelta(days=14)
# The index's best candidates, scored again on their whole texts.
CANDIDATES = 20
# Bounds of a page's work: the newest open tickets of the window, and a
# monthly report's tickets.
HOT_POOL = 20_000
POOL = 5_000


def possible_duplicates(session: Session, ticket: Ticket, now: datetime) -> list[tuple[Ticket, float]]:
    """Open tickets of the last year that may raise the same matter, in the
    same district where it is known (or whose district is not), most similar first."""
    if not ticket.text.strip():
        return []
    mine = fingerprints_of(session, [ticket.id]).get(ticket.id) or fingerprints([ticket.text])[0]
    found = similar_open(
        session, mine, now - DUPLICATE_WINDOW, district_id=ticket.district_id, exclude=ticket.id, limit=CANDIDATES
    )
    pool = _tickets(session, [ticket_id for ticket_id, _ in found])
    return [(pool[i], score) for i, score in most_similar(ticket.text, [t.text for t in pool])]


def hot_issues(session: Session, now: datetime) -> list[list[Ticket]]:
    """Matters that several residents raised in the last two weeks, largest first."""
    prints = open_fingerprints_since(session, now - HOT_WINDOW, limit=HOT_POOL)
    ids = list(prints)
    groups = hot_groups_of([prints[i] for i in ids])
    tickets = {t.id: t for t in _tickets(session, [ids[i] for group in groups for i in group])}
    return [[tickets[ids[i]] for i in group] for group in groups]


def hot_issues_among(session: Session, pool: Sequence[Ticket]) -> list[list[Ticket]]:
    """The groups of tickets in ``pool`` that raise one matter, largest first
    (by their stored fingerprints; a ticket without one by its text)."""
    stored = fingerprints_of(session, [t.id for t in pool])
    missing = [t for t in pool if t.id not in stored]
    stored.update(zip((t.id for t in missing), fingerprints([t.text for t in missing]), strict=True))
    return [[pool[i] for i in group] for group in hot_groups_of([stored[t.id] for t in pool])]


def _tickets(session: Session, ids: list[int]) -> list[Ticket]:
    """These tickets, in this order."""
    if not ids:
        return []
    found = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids)))}
    return [found[i] for i in ids if i in found]
