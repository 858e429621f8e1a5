"""bench/matters_scale.py's scale part, the timings: the duplicate search
(and its EXPLAIN on PostgreSQL), the hot issues, the planted duplicates, and
the duplicate search again with candidate indexes. What each figure means:
matters_scale.py's docstring (its --help).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

import numpy as np
from _matters_common import THRESHOLDS
from million_tickets import captured
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from admin.matters import DUPLICATE_WINDOW, HOT_POOL, HOT_WINDOW, _last_groups, hot_issues, possible_duplicates
from classifier.similar import SIMILAR, hot_groups_of
from routing.dispatch.matters import fingerprints_of, open_fingerprints_since, similar_open
from routing.dispatch.rules import OPEN
from routing.store.db import Database
from routing.store.tickets import Ticket

# Indexes that may serve similar_open better, tried with --candidate-indexes:
# its postings of a term in one place of the index, not one heap page each;
# a district's open tickets without reading every ticket.
CANDIDATE_INDEXES = (
    # Halved the search again (the ticket filter read from the index, not
    # every ticket), but every ticket's INSERT and UPDATE maintains it: WeChat
    # at 500 a second was then processed at 424 a second instead of 499.
    "CREATE INDEX bench_ticket_district_id_status ON ticket (district_id, status, id)",
)


def milliseconds(seconds: Sequence[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {
        "p50": round(float(np.percentile(ms, 50)), 2), "p95": round(float(np.percentile(ms, 95)), 2),
        "p99": round(float(np.percentile(ms, 99)), 2), "max": round(float(ms.max()), 2), "runs": len(ms),
    }


def timed(work: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def duplicate_search(session: Session, run_ids: list[int], now: datetime) -> dict:
    full, alone, suggested, best = [], [], [], []
    since = now - DUPLICATE_WINDOW
    for tid in run_ids:
        ticket = session.get(Ticket, tid)
        seconds, found = timed(lambda: possible_duplicates(session, ticket, now))
        full.append(seconds)
        suggested.append(len(found))
        best.append(found[0][1] if found else 0.0)
        mine = fingerprints_of(session, [tid])[tid]
        seconds, _ = timed(
            lambda: similar_open(session, mine, since, district_id=ticket.district_id, exclude=tid)
        )
        alone.append(seconds)
        session.expunge_all()
    return {
        "possible_duplicates_ms": milliseconds(full),
        "similar_open_ms": milliseconds(alone),
        "suggested": {"median": statistics.median(suggested), "max": max(suggested)},
        # The new tickets' messages have no near-duplicate among the year's:
        # how many would still show a suggestion, were the threshold this.
        "tickets_with_a_suggestion_at": {
            str(t): sum(1 for b in best if b >= t) for t in THRESHOLDS if t >= SIMILAR
        },
    }


def explain(session: Session, run_ids: list[int], now: datetime) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of similar_open for these tickets: PostgreSQL only."""
    if session.get_bind().dialect.name != "postgresql":
        return {"skipped": "EXPLAIN summary on PostgreSQL only"}
    since, found = now - DUPLICATE_WINDOW, []
    for tid in run_ids:
        ticket = session.get(Ticket, tid)
        mine = fingerprints_of(session, [tid])[tid]
        with captured(session) as statements:
            similar_open(session, mine, since, district_id=ticket.district_id, exclude=tid)
        statement, parameters = statements[-1]
        plan = session.connection().exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
        ).scalar()[0]
        found.append(plan_summary(plan))
    slowest = max(found, key=lambda p: p["execution_ms"])
    return {
        "runs": len(found),
        "execution_ms": {"p50": round(statistics.median(p["execution_ms"] for p in found), 2),
                         "max": slowest["execution_ms"]},
        "postings_read": {"p50": statistics.median(p["postings_read"] for p in found),
                          "max": max(p["postings_read"] for p in found)},
        "ticket_rows_read": {"p50": statistics.median(p["ticket_rows_read"] for p in found),
                             "max": max(p["ticket_rows_read"] for p in found)},
        "shared_blocks_read": {"p50": statistics.median(p["shared_read"] for p in found),
                                         "max": max(p["shared_read"] for p in found)},
        "slowest": slowest,
    }


