"""Reference data read once per batch (参考数据): places, routing rules,
deadline policies, the calendar, agencies by name.

Routing a ticket reads a handful of small tables that change only when an
administrator edits them. A job that routes many tickets in one transaction
asks for them once per distinct question instead of once per ticket, or
reads a whole small table once and looks each ticket's answer up in it;
outside such a block every lookup goes to the database as before.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")
_KEY = "tingjian.reference"


@contextmanager
def read_once(session: Session) -> Iterator[None]:
    """Within the block, each reference lookup on ``session`` runs once."""
    outer = _KEY in session.info
    session.info.setdefault(_KEY, {})
    try:
        yield
    finally:
        if not outer:
            session.info.pop(_KEY, None)


def remembered(session: Session, key: Hashable, load: Callable[[], T]) -> T:
    """``load()``, or what it gave for ``key`` earlier in a ``read_once`` block."""
    cache = session.info.get(_KEY)
    if cache is None:
        return load()
    if key not in cache:
        cache[key] = load()
    return cache[key]


def whole_table(session: Session, key: Hashable, load: Callable[[], T]) -> T | None:
    """In a ``read_once`` block, ``load()`` — a whole small table, read once
    for the block — so that each ticket's lookup is a dictionary's; outside
    such a block None: the caller then asks the database for just its row."""
    cache = session.info.get(_KEY)
    if cache is None:
        return None
    if key not in cache:
        cache[key] = load()
    return cache[key]
