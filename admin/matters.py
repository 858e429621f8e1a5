"""Duplicates and hot issues for the dispatcher (重复件与热点): the
classifier's text similarity over the fingerprints the index holds
(``routing.matters``), so a new ticket is checked against a year of open
tickets, and a fortnight's hot issues are grouped without reading a text."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from classifier.similar import fingerprint, fingerprints, hot_groups_of, most_similar
from routing.dispatch.matters import (
    fingerprints_of,
    open_fingerprints_since,
    open_since_state,
    residents_of,
    similar_open,
)
from routing.store.tickets import Ticket

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


@dataclass(frozen=True)
class HotIssue:
    """热点: the tickets of one matter, the one the others are close to
    first, with who raised each (``raised_by``, as ``residents_of`` tells)."""

    tickets: list[Ticket]
    raised_by: list[str]

    @property
    def residents(self) -> int:
        """How many residents raised it: what makes it hot, and what is shown."""
        return len(set(self.raised_by))

    def only(self, keep: Callable[[Ticket], bool]) -> HotIssue:
        """The same matter, with only the tickets ``keep`` keeps."""
        kept = [(t, r) for t, r in zip(self.tickets, self.raised_by, strict=True) if keep(t)]
        return HotIssue([t for t, _ in kept], [r for _, r in kept])


def hot_issues(session: Session, now: datetime, limit: int | None = None) -> list[HotIssue]:
    """Matters that several residents raised in the last two weeks, most
    residents first (the ``limit`` first: only their tickets are read)."""
    since = now - HOT_WINDOW
    groups, residents = _hot_groups(session, since)
    groups = groups[:limit]
    tickets = {t.id: t for t in _tickets(session, [ticket_id for group in groups for ticket_id in group])}
    return [
        HotIssue([tickets[i] for i in group if i in tickets], [residents[i] for i in group if i in tickets])
        for group in groups
    ]


# The last grouping per database: the desk and the dashboard ask on every
# view, and reading a fortnight's fingerprints costs about a second at 8,000
# open tickets, while what they are grouped from changes far less often.
_last_groups: WeakKeyDictionary[Engine, tuple[tuple, list[list[int]], dict[int, str]]] = WeakKeyDictionary()
_last_groups_lock = threading.Lock()


def _hot_groups(session: Session, since: datetime) -> tuple[list[list[int]], dict[int, str]]:
    """Ticket ids of each hot group and who raised each ticket, recomputed
    only when the window's open tickets changed."""
    engine = session.get_bind()
    state = (since.date(), *open_since_state(session, since))
    with _last_groups_lock:
        last = _last_groups.get(engine)
    # The window's start moves every second; the grouping is redone when a
    # ticket leaves it (the count changes) and at least once a day.
    if last is not None and last[0] == state:
        return last[1], last[2]
    prints = open_fingerprints_since(session, since, limit=HOT_POOL)
    ids = list(prints)
    residents = residents_of(session, ids)
    groups = [
        [ids[i] for i in group]
        for group in hot_groups_of([prints[i] for i in ids], residents=[residents[i] for i in ids])
    ]
    with _last_groups_lock:
        _last_groups[engine] = (state, groups, residents)
    return groups, residents


def hot_issues_among(session: Session, pool: Sequence[Ticket]) -> list[HotIssue]:
    """The matters several residents raised among the tickets in ``pool``,
    most residents first (by their stored fingerprints; a ticket without one by its text)."""
    stored = fingerprints_of(session, [t.id for t in pool])
    missing = [t for t in pool if t.id not in stored]
    stored.update(zip((t.id for t in missing), fingerprints([t.text for t in missing]), strict=True))
    residents = residents_of(session, [t.id for t in pool])
    raised_by = [residents[t.id] for t in pool]
    groups = hot_groups_of([stored[t.id] for t in pool], residents=raised_by)
    return [HotIssue([pool[i] for i in group], [raised_by[i] for i in group]) for group in groups]


def _tickets(session: Session, ids: list[int]) -> list[Ticket]:
    """These tickets, in this order."""
    if not ids:
        return []
    found = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids)))}
    return [found[i] for i in ids if i in found]
