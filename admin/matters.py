"""Duplicates and hot issues for the dispatcher (重复件与热点): the classifier's
text similarity over the open tickets the database holds."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from classifier.similar import hot_groups, most_similar
from routing.models import Ticket
from routing.tickets import open_tickets_since

# Bounds that keep a page quick: jieba reads every candidate's text on each look.
DUPLICATE_WINDOW = timedelta(days=90)
HOT_WINDOW = timedelta(days=14)
POOL = 300


def possible_duplicates(session: Session, ticket: Ticket, now: datetime) -> list[tuple[Ticket, float]]:
    """Open tickets that may raise the same matter, in the same district where it is known."""
    pool = open_tickets_since(
        session, now - DUPLICATE_WINDOW, district_id=ticket.district_id, exclude=ticket.id, limit=POOL
    )
    return [(pool[i], score) for i, score in most_similar(ticket.text, [t.text for t in pool])]


def hot_issues(session: Session, now: datetime) -> list[list[Ticket]]:
    """Matters that several residents raised in the last two weeks, largest first."""
    return hot_issues_among(open_tickets_since(session, now - HOT_WINDOW, limit=POOL))


def hot_issues_among(pool: list[Ticket]) -> list[list[Ticket]]:
    """The groups of tickets in ``pool`` that raise one matter, largest first."""
    return [[pool[i] for i in group] for group in hot_groups([t.text for t in pool])]
