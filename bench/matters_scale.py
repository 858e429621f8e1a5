"""Duplicates (重复件) and hot issues (热点): how well the fingerprints separate
one matter from another on real messages, and how fast the duplicate search
and the hot issues run over a year of open tickets.

    python3 bench/matters_scale.py --part quality
    DATABASE_URL=postgresql://user@host/bench_db python3 bench/matters_scale.py --part scale --tickets 200000
    python3 bench/matters_scale.py                 # both; scale on a new SQLite file if DATABASE_URL is unset

Prints one JSON object and writes bench/results/matters_scale.json. The
database DATABASE_URL names is emptied first (its public schema is dropped):
point it at a database for this benchmark only.

**quality** (no database) reads the shared government messages
(../shared/data/gov-messages-7class/data.csv beside the checkout; never copied
into the project) and groups their near-duplicates as bench/classifier_cv.py
does (resubmitted messages: character n-gram cosine ≥ 0.8).

- ``pairs``: positives are pairs of different texts in one near-duplicate
  group; negatives are random pairs (seeded) of messages of one label from
  different groups — same topic, different matter: the hard case.
- ``whole_text`` / ``fingerprint``: the cosine of the two texts' ``vectors``,
  and of their stored fingerprints (``fingerprint_matrix`` rows). Quantiles of
  the positives (p1 = 1 % of resubmissions score under it) and of the
  negatives (p999 = 1 in 1,000 different matters scores over it); then, at
  each threshold, recall (share of positives at or over it) and the false
  positive rate (share of negatives at or over it).
- ``hot_groups``: ``hot_groups_of`` (star groups, at least 3 members) over
  all 9,210 fingerprints at once — years of a province, far denser than a
  fortnight of a city. ``groups``, ``largest``, ``tickets`` in groups, and
  ``purity``: the share of members with the centre's (group[0]'s) label, the
  centre counted (``purity_without_centre``: not counted). ``components``:
  connected components (at least 3 members)
  of the same thresholded graph, purity as the share of the component's most
  common label — how far linking close pairs chains unrelated matters.
- ``fingerprint_cost``: µs per text of ``fingerprints`` in batches of 64 (the
  classify job) and one text at a time (a ticket on the desk).

**scale** migrates the database, loads the demo's districts and agencies (as
bench/million_tickets.py does), then ``--tickets`` OPEN tickets (待分拣, 已派单,
已签收, 待补充) created evenly over the last 365 days, in districts taken in
turn, with the real messages as texts: shuffled once (seeded), then taken in
turn, so a fortnight holds no message twice. Each copy gets a house number
(``12幢3单元``) appended, so no two tickets have the same text; the number
changes under one of a fingerprint's 32 terms on average. Messages of the
held-out near-duplicate groups (below) are never used as background.
Fingerprints (``classifier.similar.fingerprints``, 500 a batch as the
backfill) and tickets go in with COPY, indexes are built afterwards, then
VACUUM ANALYZE (million_tickets.copy_with_children; plain INSERTs on
SQLite). ``load.fingerprint_rate``: tickets fingerprinted a second, that
work alone (one process); ``load.rate``: the whole load, tickets a second.

- ``possible_duplicates``: ``admin.matters.possible_duplicates`` for
  ``--runs`` new tickets, stored and indexed as intake would (texts from
  held-out messages, created now): the stored fingerprint read, the index
  query, the candidates' texts scored again. ms p50/p95/p99/max;
  ``suggested``: how many it suggested a ticket. The new tickets' messages
  have no near-duplicate among the year's (their groups were held out), so
  ``tickets_with_a_suggestion_at``, how many of them would show a suggestion
  were SIMILAR this, counts suggestions of a different matter — or of the
  same matter told by another resident, which the near-duplicate groups
  (≥ 0.8 on characters) do not catch.
- ``similar_open``: the index query alone, for the same tickets.
- ``explain_similar_open``: EXPLAIN (ANALYZE, BUFFERS) of similar_open for
  the first 20 runs: PostgreSQL's own ms, rows read from matter_term
  (postings) and from ticket (those a filter removed included), shared
  buffers read from outside PostgreSQL's cache (8 kB pages), and the
  slowest plan's nodes with their rows and buffers.
- ``hot_issues``: ``admin.matters.hot_issues`` over the last 14 days,
  ``--hot-runs`` times: ms p50/max with the last grouping forgotten (as
  after any change to the window's open tickets), ``unchanged_ms`` when
  nothing changed since the last look, open tickets in the window, groups;
  where the time goes: the window's fingerprints read
  (``open_fingerprints_since``) and grouped (``hot_groups_of``), p50 ms.
- ``with_candidate_indexes`` (``--candidate-indexes``, PostgreSQL): the
  duplicate search and its EXPLAIN again with ``CANDIDATE_INDEXES`` built,
  then dropped — an index tried and not kept (see its comment); the term
  index with the ticket and weight included, tried the same way, is in
  migration 0011.
- ``postgresql``: the server's version and the settings the plans depend on.
- ``planted``: ``--plants`` held-out messages stored as open tickets raised
  200 days ago, each in a district; a retelling of each (``dropped_5_chars``:
  five characters dropped at random; ``dropped_20_percent``: a fifth of them)
  filed in the same district is checked with possible_duplicates (not stored):
  found or not, its rank and score.

``load_average`` (1, 5, 15 minutes) is read before and after each part: the
machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _database import fresh_database  # noqa: E402
from _matters_common import load_average  # noqa: E402
from _matters_quality import quality  # noqa: E402
from _matters_tickets import TERM_COLUMNS, TICKET_COLUMNS, Tickets, background, insert_rows, split_messages  # noqa: E402
from _matters_timings import (  # noqa: E402
    duplicate_search,
    explain,
    hot,
    planted,
    postgresql_settings,
    with_candidate_indexes,
)
from classifier_cv import DEFAULT_DATA  # noqa: E402
from million_tickets import copy_with_children, progress, reference_data  # noqa: E402

from classifier.similar import HOT, SIMILAR  # noqa: E402
from routing.clock import now as city_now  # noqa: E402
from routing.store.areas import District
from routing.store.db import Database
from routing.store.migrate import upgrade
from routing.store.tickets import MatterTerm, Ticket

RESULTS = ROOT / "bench" / "results" / "matters_scale.json"
PLANTED_AGO = timedelta(days=200)


def scale(
    data: Path, count: int, runs: int, plant_count: int, hot_runs: int, seed: int, candidate_indexes: bool
) -> dict:
    result: dict = {"load_average_before": load_average()}
    url = fresh_database(tempfile.mkdtemp(prefix="matters-"))
    result["database"] = url.split(":", 1)[0]
    upgrade(url)
    database = Database(url)
    agencies = [a for a, _ in reference_data(database)]
    with database.Session() as session:
        districts = list(session.scalars(select(District.id).order_by(District.id)))
    texts, held = split_messages(data, runs + plant_count, seed)
    run_texts, plant_texts = held[:runs], held[runs:]
    now = city_now()
    result["now"] = now.isoformat()

    bodies, created, places = background(count, texts, now, districts, seed)
    # The planted tickets, 200 days old; then the new tickets timed, raised a minute ago.
    plant_districts = [districts[i % len(districts)] for i in range(plant_count)]
    bodies += plant_texts + run_texts
    created += [now - PLANTED_AGO] * plant_count + [now - timedelta(minutes=1)] * runs
    places += plant_districts + [districts[(i * 7) % len(districts)] for i in range(runs)]
    rows = Tickets(agencies, seed)
    started = time.perf_counter()
    progress(f"scale: loading {len(bodies):,} tickets")
    if url.startswith("postgresql"):
        loaded, _, _ = copy_with_children(
            url, ("ticket", TICKET_COLUMNS), ("matter_term", TERM_COLUMNS), rows.rows(bodies, created, places), 50_000
        )
    else:
        loaded = insert_rows(database, rows.rows(bodies, created, places))
    took = time.perf_counter() - started
    result["load"] = {
        "tickets": loaded, "background": count, "distinct_messages": len(texts), "districts": len(districts),
        "seconds": round(took, 1), "rate": round(loaded / took),
        "fingerprint_seconds": round(rows.fingerprint_seconds, 1),
        "fingerprint_rate": round(loaded / rows.fingerprint_seconds),
    }
    plant_ids = list(range(count + 1, count + plant_count + 1))
    run_ids = list(range(count + plant_count + 1, count + plant_count + runs + 1))
    with database.Session() as session:
        result["rows"] = {
            "tickets": session.scalar(select(func.count()).select_from(Ticket)),
            "matter_terms": session.scalar(select(func.count()).select_from(MatterTerm)),
        }
        if url.startswith("postgresql"):
            result["rows"]["matter_term_mb"] = round(session.scalar(
                text("SELECT pg_total_relation_size('matter_term')")) / 2**20)
            result["postgresql"] = postgresql_settings(session)
        progress("scale: timing the duplicate search")
        result["duplicates"] = duplicate_search(session, run_ids, now)
        result["explain_similar_open"] = explain(session, run_ids[:20], now)
        progress("scale: hot issues")
        result["hot_issues"] = hot(session, now, hot_runs)
        progress("scale: planted duplicates")
        result["planted"] = planted(session, list(zip(plant_ids, plant_texts, plant_districts)), now, seed)
    if candidate_indexes and url.startswith("postgresql"):
        progress("scale: the duplicate search with the candidate indexes")
        result["with_candidate_indexes"] = with_candidate_indexes(database, run_ids, now)
    database.dispose()
    result["load_average_after"] = load_average()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("quality", "scale", "all"), default="all")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--plants", type=int, default=50)
    parser.add_argument("--hot-runs", type=int, default=10)
    parser.add_argument("--negatives", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--candidate-indexes", action="store_true",
                        help="time the duplicate search again with CANDIDATE_INDEXES (PostgreSQL)")
    args = parser.parse_args()
    result: dict = {
        "machine": f"{os.cpu_count()} cores, shared with other work",
        "thresholds": {"SIMILAR": SIMILAR, "HOT": HOT},
    }
    if args.part in ("quality", "all"):
        result["quality"] = quality(args.data, args.negatives, args.seed)
    if args.part in ("scale", "all"):
        result["scale"] = scale(
            args.data, args.tickets, args.runs, args.plants, args.hot_runs, args.seed, args.candidate_indexes
        )
    out = json.dumps(result, ensure_ascii=False, indent=1, default=str)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(out + "\n", encoding="utf-8")
    print(out)


if __name__ == "__main__":
    main()
