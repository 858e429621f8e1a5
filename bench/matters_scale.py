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
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _database import fresh_database  # noqa: E402
from classifier_cv import DEFAULT_DATA, load, near_duplicate_groups  # noqa: E402
from million_tickets import captured, copy_with_children, progress, reference_data  # noqa: E402

from admin.matters import (  # noqa: E402
    DUPLICATE_WINDOW,
    HOT_POOL,
    HOT_WINDOW,
    _last_groups,
    hot_issues,
    possible_duplicates,
)
from classifier.similar import HOT, SIMILAR, fingerprint_matrix, fingerprints, hot_groups_of, vectors  # noqa: E402
from classifier.text import normalise  # noqa: E402
from routing.clock import now as city_now  # noqa: E402
from routing.dispatch.matters import fingerprints_of, open_fingerprints_since, similar_open
from routing.dispatch.rules import OPEN
from routing.store.areas import District
from routing.store.db import Database
from routing.store.migrate import upgrade
from routing.store.tickets import MatterTerm, Ticket

RESULTS = ROOT / "bench" / "results" / "matters_scale.json"
THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35)
HOT_THRESHOLDS = (0.25, 0.3, 0.35)
TICKET_COLUMNS = (
    "id", "number", "code", "status", "kind", "urgency", "channel", "text", "district_id", "agency_id",
    "assigned_at", "accept_by", "answer_by", "accepted_at", "paused_at", "created_at", "updated_at", "version",
)
TERM_COLUMNS = ("ticket_id", "term", "weight", "raised_at")
# Open tickets of a year: most with an agency, a few still with the dispatcher.
STATUSES = (("triage", 0.05), ("assigned", 0.3), ("accepted", 0.6), ("waiting", 0.05))
FINGERPRINT_BATCH = 500
PLANTED_AGO = timedelta(days=200)
# Indexes that may serve similar_open better, tried with --candidate-indexes:
# its postings of a term in one place of the index, not one heap page each;
# a district's open tickets without reading every ticket.
CANDIDATE_INDEXES = (
    # Halved the search again (the ticket filter read from the index, not
    # every ticket), but every ticket's INSERT and UPDATE maintains it: WeChat
    # at 500 a second was then processed at 424 a second instead of 499.
    "CREATE INDEX bench_ticket_district_id_status ON ticket (district_id, status, id)",
)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def quantiles(values: Sequence[float], qs: Sequence[float]) -> dict[str, float]:
    """{"p1": …, "p999": …}: the name is the percentage without its point."""
    found = np.quantile(np.asarray(values), qs)
    return {f"p{q * 100:g}".replace(".", ""): round(float(v), 4) for q, v in zip(qs, found, strict=True)}


