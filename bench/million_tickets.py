"""A million tickets over two years in PostgreSQL; then the sweep and the scorecards, timed.

    DATABASE_URL=postgresql://user@host/bench_db python bench/million_tickets.py --reset
    DATABASE_URL=… python bench/million_tickets.py            # time again, keep the data

Fills the database DATABASE_URL names (migrated first with routing.migrate):
the demo's agencies, districts and deadline policies, then ``--tickets``
tickets created evenly over the two years up to now, with a realistic mix —
most answered on time and closed, some accepted or answered late, returns
(退回) and transfers (转办), waits on the resident, unsatisfied ratings that
reopen, open tickets in the last weeks — and their key events (派单, 签收,
答复, 评价, 办结, 退回, 转办, 重新办理, 请群众补充 …), loaded with COPY.

Then it times, ``--runs`` times each: the sweep's work (closing unrated
answers, rolled back after each run; the overdue tickets with their agencies),
a scorecard of one agency for last month and for this quarter, and of every
agency for last month — with the indexes of migration 0004 and, for
comparison, with the indexes of 0002 (dropped and restored in a transaction
that is rolled back). Prints one JSON object: seconds (median, max, first),
row counts, and the indexes each query's plan used (EXPLAIN ANALYZE).

``--reset`` drops and recreates the database's public schema: point
DATABASE_URL at a database for this benchmark only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from itertools import accumulate
from pathlib import Path

import psycopg
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from admin.demo import Report, load_agencies, load_places, load_policies, load_users  # noqa: E402
from classifier.place import Gazetteer  # noqa: E402
from routing.clock import now as city_now  # noqa: E402
from routing.flow.calendar import WorkCalendar
from routing.flow.deadlines import DEFAULT_POLICIES, add_months, load_calendar
from routing.flow.sweep import close_unrated, make_sweep
from routing.reports.overdue import overdue_tickets
from routing.reports.scorecard import previous_month, quarter_of, scorecard
from routing.store.db import Database
from routing.store.migrate import upgrade
from routing.store.people import Agency
from routing.store.tickets import Kind, Ticket, TicketEvent, Urgency

TEXTS = (
    "小区物业擅自涨停车费，业主都不同意，请有关部门管一管。",
    "路灯坏了两个星期，晚上出门很不安全，希望尽快修好。",
    "工地夜里十二点以后还在打桩施工，噪音太大。",
    "建议增加一个公交站点，方便老人出行。",
    "公司拖欠工资三个月了，请劳动监察部门帮忙讨薪。",
    "孩子上小学，户口和租房不在一个区，应该在哪里报名？",
    "餐馆后厨卫生很差，请市场监管部门检查。",
    "社保断缴了三个月，想补缴，需要带什么材料？",
)
KINDS = (
    (Kind.COMPLAINT, 0.45), (Kind.CONSULTATION, 0.2), (Kind.HELP, 0.15),
    (Kind.SUGGESTION, 0.15), (Kind.DEPUTY_SUGGESTION, 0.05),
)
RATING_LABELS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}
TICKET_COLUMNS = (
    "id", "number", "code", "status", "kind", "urgency", "channel", "text", "agency_id", "assigned_at",
    "accept_by", "answer_by", "accepted_at", "answered_at", "answer", "closed_at", "rating", "rated_at",
    "paused_at", "created_at", "updated_at", "version",
)
EVENT_COLUMNS = ("ticket_id", "at", "actor", "action", "from_status", "to_status", "agency_id", "detail")
# The indexes before migration 0004, for the comparison.
BASELINE_INDEXES = (
    "CREATE INDEX ix_ticket_agency_id ON ticket (agency_id)",
    "CREATE INDEX ix_ticket_status ON ticket (status)",
)
NEW_INDEXES = (
    "ix_ticket_agency_id_assigned_at", "ix_ticket_status_answered_at",
    "ix_ticket_event_action_at_agency_id",
)


# -- the generator -------------------------------------------------------------


class Deadlines:
    """Deadlines as routing computes them, cached per day (they depend only on the day)."""

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self._days: dict[tuple, datetime] = {}

    def add(self, start: datetime, days: int) -> datetime:
        key = (start.date(), days)
        found = self._days.get(key)
        if found is None:
            found = self._days[key] = self.calendar.add_working_days(start, days)
        return found

    def for_kind(self, kind: Kind, urgent: bool, start: datetime) -> tuple[datetime, datetime]:
        if urgent:
            return start + timedelta(hours=1), start + timedelta(hours=2)
        terms = DEFAULT_POLICIES[(kind, Urgency.NORMAL)]
        if terms.answer_months:  # 代表建议: months on the calendar, as routing counts them
            answer_by = datetime.combine(add_months(start, terms.answer_months), start.time())
            return self.add(start, terms.accept_days), answer_by
        return self.add(start, terms.accept_days), self.add(start, terms.answer_days)


class Life:
    """One ticket's history up to ``now``: the row it ends as and its events."""

    def __init__(self, tid: int, created: datetime, now: datetime, kind: Kind, urgent: bool, deadlines: Deadlines):
        self.tid, self.now, self.kind, self.urgent, self.deadlines = tid, now, kind, urgent, deadlines
        self.row = {
            "status": "triage", "agency_id": None, "assigned_at": None, "accept_by": None, "answer_by": None,
            "accepted_at": None, "answered_at": None, "answer": None, "closed_at": None, "rating": None,
            "rated_at": None, "paused_at": None, "updated_at": created,
        }
        self.events: list[tuple] = []
        self.done = False  # the next step would be after now

    def step(self, at: datetime, action: str, to: str | None, actor: str = "系统", detail: str | None = None) -> bool:
        """Record the step if it happened by now; say whether it did."""
        if self.done or at > self.now:
            self.done = True
            return False
        before = self.row["status"]
        if to is not None:
            self.row["status"] = to
        self.row["updated_at"] = at
        self.events.append((self.tid, at, actor, action, before, self.row["status"], self.row["agency_id"], detail))
        return True

    def assign(self, at: datetime, agency: tuple[int, str], action: str = "assign", actor: str = "系统") -> bool:
        if not self.step(at, action, "assigned", actor, json.dumps({"agency": agency[1]}, ensure_ascii=False)):
            return False
        accept_by, answer_by = self.deadlines.for_kind(self.kind, self.urgent, at)
        self.row.update(agency_id=agency[0], assigned_at=at, accept_by=accept_by, answer_by=answer_by,
                        accepted_at=None, answered_at=None, paused_at=None)
        return True


