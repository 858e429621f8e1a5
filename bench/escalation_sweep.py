"""The escalation part of the sweep on a large ticket table.

Builds a schema with ``--tickets`` tickets (1 % waiting to be accepted, 5 % in
hand, the rest closed; deadlines spread over ten months), then runs the
reminder/notice sweep until its backlog is worked off (at most ``BATCH``
records of each kind and deadline per run) and times a quiet run: the cost
every 15-minute slot pays once everything overdue has been chased.

    python3 bench/escalation_sweep.py --tickets 100000            # SQLite in a temporary folder
    DATABASE_URL=postgresql://… python3 bench/escalation_sweep.py --tickets 1000000

With DATABASE_URL the public schema of that database is DROPPED and rebuilt:
point it at a scratch database only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _database import fresh_database  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from routing.flow import escalation
from routing.store.db import Database
from routing.store.migrate import upgrade
from routing.store.people import Agency
from routing.store.tickets import Kind, Status, Ticket, Urgency

START = datetime(2026, 1, 5, 9, 0)
NOW = datetime(2026, 11, 26, 10, 0)


def status_of(i: int) -> Status:
    return Status.ASSIGNED if i % 100 == 0 else Status.ACCEPTED if i % 20 == 0 else Status.CLOSED


def fill(database: Database, tickets: int, chunk: int = 20000) -> None:
    with database.engine.begin() as connection:
        office = connection.execute(insert(Agency).values(name="市政府办公厅", active=True)).inserted_primary_key[0]
        bureau = connection.execute(
            insert(Agency).values(name="市住建局", active=True, supervisor_id=office)
        ).inserted_primary_key[0]
        for first in range(0, tickets, chunk):
            rows = []
            for i in range(first, min(first + chunk, tickets)):
                assigned = START + timedelta(days=i % 300, minutes=i % 480)
                rows.append(dict(
                    number=f"B{i:08d}", code="x", status=status_of(i), kind=Kind.COMPLAINT, urgency=Urgency.NORMAL,
                    channel="api", text="电梯坏了", agency_id=bureau, assigned_at=assigned,
                    accept_by=assigned + timedelta(days=1), answer_by=assigned + timedelta(days=21),
                    created_at=assigned, updated_at=assigned, version=1,
                ))
            connection.execute(insert(Ticket), rows)
        if database.engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))


def timed_sweep(database: Database, now: datetime) -> tuple[tuple[int, int], float]:
    with database.Session() as session:
        began = time.perf_counter()
        counts = escalation.escalate(session, now, escalation.EscalationPolicy())
        session.commit()
        return counts, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100000)
    parser.add_argument("--rounds", type=int, default=5, help="backlog runs to time before the quiet runs")
    args = parser.parse_args()
    url = fresh_database(tempfile.mkdtemp())
    upgrade(url)
    database = Database(url)
    began = time.perf_counter()
    fill(database, args.tickets)
    print(f"{args.tickets} tickets on {database.engine.dialect.name} in {time.perf_counter() - began:.1f} s")
    for round_ in range(args.rounds):
        counts, seconds = timed_sweep(database, NOW)
        print(f"backlog run {round_ + 1}: {counts[0]} reminders, {counts[1]} notices in {seconds:.2f} s")
        if counts == (0, 0):
            break
    # Steady state: a backlog this size is worked off over later slots; here we
    # clear it, then time the runs that find nothing new.
    while timed_sweep(database, NOW)[0] != (0, 0):
        pass
    quiet = [timed_sweep(database, NOW + timedelta(minutes=15 * k))[1] for k in range(1, 4)]
    print("quiet runs: " + ", ".join(f"{s * 1000:.0f} ms" for s in quiet))
    database.dispose()


if __name__ == "__main__":
    main()