def milliseconds(seconds: Sequence[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {
        "p50": round(float(np.percentile(ms, 50)), 2), "p95": round(float(np.percentile(ms, 95)), 2),
        "p99": round(float(np.percentile(ms, 99)), 2), "max": round(float(ms.max()), 2), "runs": len(ms),
    }


# -- quality -------------------------------------------------------------------


def same_matter_pairs(texts: list[str], groups: np.ndarray) -> np.ndarray:
    """Pairs of different texts (after normalisation) in one near-duplicate group."""
    members: dict[int, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(int(g), []).append(i)
    pairs = [
        (a, b)
        for group in members.values() if len(group) > 1
        for n, a in enumerate(group) for b in group[n + 1:]
        if normalise(texts[a]) != normalise(texts[b])
    ]
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def same_topic_pairs(labels: np.ndarray, groups: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Distinct random pairs of messages with one label from different groups."""
    by_label = {label: np.flatnonzero(labels == label) for label in np.unique(labels)}
    seen: set[tuple[int, int]] = set()
    while len(seen) < count:
        a = int(rng.integers(len(labels)))
        b = int(rng.choice(by_label[labels[a]]))
        if groups[a] != groups[b]:
            seen.add((min(a, b), max(a, b)))
    return np.array(sorted(seen), dtype=np.int64)


def pair_scores(matrix: sp.csr_matrix, pairs: np.ndarray) -> np.ndarray:
    """Each pair's dot product (rows of unit length: their cosine)."""
    return np.asarray(matrix[pairs[:, 0]].multiply(matrix[pairs[:, 1]]).sum(axis=1)).ravel()


def separation(positives: np.ndarray, negatives: np.ndarray) -> dict:
    return {
        "positives": quantiles(positives, (0.01, 0.05, 0.5)),
        "negatives": quantiles(negatives, (0.5, 0.99, 0.999)),
        "at": {
            str(t): {
                "recall": round(float((positives >= t).mean()), 4),
                "false_positive_rate": round(float((negatives >= t).mean()), 5),
            }
            for t in THRESHOLDS
        },
    }


def star_groups(prints: list, labels: np.ndarray, threshold: float) -> dict:
    groups = hot_groups_of(prints, threshold=threshold)
    others = [labels[m] == labels[g[0]] for g in groups for m in g[1:]]
    tickets = sum(len(g) for g in groups)
    return {
        "groups": len(groups),
        "largest": max((len(g) for g in groups), default=0),
        "tickets": tickets,
        "purity": round((sum(others) + len(groups)) / tickets, 3) if groups else None,
        "purity_without_centre": round(float(np.mean(others)), 3) if others else None,
    }


def chained_components(matrix: sp.csr_matrix, labels: np.ndarray, threshold: float) -> dict:
    close = (matrix @ matrix.T).tocsr()
    close.data[close.data < threshold] = 0
    close.eliminate_zeros()
    _, component = connected_components(close, directed=False)
    sizes = np.bincount(component)
    kept = np.flatnonzero(sizes >= 3)
    agree = 0
    for c in kept:
        _, counts = np.unique(labels[component == c], return_counts=True)
        agree += counts.max()
    tickets = int(sizes[kept].sum())
    return {
        "groups": len(kept),
        "largest": int(sizes.max()),
        "tickets": tickets,
        "purity": round(agree / tickets, 3) if tickets else None,
    }


def fingerprint_cost(texts: list[str], count: int = 2000) -> dict:
    sample = texts[:count]
    fingerprints(sample[:64])  # the IDF and jieba's dictionary, read once
    started = time.perf_counter()
    for start in range(0, len(sample), 64):
        fingerprints(sample[start:start + 64])
    batched = time.perf_counter() - started
    started = time.perf_counter()
    for one in sample:
        fingerprints([one])
    single = time.perf_counter() - started
    return {
        "texts": len(sample),
        "us_per_text_batch_64": round(batched / len(sample) * 1e6),
        "us_per_text_one_at_a_time": round(single / len(sample) * 1e6),
    }


def quality(data: Path, negatives: int, seed: int) -> dict:
    started = time.perf_counter()
    result: dict = {"load_average_before": load_average()}
    texts, labels = load(data)
    groups = near_duplicate_groups(texts)
    positive_pairs = same_matter_pairs(texts, groups)
    negative_pairs = same_topic_pairs(labels, groups, negatives, np.random.default_rng(seed))
    result["messages"] = len(texts)
    result["pairs"] = {"positives": len(positive_pairs), "negatives": len(negative_pairs)}
    progress(f"quality: {len(positive_pairs)} positive, {len(negative_pairs)} negative pairs")

    whole = vectors(texts)
    prints = fingerprints(texts)
    matrix = fingerprint_matrix(prints)
    result["whole_text"] = separation(pair_scores(whole, positive_pairs), pair_scores(whole, negative_pairs))
    result["fingerprint"] = separation(pair_scores(matrix, positive_pairs), pair_scores(matrix, negative_pairs))
    result["hot_groups"] = {
        str(t): {"stars": star_groups(prints, labels, t), "components": chained_components(matrix, labels, t)}
        for t in HOT_THRESHOLDS
    }
    result["fingerprint_cost"] = fingerprint_cost(texts)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["load_average_after"] = load_average()
    return result


# -- scale: the data -----------------------------------------------------------


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


# -- scale: the timings --------------------------------------------------------


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