def live(life: Life, rng: random.Random, agencies: list[tuple[int, str]], weights: list[float]) -> None:
    """``weights``: cumulative, for random.choices."""
    """The ticket's course; each step stops the story if it lies after now."""
    row, created = life.row, life.row["updated_at"]
    pick = lambda: rng.choices(agencies, cum_weights=weights)[0]  # noqa: E731
    if rng.random() < 0.01:
        life.step(created + timedelta(hours=rng.uniform(0.5, 24)), "invalidate", "invalid", "分拨员")
        return
    at = created if rng.random() < 0.85 else created + timedelta(hours=rng.uniform(0.5, 8))
    if not life.assign(at, pick()):
        return
    if rng.random() < 0.04:  # 退回 within the accept deadline, then the dispatcher assigns again
        at = row["assigned_at"] + (row["accept_by"] - row["assigned_at"]) * rng.uniform(0.1, 0.9)
        if not life.step(at, "return", "triage", "承办员", None):
            return
        row.update(agency_id=None, assigned_at=None, accept_by=None, answer_by=None)
        if not life.assign(at + timedelta(hours=rng.uniform(0.5, 6)), pick(), actor="分拨员"):
            return
    for round_ in range(2):
        if not handle(life, rng, pick):
            return
        if not rate_and_close(life, rng, reopen_allowed=round_ == 0):
            return