def plan_summary(plan: dict) -> dict:
    nodes = list(_nodes(plan["Plan"]))

    def rows_on(table: str) -> int:
        return round(sum(
            (n.get("Actual Rows", 0) + n.get("Rows Removed by Filter", 0)) * n.get("Actual Loops", 1)
            for n in nodes if n.get("Relation Name") == table
        ))

    top = plan["Plan"]
    return {
        "execution_ms": round(plan["Execution Time"], 2),
        "planning_ms": round(plan["Planning Time"], 2),
        "nodes": [
            f"{n['Node Type']}" + (f" on {n['Relation Name']}" if "Relation Name" in n else "")
            + (f" using {n['Index Name']}" if "Index Name" in n else "")
            + f" (rows {n.get('Actual Rows')} × loops {n.get('Actual Loops')};"
            + f" buffers hit {n.get('Shared Hit Blocks', 0)} read {n.get('Shared Read Blocks', 0)})"
            for n in nodes
        ],
        "postings_read": rows_on("matter_term"),
        "ticket_rows_read": rows_on("ticket"),
        "shared_hit": top.get("Shared Hit Blocks", 0),
        "shared_read": top.get("Shared Read Blocks", 0),
    }


def _nodes(node: dict) -> Iterator[dict]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def hot(session: Session, now: datetime, runs: int) -> dict:
    since = now - HOT_WINDOW
    window = session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.status.in_(OPEN), Ticket.created_at >= since)
    )
    seconds, unchanged, reading, grouping, groups = [], [], [], [], []
    for _ in range(runs):
        _last_groups.clear()  # as when a ticket arrived or changed since the last look
        took, groups = timed(lambda: hot_issues(session, now))
        seconds.append(took)
        session.expunge_all()
        # Again with nothing changed: the grouping is kept, the tickets read.
        unchanged.append(timed(lambda: hot_issues(session, now))[0])
        session.expunge_all()
        # Where the time goes: the window's fingerprints read, then grouped.
        took, prints = timed(lambda: open_fingerprints_since(session, since, limit=HOT_POOL))
        reading.append(took)
        grouping.append(timed(lambda: hot_groups_of(list(prints.values())))[0])

    def median_ms(values: list[float]) -> float:
        return round(statistics.median(values) * 1000, 1)

    return {
        "ms": {"p50": median_ms(seconds), "max": round(max(seconds) * 1000, 1), "runs": runs},
        "unchanged_ms": {"p50": median_ms(unchanged), "max": round(max(unchanged) * 1000, 1)},
        "reading_fingerprints_ms_p50": median_ms(reading),
        "grouping_ms_p50": median_ms(grouping),
        "open_tickets_in_window": window,
        "groups": len(groups),
        "largest": max((len(g.tickets) for g in groups), default=0),
        "tickets_in_groups": sum(len(g.tickets) for g in groups),
    }


def retold(message: str, rng: random.Random, drop: int) -> str:
    """The message with ``drop`` characters removed at random places."""
    gone = set(rng.sample(range(len(message)), min(drop, len(message) - 1)))
    return "".join(c for i, c in enumerate(message) if i not in gone)


def planted(session: Session, plants: list[tuple[int, str, int]], now: datetime, seed: int) -> dict:
    """``plants``: (ticket id, text, district id) of the planted tickets."""
    rng = random.Random(seed)
    variants = {
        "dropped_5_chars": lambda t: retold(t, rng, 5),
        "dropped_20_percent": lambda t: retold(t, rng, len(t) // 5),
    }
    report = {}
    for name, make in variants.items():
        ranks, scores, missed = [], [], []
        for tid, body, district in plants:
            newcomer = Ticket(text=make(body), district_id=district)  # never added to the session
            found = [(t.id, score) for t, score in possible_duplicates(session, newcomer, now)]
            ids = [i for i, _ in found]
            if tid in ids:
                ranks.append(ids.index(tid) + 1)
                scores.append(found[ids.index(tid)][1])
            else:
                missed.append(tid)
            session.expunge_all()
        report[name] = {
            "found": len(ranks), "of": len(plants), "first": sum(1 for r in ranks if r == 1),
            "worst_rank": max(ranks, default=None),
            "lowest_score": round(min(scores), 3) if scores else None, "missed_ticket_ids": missed,
        }
    return report


def with_candidate_indexes(database: Database, run_ids: list[int], now: datetime) -> dict:
    """The duplicate search again with ``CANDIDATE_INDEXES`` (created, then
    dropped: the project's schema is its migrations')."""
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for statement in CANDIDATE_INDEXES:
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql("VACUUM ANALYZE matter_term")
        connection.exec_driver_sql("VACUUM ANALYZE ticket")
    try:
        with database.Session() as session:
            found = duplicate_search(session, run_ids, now)
            found["explain_similar_open"] = explain(session, run_ids[:20], now)
    finally:
        with database.engine.begin() as connection:
            for statement in CANDIDATE_INDEXES:
                connection.exec_driver_sql(f"DROP INDEX IF EXISTS {statement.split()[2]}")
    return {"indexes": list(CANDIDATE_INDEXES), **found}


def postgresql_settings(session: Session) -> dict:
    return {
        name: session.scalar(text(f"SHOW {name}"))
        for name in ("server_version", "shared_buffers", "work_mem", "max_parallel_workers_per_gather")
    }
