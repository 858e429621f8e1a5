"""Open311 GeoReport v2 ``GET requests`` over a city's tickets, timed: p50 and p99.

    DATABASE_URL=postgresql://user@host/bench_db python bench/open311_requests.py --reset [--tickets 200000]

Fills the PostgreSQL database DATABASE_URL names (its public schema dropped
and made again with ``--reset``) with the million-ticket generator's city
(bench/million_tickets.py: the demo's agencies, ``--tickets`` tickets spread
over two years up to now with their events, loaded with COPY), gives each
ticket a topic of the classifier's taxonomy (so ``service_code`` filters
something), then asks the application — its own Flask app, in process, no
network — the questions a civic app asks, ``--runs`` times each: the last 90
days (the default), open requests, one service, a month, a later page, ten
requests by id, and one request. Prints one JSON object: milliseconds at
p50 / p99 / max and the size of each answer.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from million_tickets import load, psycopg_url, reference_data

from admin import create_app
from classifier import shipped_corpus
from collector.open311_services import Catalogue
from routing.clock import now as city_now
from routing.flow.deadlines import load_calendar
from routing.store.db import Database
from routing.store.migrate import upgrade


def give_topics(url: str, catalogue: Catalogue) -> None:
    """Each ticket a service of the catalogue, by its id: the generator leaves topics empty."""
    services = [s for s in catalogue.services if s.topic]
    with psycopg.connect(psycopg_url(url)) as conn:
        conn.execute("CREATE TEMP TABLE service_of (k int PRIMARY KEY, topic text, subtopic text)")
        with conn.cursor().copy("COPY service_of (k, topic, subtopic) FROM STDIN") as copy:
            for k, service in enumerate(services):
                copy.write_row((k, service.topic, service.subtopic))
        conn.execute(
            "UPDATE ticket SET topic = s.topic, subtopic = s.subtopic FROM service_of s"
            " WHERE s.k = ticket.id %% %s", (len(services),)
        )
        conn.commit()
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE ticket")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--reset", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("DATABASE_URL must name a PostgreSQL database for this benchmark")
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    if args.reset:
        with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
    upgrade(url)
    database = Database(url)
    now = city_now()
    result: dict = {"now": now.isoformat(), "machine": f"{os.cpu_count()} cores, shared with other work"}
    agencies = reference_data(database)
    with database.Session() as session:
        calendar = load_calendar(session)
        have = session.execute(text("SELECT count(*) FROM ticket")).scalar()
    catalogue = Catalogue.of(sorted(set(shipped_corpus().labels)))
    if have == 0:
        result["load"] = load(url, args.tickets, now, agencies, calendar)
        give_topics(url, catalogue)
    database.dispose()

    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "JOBS_IN_PROCESS": False, "RATELIMIT_API": "1000000 per minute",
                      "MODEL_DIR": str(Path(os.environ.get("TMPDIR", "/tmp")) / "open311-bench-models")})
    client = app.test_client()
    with app.app_context(), app.extensions["tingjian"].db.Session() as session:
        numbers = [n for (n,) in session.execute(text("SELECT number FROM ticket ORDER BY id DESC LIMIT 10"))]
        result["tickets"] = session.execute(text("SELECT count(*) FROM ticket")).scalar()
        result["tickets_last_90_days"] = session.execute(
            text("SELECT count(*) FROM ticket WHERE created_at >= :since"), {"since": now - timedelta(days=90)}
        ).scalar()
    service = next(s for s in catalogue.services if s.topic).code
    month_end = now - timedelta(days=30)
    questions = {
        "last_90_days": "/open311/v2/requests.json",
        "open": "/open311/v2/requests.json?status=open",
        "one_service": f"/open311/v2/requests.json?service_code={service}",
        "one_month": "/open311/v2/requests.json?" + urlencode({
            "start_date": f"{(month_end - timedelta(days=30)):%Y-%m-%dT%H:%M:%S}+08:00",
            "end_date": f"{month_end:%Y-%m-%dT%H:%M:%S}+08:00",
        }),
        "page_5_of_100": "/open311/v2/requests.json?page=5&page_size=100",
        "ten_by_id": f"/open311/v2/requests.json?service_request_id={','.join(numbers)}",
        "one_request": f"/open311/v2/requests/{numbers[0]}.json",
    }
    timings = {}
    for name, path in questions.items():
        seconds, size = [], 0
        for _ in range(args.runs):
            started = time.perf_counter()
            response = client.get(path)
            seconds.append(time.perf_counter() - started)
            assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:200])
            size = len(response.get_json())
        timings[name] = {
            "p50_ms": round(statistics.median(seconds) * 1000, 1), "p99_ms": round(percentile(seconds, 0.99) * 1000, 1),
            "max_ms": round(max(seconds) * 1000, 1), "requests_in_answer": size,
        }
    result["get_requests"] = timings
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
