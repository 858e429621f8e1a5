"""bench/matters_scale.py's scale part, the data: a year of open tickets made
of the shared government messages, with their fingerprints, and loaded into
SQLite (on PostgreSQL the script COPYs them: million_tickets.copy_with_children).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from classifier_cv import load, near_duplicate_groups
from sqlalchemy import insert, text

from classifier.similar import fingerprints
from classifier.text import normalise
from routing.store.db import Database
from routing.store.tickets import MatterTerm, Ticket

TICKET_COLUMNS = (
    "id", "number", "code", "status", "kind", "urgency", "channel", "text", "district_id", "agency_id",
    "assigned_at", "accept_by", "answer_by", "accepted_at", "paused_at", "created_at", "updated_at", "version",
)
TERM_COLUMNS = ("ticket_id", "term", "weight", "raised_at")
# Open tickets of a year: most with an agency, a few still with the dispatcher.
STATUSES = (("triage", 0.05), ("assigned", 0.3), ("accepted", 0.6), ("waiting", 0.05))
FINGERPRINT_BATCH = 500


def split_messages(data: Path, held_out: int, seed: int) -> tuple[list[str], list[str]]:
    """(background texts, held-out texts): one message of each of ``held_out``
    near-duplicate groups chosen at random; no message of those groups is background."""
    texts, _ = load(data)
    groups = near_duplicate_groups(texts)
    rng = random.Random(seed)
    usable = sorted({int(g) for g, t in zip(groups, texts) if len(normalise(t)) >= 20})
    chosen = set(rng.sample(usable, held_out))
    first: dict[int, str] = {}
    background = []
    for g, t in zip(groups, texts):
        if int(g) in chosen:
            if int(g) not in first and len(normalise(t)) >= 20:
                first[int(g)] = t
        else:
            background.append(t)
    rng.shuffle(background)
    held = [first[g] for g in sorted(chosen)]
    rng.shuffle(held)
    return background, held


def house_number(rng: random.Random) -> str:
    return f"{rng.randint(1, 40)}幢{rng.randint(1, 6)}单元"


class Tickets:
    """Rows of open tickets and of their fingerprints, ids from 1; the
    seconds spent fingerprinting are kept apart."""

    def __init__(self, agencies: list[int], seed: int) -> None:
        self.agencies = agencies
        self.rng = random.Random(seed)
        self.statuses, self.weights = zip(*STATUSES)
        self.next_id = 1
        self.fingerprint_seconds = 0.0

    def rows(
        self, texts: list[str], created: list[datetime], districts: list[int]
    ) -> Iterator[tuple[tuple, list[tuple]]]:
        for start in range(0, len(texts), FINGERPRINT_BATCH):
            batch = texts[start:start + FINGERPRINT_BATCH]
            began = time.perf_counter()
            prints = fingerprints(batch)
            self.fingerprint_seconds += time.perf_counter() - began
            for n, (body, fp) in enumerate(zip(batch, prints, strict=True)):
                at = created[start + n]
                ticket = self.ticket(body, at, districts[start + n])
                yield ticket, [(ticket[0], term, weight, at) for term, weight in fp]

    def ticket(self, body: str, at: datetime, district: int) -> tuple:
        tid, self.next_id = self.next_id, self.next_id + 1
        status = self.rng.choices(self.statuses, self.weights)[0]
        agency = None if status == "triage" else self.rng.choice(self.agencies)
        assigned = None if agency is None else at + timedelta(minutes=30)
        accepted = at + timedelta(hours=5) if status in ("accepted", "waiting") else None
        return (
            tid, f"{at:%Y%m%d}{tid:07d}", f"{self.rng.getrandbits(32):08X}", status, "complaint", "normal", "web",
            body, district, agency, assigned, assigned and assigned + timedelta(days=1),
            assigned and assigned + timedelta(days=15), accepted,
            at + timedelta(days=1) if status == "waiting" else None, at, accepted or assigned or at, 1,
        )


def background(count: int, texts: list[str], now: datetime, districts: list[int], seed: int):
    """A year of tickets: texts in turn with a house number, created evenly, districts in turn."""
    rng = random.Random(seed)
    start, span = now - timedelta(days=365), timedelta(days=365)
    bodies = [f"{texts[i % len(texts)]}{house_number(rng)}" for i in range(count)]
    created = [(start + span * ((i + 0.5) / count)).replace(microsecond=0) for i in range(count)]
    return bodies, created, [districts[i % len(districts)] for i in range(count)]


def insert_rows(database: Database, rows: Iterator[tuple[tuple, list[tuple]]]) -> int:
    """The same rows into SQLite, a few thousand tickets a statement."""
    n = 0
    with database.Session() as session:
        batch: list[tuple[tuple, list[tuple]]] = []

        def flush() -> None:
            session.execute(insert(Ticket.__table__), [dict(zip(TICKET_COLUMNS, t)) for t, _ in batch])
            session.execute(
                insert(MatterTerm.__table__), [dict(zip(TERM_COLUMNS, r)) for _, rs in batch for r in rs]
            )
            batch.clear()

        for n, item in enumerate(rows, 1):
            batch.append(item)
            if len(batch) == 2000:
                flush()
        if batch:
            flush()
        session.execute(text("ANALYZE"))
        session.commit()
    return n
