"""How long the dashboard's figures and the ticket list take on many tickets.

Builds a fresh SQLite database in a temporary folder (or uses the test
database named by DATABASE_URL — its schema is dropped and rebuilt) with
--tickets tickets spread over 120 days, 13 districts, 20 agencies, 12 topics
and 4 channels, then times ``routing.stats.dashboard`` for each period and
one filtered page of ``routing.listing``, as the best of --repeat runs.

    python bench/dashboard_stats.py --tickets 100000
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _database import fresh_database, insert_in_batches  # noqa: E402

from routing.dispatch.places import DISTRICT_CENTRES
from routing.reports import stats
from routing.reports.listing import TicketFilter, count_tickets, find_tickets
from routing.store.areas import District
from routing.store.db import Database
from routing.store.migrate import upgrade
from routing.store.people import Agency
from routing.store.tickets import Status, Ticket

TOPICS = ["城乡建设", "交通运输", "环境保护", "劳动和社会保障", "教育文体", "卫生计生",
          "商贸旅游", "公安政法", "民政", "农业农村", "政务服务", "其他"]
CHANNELS = ["web", "wechat", "api", "import"]
STATUSES = [Status.ASSIGNED, Status.ACCEPTED, Status.ANSWERED, Status.CLOSED, Status.TRIAGE, Status.WAITING]


def fill(database: Database, tickets: int, now: datetime) -> None:
    rng = random.Random(7)
    with database.engine.begin() as connection:
        districts = [connection.execute(insert(District).values(name=n).returning(District.id)).scalar_one()
                     for n in DISTRICT_CENTRES]
        agencies = [connection.execute(insert(Agency).values(name=f"机构{i}", active=True).returning(Agency.id)).scalar_one()
                    for i in range(20)]
        insert_in_batches(connection, Ticket, (_row(rng, i, now, districts, agencies) for i in range(tickets)))


def _row(rng: random.Random, i: int, now: datetime, districts: list[int], agencies: list[int]) -> dict:
    created = now - timedelta(minutes=rng.randrange(120 * 24 * 60))
    status = rng.choice(STATUSES)
    located = rng.random() < 0.2
    return {
        "number": f"B{i:09d}", "code": "ABCDEFGH", "status": status, "channel": rng.choice(CHANNELS),
        "text": f"第{i}件反映", "topic": rng.choice(TOPICS), "agency_id": rng.choice(agencies),
        "district_id": rng.choice(districts) if rng.random() < 0.9 else None,
        "latitude": 30 + rng.random() / 2 if located else None,
        "longitude": 120 + rng.random() / 2 if located else None,
        "accept_by": created + timedelta(days=1), "answer_by": created + timedelta(days=rng.randrange(3, 20)),
        "created_at": created, "updated_at": created, "version": 1,
    }


def best(repeat: int, work) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    now = datetime(2026, 11, 20, 15, 0)
    with tempfile.TemporaryDirectory() as folder:
        url = fresh_database(folder)
        upgrade(url)
        database = Database(url)
        fill(database, args.tickets, now)
        print(f"{args.tickets} tickets on {url.split(':', 1)[0]}")
        with database.Session() as session:
            for days in stats.PERIODS:
                seconds = best(args.repeat, lambda: stats.dashboard(session, now, days))
                print(f"dashboard, last {days:>2} days: {seconds * 1000:7.1f} ms")
            one = stats.Scope(agency_id=1)
            seconds = best(args.repeat, lambda: stats.dashboard(session, now, 90, one))
            print(f"dashboard, one agency, 90 days: {seconds * 1000:7.1f} ms")
            chosen = TicketFilter(topic="交通运输", channel="wechat")
            seconds = best(args.repeat, lambda: (count_tickets(session, chosen), find_tickets(session, chosen)))
            print(f"ticket list, filtered page:  {seconds * 1000:7.1f} ms")
        database.dispose()


if __name__ == "__main__":
    main()
