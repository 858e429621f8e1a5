"""What the access log (个人信息访问日志) costs: on the ticket page and on the
export with residents' contact data. Prints p50 / p95 in milliseconds.

    python bench/access_log_cost.py [--tickets 10000] [--page-runs 400] [--export-runs 10]
    DATABASE_URL=postgresql://user@host/bench_db python bench/access_log_cost.py

Builds a fresh database (a new SQLite file, or the PostgreSQL database
DATABASE_URL names: its public schema is dropped first) with ``--tickets``
tickets, each with a resident's name, phone and address, and asks the
application in process (Flask's test client, no network) as an
administrator granted the contact export:

- the dispatcher's ticket page (``/desk/tickets/<number>``), which shows the
  contact unmasked and so writes one access-log entry and commits; the same
  page with the recording switched off (the entry not added, the commit
  still made), the two alternating over ``--page-runs`` requests on random
  tickets;
- the ticket list's export of 1,000 rows and of every ticket (10,000 by
  default): the plain export (no contact, no entry), the contact export
  (its entry with the filter and the count), and the contact export with the
  recording switched off, in CSV and XLSX, alternating over ``--export-runs``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _database import fresh_database, insert_in_batches  # noqa: E402

from admin import create_app
from routing.flow import disclosure
from routing.reports import contact_export
from routing.store.access_log import AccessEntry
from routing.store.areas import District
from routing.store.migrate import upgrade
from routing.store.people import Agency, Role, User
from routing.store.tickets import Status, Ticket

PASSWORD = "bench-access-log-2026"
SURNAMES = "王李张刘陈杨赵黄周吴"
TEXTS = (
    "小区物业擅自涨停车费，业主都不同意，请有关部门管一管。",
    "路灯坏了两个星期，晚上出门很不安全，希望尽快修好。",
    "工地夜里十二点以后还在打桩施工，噪音太大。",
    "建议增加一个公交站点，方便老人出行。",
)
SMALL = 1_000  # the smaller export: tickets whose text carries the batch mark
MARK = "（批次甲）"


def fill(app, tickets: int, now: datetime) -> list[str]:
    """Tickets with contact data; the first ``SMALL`` carry ``MARK`` in their text. Their numbers."""
    rng = random.Random(11)
    database = app.extensions["tingjian"].db
    with database.engine.begin() as connection:
        districts = [connection.execute(insert(District).values(name=n).returning(District.id)).scalar_one()
                     for n in ("西湖区", "上城区", "拱墅区", "滨江区")]
        agencies = [connection.execute(insert(Agency).values(name=f"承办单位{i}", active=True).returning(Agency.id))
                    .scalar_one() for i in range(12)]
        numbers = [f"2026{i:08d}" for i in range(tickets)]
        insert_in_batches(connection, Ticket, (_row(rng, number, i < SMALL, now, districts, agencies)
                                               for i, number in enumerate(numbers)))
    with database.Session() as session:
        admin = User(username="bench-admin", display_name="压测管理员", role=Role.ADMIN, may_export_contact=True)
        admin.set_password(PASSWORD)
        session.add(admin)
        session.commit()
    return numbers


def _row(rng: random.Random, number: str, marked: bool, now: datetime, districts: list[int], agencies: list[int]) -> dict:
    created = now - timedelta(minutes=rng.randrange(90 * 24 * 60))
    return {
        "number": number, "code": "ABCDEFGH", "status": Status.ASSIGNED, "channel": "web",
        "text": rng.choice(TEXTS) + (MARK if marked else ""),
        "contact_name": rng.choice(SURNAMES) + "先生", "contact_phone": f"139{rng.randrange(10**8):08d}",
        "location_text": f"西湖区文三路{rng.randrange(1, 500)}号{rng.randrange(1, 20)}幢",
        "agency_id": rng.choice(agencies), "district_id": rng.choice(districts), "topic": "城乡建设",
        "assigned_at": created, "accept_by": created + timedelta(days=1),
        "answer_by": created + timedelta(days=rng.randrange(3, 20)),
        "created_at": created, "updated_at": created, "version": 1,
    }


def timed(request: Callable[[], object]) -> float:
    start = time.perf_counter()
    response = request()
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, response.status_code
    return elapsed


def alternate(runs: int, cases: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    """Each case once a round, in turn, so a slower spell of the machine falls on all of them."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for case in cases.values():
        case()  # once untimed: the first answer of a kind pays for templates and caches
    for _ in range(runs):
        for name, case in cases.items():
            times[name].append(case())
    return times


def report(title: str, times: dict[str, list[float]]) -> None:
    print(title)
    for name, values in times.items():
        p50, p95 = statistics.median(values), statistics.quantiles(values, n=20)[-1]
        print(f"  {name:<34} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms   ({len(values)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--page-runs", type=int, default=400)
    parser.add_argument("--export-runs", type=int, default=10)
    args = parser.parse_args()
    now = datetime(2026, 12, 4, 10, 0)
    with tempfile.TemporaryDirectory() as folder:
        url = fresh_database(folder)
        upgrade(url)
        app = create_app({
            "DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True, "WTF_CSRF_ENABLED": False,
            "JOBS_IN_PROCESS": False, "TINGJIAN_ENV": "development", "MODEL_DIR": folder,
            "EXPORT_MAX_ROWS": args.tickets,
        })
        numbers = fill(app, args.tickets, now)
        client = app.test_client()
        login = client.post("/login", data={"username": "bench-admin", "password": PASSWORD})
        assert login.status_code == 302, login.status_code
        print(f"{args.tickets} tickets on {url.split(':', 1)[0].split('+')[0]}")
        rng = random.Random(5)

        def page() -> float:
            return timed(lambda: client.get(f"/desk/tickets/{rng.choice(numbers)}"))

        def page_unlogged() -> float:
            with mock.patch.object(disclosure, "record_access"):
                return page()

        report("ticket page (/desk/tickets/<number>, contact shown unmasked)", alternate(args.page_runs, {
            "with the access-log entry": page, "recording switched off": page_unlogged,
        }))

        for label, query in ((f"{SMALL:,} rows", f"?words={MARK}"), (f"{args.tickets:,} rows", "")):
            for fmt in ("csv", "xlsx"):
                def plain(fmt=fmt, query=query) -> float:
                    return timed(lambda: client.get(f"/tickets/export.{fmt}{query}"))

                def contacts(fmt=fmt, query=query) -> float:
                    return timed(lambda: client.get(f"/tickets/export-contacts.{fmt}{query}"))

                def contacts_unlogged() -> float:
                    with mock.patch.object(contact_export, "record_access"):
                        return contacts()

                report(f"export, {label}, {fmt.upper()}", alternate(args.export_runs, {
                    "plain (no contact data, no entry)": plain,
                    "with contact data and its entry": contacts,
                    "with contact data, recording off": contacts_unlogged,
                }))
        with app.extensions["tingjian"].db.Session() as session:
            entries = session.scalar(select(func.count(AccessEntry.id)))
        print(f"access-log entries written: {entries}")


if __name__ == "__main__":
    main()