def handle(life: Life, rng: random.Random, pick: Callable[[], tuple[int, str]]) -> bool:
    """签收 … 答复, with a transfer or a wait on the resident now and then."""
    row = life.row
    window = row["accept_by"] - row["assigned_at"]
    on_time = rng.random() < 0.9
    at = row["assigned_at"] + window * rng.uniform(0.05, 1) if on_time else row["accept_by"] + timedelta(hours=rng.uniform(1, 72))
    if not life.step(at, "accept", "accepted", "承办员"):
        return False
    row["accepted_at"] = at
    if rng.random() < 0.02:  # 转办 by the dispatcher
        if not life.assign(at + timedelta(days=rng.uniform(0.5, 3)), pick(), action="reassign", actor="分拨员"):
            return False
        at = row["assigned_at"] + timedelta(hours=rng.uniform(0.5, 6))
        if not life.step(at, "accept", "accepted", "承办员"):
            return False
        row["accepted_at"] = at
    if rng.random() < 0.03:  # 请群众补充: the clock stops, the deadline moves on by the days it stood still
        paused = at + timedelta(days=rng.uniform(0.2, 2))
        if not life.step(paused, "ask_resident", "waiting", "承办员"):
            return False
        row["paused_at"] = paused
        resumed = paused + timedelta(days=rng.uniform(1, 6))
        if not life.step(resumed, "resume", "accepted"):
            return False
        row["answer_by"] += resumed - paused
        row["paused_at"] = None
        at = resumed
    span = max(row["answer_by"] - at, timedelta(hours=1))
    on_time = rng.random() < 0.88
    at = at + span * rng.uniform(0.05, 1) if on_time else row["answer_by"] + timedelta(hours=rng.uniform(1, 240))
    if not life.step(at, "answer", "answered", "承办员"):
        return False
    row["answered_at"], row["answer"] = at, "已办理。"
    return True


def rate_and_close(life: Life, rng: random.Random, *, reopen_allowed: bool) -> bool:
    """群众评价 or not; 办结; 不满意 reopens once (returns True to go round again)."""
    row = life.row
    if rng.random() < 0.65:
        at = row["answered_at"] + timedelta(hours=rng.uniform(1, 100))
        rating = rng.choices(("satisfied", "basically_satisfied", "unsatisfied"), (0.78, 0.14, 0.08))[0]
        if not reopen_allowed and rating == "unsatisfied":
            rating = "basically_satisfied"
        detail = json.dumps({"rating": rating, "label": RATING_LABELS[rating]}, ensure_ascii=False)
        if not life.step(at, "rate", None, detail=detail):
            return False
        if rating == "unsatisfied":
            return life.assign(at, (row["agency_id"], ""), action="reopen")
        row["rating"], row["rated_at"] = rating, at
    else:
        at = row["answered_at"] + timedelta(days=7)  # five working days, roughly
    if life.step(at, "close", "closed"):
        row["closed_at"] = at
    return False


def tickets(count: int, now: datetime, agencies: list[tuple[int, str]], calendar: WorkCalendar,
            seed: int = 7) -> Iterator[tuple[tuple, list[tuple]]]:
    rng = random.Random(seed)
    deadlines = Deadlines(calendar)
    # Some agencies get far more than others, as in any city.
    weights = list(accumulate(rng.paretovariate(1.5) for _ in agencies))
    kinds, kind_weights = zip(*KINDS)
    kind_weights = list(accumulate(kind_weights))
    span = timedelta(days=730).total_seconds()
    start = now - timedelta(days=730)
    for tid in range(1, count + 1):
        created = (start + timedelta(seconds=span * (tid - 0.5) / count)).replace(microsecond=0)
        kind = rng.choices(kinds, cum_weights=kind_weights)[0]
        urgent = rng.random() < 0.02
        life = Life(tid, created, now, kind, urgent, deadlines)
        live(life, rng, agencies, weights)
        r = life.row
        yield (
            tid, f"{created:%Y%m%d}{tid:07d}", f"{rng.getrandbits(40):010X}"[:8], r["status"], kind.value,
            "urgent" if urgent else "normal", "web", rng.choice(TEXTS), r["agency_id"], r["assigned_at"],
            r["accept_by"], r["answer_by"], r["accepted_at"], r["answered_at"], r["answer"], r["closed_at"],
            r["rating"], r["rated_at"], r["paused_at"], created, r["updated_at"], 1,
        ), life.events


# -- loading -------------------------------------------------------------------


def psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def reference_data(database: Database) -> list[tuple[int, str]]:
    with database.Session() as session:
        report = Report()
        load_places(session, Gazetteer.load(), report)
        load_agencies(session, report)
        load_policies(session, report)
        load_users(session, report)
        session.commit()
        return [(a.id, a.name) for a in session.scalars(select(Agency).order_by(Agency.id))]


def load(url: str, count: int, now: datetime, agencies: list[tuple[int, str]], calendar: WorkCalendar) -> dict:
    started = time.perf_counter()
    _, events, copied = copy_with_children(
        url, ("ticket", TICKET_COLUMNS), ("ticket_event", EVENT_COLUMNS), tickets(count, now, agencies, calendar)
    )
    return {"tickets": count, "events": events, "copy_seconds": round(copied, 1),
            "total_seconds": round(time.perf_counter() - started, 1)}


def copy_with_children(
    url: str, parent: tuple[str, Sequence[str]], child: tuple[str, Sequence[str]],
    rows: Iterable[tuple[tuple, list[tuple]]], every: int = 100_000,
) -> tuple[int, int, float]:
    """COPY each row of the parent table (a ticket) and its rows of the child
    table (its events), side by side on two connections so the children need
    not wait in memory; indexes are built afterwards, in one go each, then
    VACUUM ANALYZE. ``parent``, ``child``: (table, columns). Returns (parent
    rows, child rows, seconds until copied)."""
    started = time.perf_counter()
    (parent_table, parent_columns), (child_table, child_columns) = parent, child
    parents = children = 0
    with psycopg.connect(psycopg_url(url)) as conn, psycopg.connect(psycopg_url(url)) as child_conn:
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN (%s, %s)"
            " AND indexname NOT LIKE 'pk_%%' AND indexname NOT LIKE 'uq_%%'",
            (parent_table, child_table),
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
        conn.commit()
        for c in (conn, child_conn):
            # The generator's rows are consistent by construction: no per-row foreign-key checks.
            c.execute("SET session_replication_role = replica")
        with conn.cursor().copy(f"COPY {parent_table} ({', '.join(parent_columns)}) FROM STDIN") as parent_copy, \
                child_conn.cursor().copy(f"COPY {child_table} ({', '.join(child_columns)}) FROM STDIN") as child_copy:
            for parents, (row, child_rows) in enumerate(rows, 1):
                parent_copy.write_row(row)
                for child_row in child_rows:
                    child_copy.write_row(child_row)
                children += len(child_rows)
                if parents % every == 0:
                    progress(f"{parents:>9,} {parent_table} rows, {children:,} {child_table} rows"
                             f" ({time.perf_counter() - started:.0f} s)")
        conn.commit()
        child_conn.commit()
        for c in (conn, child_conn):
            c.execute("SET session_replication_role = origin")
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{parent_table}', 'id'), (SELECT max(id) FROM {parent_table}))"
        )
        copied = time.perf_counter() - started
        progress(f"copied in {copied:.0f} s; building indexes")
        for _, definition in indexes:
            conn.execute(definition)
        conn.commit()
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        conn.execute(f"VACUUM ANALYZE {parent_table}")
        conn.execute(f"VACUUM ANALYZE {child_table}")
    return parents, children, copied


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- timing --------------------------------------------------------------------


def timed(work: Callable[[], object], runs: int) -> dict:
    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - started)
    return {"median": round(statistics.median(seconds), 4), "max": round(max(seconds), 4),
            "first": round(seconds[0], 4), "result": result}


@contextmanager
def captured(session: Session) -> Iterator[list[tuple[str, object]]]:
    """The SQL statements a piece of work sends, to EXPLAIN them."""
    statements: list[tuple[str, object]] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", remember)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", remember)


def plans(session: Session, work: Callable[[], object]) -> list[dict]:
    """Which indexes each of the work's queries uses, and how long PostgreSQL took."""
    with captured(session) as statements:
        work()
    found = []
    for statement, parameters in statements:
        if "FROM agency" in statement and "ticket" not in statement:
            continue  # the agencies' names: a few dozen rows
        plan = session.connection().exec_driver_sql(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters
        ).scalar()[0]
        found.append({
            "query": " ".join(statement.split())[:90],
            "indexes": sorted(set(_plan_values(plan["Plan"], "Index Name"))),
            "nodes": sorted(set(_plan_values(plan["Plan"], "Node Type"))),
            "ms": round(plan["Execution Time"], 1),
        })
    return found


