"""Duplicates and hot issues for the dispatcher (重复件与热点): the
classifier's text similarity over the fingerprints the index holds
(``routing.matters``), so a new ticket is checked against a year of open
tickets, and a fortnight's hot issues are grouped without reading a text."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from classifier.similar import fingerprint, fingerprints, hot_groups_of, most_similar
from routing.matters import fingerprints_of, open_fingerprints_since, open_since_state, similar_open
from routing.models import Ticket

DUPLICATE_WINDOW = timedelta(days=365)
HOT_WINDOW = timedelta(days=14)
# The index's best candidates, scored again on their whole texts.
CANDIDATES = 20
# Bounds of a page's work: the newest open tickets of the window, and a
# monthly report's tickets.
HOT_POOL = 20_000
POOL = 5_000
# The hot issues a page lists.
HOT_LIMIT = 10


def possible_duplicates(session: Session, ticket: Ticket, now: datetime) -> list[tuple[Ticket, float]]:
    """Open tickets of the last year that may raise the same matter, in the
    same district where it is known (or whose district is not), most similar first."""
    if not ticket.text.strip():
        return []
    mine = fingerprints_of(session, [ticket.id]).get(ticket.id) or fingerprint(ticket.text)
    found = similar_open(
        session, mine, now - DUPLICATE_WINDOW, district_id=ticket.district_id, exclude=ticket.id, limit=CANDIDATES
    )
    pool = _tickets(session, [ticket_id for ticket_id, _ in found])
    return [(pool[i], score) for i, score in most_similar(ticket.text, [t.text for t in pool])]


def hot_issues(session: Session, now: datetime, limit: int | None = None) -> list[list[Ticket]]:
    """Matters that several residents raised in the last two weeks, largest
    first (the ``limit`` largest: only their tickets are read)."""
    since = now - HOT_WINDOW
    groups = _hot_groups(session, since)[:limit]
    tickets = {t.id: t for t in _tickets(session, [ticket_id for group in groups for ticket_id in group])}
    return [[tickets[i] for i in group if i in tickets] for group in groups]


# The last grouping per database: the desk and the dashboard ask on every
# view, and reading a fortnight's fingerprints costs about a second at 8,000
# open tickets, while what they are grouped from changes far less often.
_last_groups: WeakKeyDictionary[Engine, tuple[tuple, list[list[int]]]] = WeakKeyDictionary()
_last_groups_lock = threading.Lock()


def _hot_groups(session: Session, since: datetime) -> list[list[int]]:
    """Ticket ids of each hot group, recomputed only when the window's open tickets changed."""
    engine = session.get_bind()
    state = (since.date(), *open_since_state(session, since))
    with _last_groups_lock:
        last = _last_groups.get(engine)
    # The window's start moves every second; the grouping is redone when a
    # ticket leaves it (the count changes) and at least once a day.
    if last is not None and last[0] == state:
        return last[1]
    prints = open_fingerprints_since(session, since, limit=HOT_POOL)
    ids = list(prints)
    groups = [[ids[i] for i in group] for group in hot_groups_of([prints[i] for i in ids])]
    with _last_groups_lock:
        _last_groups[engine] = (state, groups)
    return groups


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
