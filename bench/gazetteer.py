"""What the city's gazetteer costs a process: rebuilding the place detector
after a change on the console, the check of the shared version, and finding
a place with the shipped file against the merged one.

    [DATABASE_URL=postgresql://user@host/bench_db] python bench/gazetteer.py [--aliases 2000] [--runs 200]

Loads the demo's districts and streets into an empty database (the
PostgreSQL one DATABASE_URL names, its public schema dropped, or a new
SQLite file), gives them ``--aliases`` aliases through ``save_street``,
one save per street, as the console does, then times, ``--runs`` times each:
building the merged gazetteer (``CityGazetteer`` after its version moved),
one version check that finds nothing new, and ``find`` on a resident's text.
Prints one JSON object: milliseconds at p50 / p99.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _database import fresh_database

from admin.demo import Report, load_places
from classifier.place import Gazetteer
from collector.places import CityGazetteer
from routing.clock import now
from routing.store import gazetteer
from routing.store.db import Database
from routing.store.migrate import upgrade

TEXT = "我家住在转塘那边，龙坞茶村旁边的路灯坏了好几天，晚上走路很危险，请尽快修一下。"


def ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
    }


def timed(step, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aliases", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = fresh_database(folder)
        upgrade(url)
        db = Database(url)
        shipped = Gazetteer.load()
        with db.Session() as session:
            load_places(session, shipped, Report())
            streets = [s for d in gazetteer.districts(session) for s in d.streets]
            for k, street in enumerate(streets):
                aliases = [f"别名地点{i:05d}号" for i in range(k, args.aliases, len(streets))]
                gazetteer.save_street(session, street.district, street.name, aliases, street=street, now=now())
            session.commit()
        city = CityGazetteer(db, shipped, check_seconds=0)

        def rebuild() -> None:
            city._version = None  # as after a change on the console
            city()

        merged = city()
        figures = {
            "database": url.split(":", 1)[0],
            "aliases": args.aliases,
            "rebuild": ms(timed(rebuild, max(args.runs // 10, 5))),
            "version_check": ms(timed(city, args.runs)),
            "find_shipped": ms(timed(lambda: shipped.find(TEXT), args.runs)),
            "find_merged": ms(timed(lambda: merged.find(TEXT), args.runs)),
        }
        db.dispose()
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