def _plan_values(node: dict, key: str) -> Iterator[str]:
    if key in node:
        yield node[key]
    for child in node.get("Plans", ()):
        yield from _plan_values(child, key)


def measurements(session: Session, now: datetime, agency_id: int, runs: int, explain: bool) -> dict:
    month = previous_month(now.date())
    quarter = quarter_of(now.date())

    def sweep_close_unrated():
        closed = close_unrated(session, now, 5)
        session.rollback()  # the same work on every run
        return closed

    sweep = make_sweep(5)

    def sweep_backlog():
        """The whole 15-minute sweep (closing, reminders, notices, digests) on a
        database nobody swept before: the most work a run can find."""
        sweep(session, {}, now)
        session.flush()
        session.rollback()

    def sweep_steady():
        """The same sweep again a slot later, when the backlog is dealt with."""
        sweep(session, {}, now)
        session.flush()

    work: dict[str, Callable[[], object]] = {
        "sweep_close_unrated": sweep_close_unrated,
        "sweep_overdue_with_agencies": lambda: len(overdue_tickets(session, now)),
        "scorecard_one_agency_last_month": lambda: scorecard(session, *month, now, agency_id=agency_id).total.assigned,
        "scorecard_one_agency_this_quarter": lambda: scorecard(session, *quarter, now, agency_id=agency_id).total.assigned,
        "scorecard_all_agencies_last_month": lambda: scorecard(session, *month, now).total.assigned,
    }
    report = {}
    for name, job in work.items():
        report[name] = timed(job, runs)
        if explain:
            report[name]["plans"] = plans(session, job)
        session.expunge_all()
    report["sweep_full_backlog"] = timed(sweep_backlog, runs)
    sweep_steady()  # the backlog, dealt with (rolled back at the end)
    report["sweep_full_steady"] = timed(sweep_steady, runs)
    session.rollback()
    session.expunge_all()
    return report


def without_new_indexes(database: Database, now: datetime, agency_id: int, runs: int) -> dict:
    """The same work on the indexes of migration 0002, in a transaction rolled back afterwards."""
    with database.engine.connect() as connection:
        transaction = connection.begin()
        for name in NEW_INDEXES:
            connection.execute(text(f"DROP INDEX {name}"))
        for definition in BASELINE_INDEXES:
            connection.execute(text(definition))
        connection.execute(text("ANALYZE ticket"))
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            return measurements(session, now, agency_id, runs, explain=True)
        finally:
            session.close()
            transaction.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reset", action="store_true", help="drop and recreate the public schema, then fill it")
    parser.add_argument("--baseline-runs", type=int, default=2, help="runs on 0002's indexes (0: skip)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("DATABASE_URL must name a PostgreSQL database for this benchmark")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]

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
        have = session.scalar(select(func.count()).select_from(Ticket))
        calendar = load_calendar(session)
    if have == 0:
        result["load"] = load(url, args.tickets, now, agencies, calendar)
    with database.Session() as session:
        result["rows"] = {
            "tickets": session.scalar(select(func.count()).select_from(Ticket)),
            "events": session.scalar(select(func.count()).select_from(TicketEvent)),
        }
        # The busiest agency: the hardest one-agency scorecard.
        busiest = session.execute(
            select(Ticket.agency_id, func.count()).where(Ticket.agency_id.is_not(None))
            .group_by(Ticket.agency_id).order_by(func.count().desc()).limit(1)
        ).first()
        result["agency"] = {"id": busiest[0], "tickets": busiest[1]}
        result["with_0004_indexes"] = measurements(session, now, busiest[0], args.runs, explain=True)
    if args.baseline_runs:
        result["with_0002_indexes"] = without_new_indexes(database, now, busiest[0], args.baseline_runs)
    database.dispose()
    print(json.dumps(result, ensure_ascii=False, indent=1, default=str))


if __name__ == "__main__":
    main()
