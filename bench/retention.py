"""The retention job (存储期限) on many tickets: how long the first run takes on
years of history, and the nightly run after it.

    python bench/retention.py --tickets 100000                 # a new SQLite file
    DATABASE_URL=postgresql://user@host/bench_db python bench/retention.py --tickets 1000000

Fills an empty database (DATABASE_URL's, its public schema dropped first, or a
new SQLite file) with the demo's agencies and ``--tickets`` tickets over two
years from bench/million_tickets.py's generator (their rows as they end and
their key events), each with a resident's name, number, address and
coordinates, a WeChat message with its raw payload, and every fifth a 2 KB
photo. Then, at a time two years later — so the first half of the tickets is
past the three years of contact data and every closed one past the year of
media — it times: the dry run, the job (``apply_retention``, committing every
batch of 1,000, as ``flask --app admin privacy retention`` does) and a second
run, which should find nothing. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path

from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _database import fresh_database  # noqa: E402
from _ticket_history import EVENT_COLUMNS, TICKET_COLUMNS, tickets  # noqa: E402
from million_tickets import reference_data  # noqa: E402

from routing.clock import now as city_now  # noqa: E402
from routing.flow.deadlines import load_calendar  # noqa: E402
from routing.flow.retention import apply_retention  # noqa: E402
from routing.store.db import Database  # noqa: E402
from routing.store.migrate import upgrade  # noqa: E402
from routing.store.retention import Schedule  # noqa: E402
from routing.store.tickets import Attachment, Kind, Message, Status, Ticket, TicketEvent, Urgency  # noqa: E402

CHUNK = 5_000
PHOTO = bytes(range(256)) * 8


def _rows(count: int, now: datetime, agencies, calendar):
    """Each ticket's row with its resident's data, its events, its message and its photo."""
    for row, events in tickets(count, now, agencies, calendar):
        ticket = dict(zip(TICKET_COLUMNS, row))
        tid, created = ticket["id"], ticket["created_at"]
        phone = f"139{tid:08d}"
        ticket.update(
            status=Status(ticket["status"]), kind=Kind(ticket["kind"]), urgency=Urgency(ticket["urgency"]),
            channel="wechat", text=f"{ticket['text']}电话{phone}", contact_name=f"居民{tid}", contact_phone=phone,
            location_text=f"西湖区文三路{tid % 500}号{tid % 30}幢", latitude=30.2791 + tid % 97 / 10_000,
            longitude=120.1234, confidential=False, dispute_rejected=False, redo_count=0, sms_notice=True,
        )
        event_rows = [
            dict(zip(EVENT_COLUMNS, e)) | {"detail": json.loads(e[-1]) if e[-1] else None} for e in events
        ]
        openid = f"o{tid:027d}"
        message = {"ticket_id": tid, "channel": "wechat", "external_id": f"msg:{tid}", "sender": openid,
                   "received_at": created,
                   "payload": {"text": ticket["text"], "type": "text",
                               "raw": {"FromUserName": openid, "Content": ticket["text"], "MsgId": str(tid)}}}
        photo = ({"ticket_id": tid, "kind": "image", "media_id": f"m{tid}", "url": f"http://mmbiz/{tid}.jpg",
                  "data": PHOTO, "size": len(PHOTO), "created_at": created} if tid % 5 == 0 else None)
        yield ticket, event_rows, message, photo


def load(database: Database, count: int, now: datetime, agencies, calendar) -> dict:
    started = time.perf_counter()
    rows = _rows(count, now, agencies, calendar)
    loaded = {"tickets": 0, "events": 0, "messages": 0, "attachments": 0}
    while chunk := list(islice(rows, CHUNK)):
        with database.Session.begin() as session:
            session.execute(insert(Ticket.__table__), [t for t, _, _, _ in chunk])
            events = [e for _, es, _, _ in chunk for e in es]
            if events:
                session.execute(insert(TicketEvent.__table__), events)
            session.execute(insert(Message.__table__), [m for _, _, m, _ in chunk])
            photos = [p for _, _, _, p in chunk if p]
            if photos:
                session.execute(insert(Attachment.__table__), photos)
        loaded["tickets"] += len(chunk)
        loaded["events"] += len(events)
        loaded["messages"] += len(chunk)
        loaded["attachments"] += len(photos)
        print(f"{loaded['tickets']:>9,} tickets ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("SELECT setval(pg_get_serial_sequence('ticket', 'id'), (SELECT max(id) FROM ticket))")
            connection.exec_driver_sql("VACUUM ANALYZE")
    return loaded | {"seconds": round(time.perf_counter() - started, 1)}


def timed(work):
    started = time.perf_counter()
    result = work()
    return result, round(time.perf_counter() - started, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="retention-bench-")
    url = fresh_database(folder)
    upgrade(url)
    database = Database(url)
    generated = city_now().replace(microsecond=0)
    agencies = reference_data(database)
    with database.Session() as session:
        calendar = load_calendar(session)
    result: dict = {"database": database.engine.dialect.name, "load": load(database, args.tickets, generated,
                                                                           agencies, calendar)}
    at = generated + timedelta(days=2 * 365)
    schedule = Schedule()
    with database.Session() as session:
        dry, result["dry_run_seconds"] = timed(lambda: apply_retention(session, at, schedule, dry_run=True))
        session.rollback()
        first, seconds = timed(lambda: apply_retention(session, at, schedule, commit=True))
        again, result["second_run_seconds"] = timed(lambda: apply_retention(session, at, schedule, commit=True))
        anonymised = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.anonymised_at.is_not(None)))
    result["dry_run"] = dry.counts
    result["first_run"] = first.counts | {"seconds": seconds,
                                          "tickets_per_second": round(first.counts["tickets"] / seconds)}
    result["second_run"] = again.counts
    result["anonymised_tickets"] = anonymised
    database.dispose()
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
