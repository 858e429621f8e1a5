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

Then it adds what the later workflow brings, in SQL over the loaded rows:
redos (the reopenings after 不满意 count as the ticket's first redo),
assignment disputes (1 in 50 assigned tickets; a third upheld), answers that
went through review (1 in 20: 提交审核, 审核通过) and callbacks (回访: every
answered complaint and deputy suggestion and 1 in 10 of the rest; 1 in 7 not
reached after three tries).

Then it times, ``--runs`` times each: the sweep's work (closing unrated
answers, rolled back after each run; the overdue tickets with their agencies),
a scorecard of one agency for last month and for this quarter, and of every
agency for last month, the figures leadership uses (``routing.reports.figures``:
every rate for the city, last month and this quarter) and the callbacks'
aggregate alone — with the indexes of migration 0004 and, for
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
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import psycopg
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _ticket_history import EVENT_COLUMNS, TICKET_COLUMNS, tickets  # noqa: E402

from admin.demo import Report, load_agencies, load_places, load_policies, load_users  # noqa: E402
from classifier.place import Gazetteer  # noqa: E402
from routing.clock import now as city_now  # noqa: E402
from routing.flow.calendar import WorkCalendar
from routing.flow.deadlines import load_calendar
from routing.flow.sweep import close_unrated, make_sweep
from routing.reports import figures
from routing.reports.overdue import overdue_tickets
from routing.reports.scorecard import previous_month, quarter_of, scorecard
from routing.store.callbacks import Callback
from routing.store.db import Database
from routing.store.migrate import upgrade
from routing.store.people import Agency
from routing.store.tickets import Ticket, TicketEvent

# The indexes before migration 0004, for the comparison.
BASELINE_INDEXES = (
    "CREATE INDEX ix_ticket_agency_id ON ticket (agency_id)",
    "CREATE INDEX ix_ticket_status ON ticket (status)",
)
NEW_INDEXES = (
    "ix_ticket_agency_id_assigned_at", "ix_ticket_status_answered_at",
    "ix_ticket_event_action_at_agency_id",
)


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


# What the later workflow adds to the loaded history (PostgreSQL), each statement once.
OUTCOMES = (
    # 重办: the generator's reopenings all follow a 不满意.
    """UPDATE ticket_event SET detail = '{"redo": 1}' WHERE action = 'reopen'""",
    "UPDATE ticket SET redo_count = 1 WHERE id IN (SELECT ticket_id FROM ticket_event WHERE action = 'reopen')",
    # 派单争议, ruled two hours later: a third upheld.
    """INSERT INTO ticket_event (ticket_id, at, actor, action, from_status, to_status, agency_id)
       SELECT id, assigned_at + interval '1 hour', '承办员', 'dispute', 'assigned', 'disputed', agency_id
       FROM ticket WHERE assigned_at IS NOT NULL AND id % 50 = 0""",
    """INSERT INTO ticket_event (ticket_id, at, actor, action, from_status, to_status, agency_id)
       SELECT id, assigned_at + interval '3 hours', '调度员',
              CASE WHEN id % 150 = 0 THEN 'uphold_dispute' ELSE 'reject_dispute' END, 'disputed', 'assigned', agency_id
       FROM ticket WHERE assigned_at IS NOT NULL AND id % 50 = 0""",
    # 审核办结: the answer submitted two hours before it went out, approved then.
    """INSERT INTO ticket_event (ticket_id, at, actor, action, from_status, to_status, agency_id)
       SELECT ticket_id, at - interval '2 hours', actor, 'submit_answer', 'accepted', 'reviewing', agency_id
       FROM ticket_event WHERE action = 'answer' AND ticket_id % 20 = 0""",
    """INSERT INTO ticket_event (ticket_id, at, actor, action, from_status, to_status, agency_id)
       SELECT ticket_id, at, '调度员', 'approve_answer', 'reviewing', 'answered', agency_id
       FROM ticket_event WHERE action = 'answer' AND ticket_id % 20 = 0""",
    # 回访, two days after the answer.
    """INSERT INTO callback (ticket_id, agency_id, queued_at, attempts, done_at, reached, solved, satisfied)
       SELECT id, agency_id, answered_at, CASE WHEN id % 7 = 0 THEN 3 ELSE 0 END, answered_at + interval '2 days', id % 7 <> 0,
              CASE WHEN id % 7 <> 0 THEN id % 4 <> 0 END, CASE WHEN id % 7 <> 0 THEN id % 5 <> 0 END
       FROM ticket WHERE answered_at IS NOT NULL
        AND (kind IN ('complaint', 'deputy_suggestion') OR id % 10 = 0)""",
)


def add_outcomes(url: str) -> dict:
    started = time.perf_counter()
    with psycopg.connect(psycopg_url(url)) as conn:
        for statement in OUTCOMES:
            conn.execute(statement)
        conn.commit()
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE ticket_event")
        conn.execute("VACUUM ANALYZE callback")
    return {"seconds": round(time.perf_counter() - started, 1)}


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
    ids = list(session.scalars(select(Agency.id)))

    def city_figures(period):
        total = scorecard(session, *period, now).total
        return {figure.key: figure.of(total) for figure in figures.FIGURES}

    def callbacks_alone():
        counted = []
        figures.add_callbacks(session, lambda agency: counted.append(agency) or _Counts(), *month, ids, [])
        return len(counted)

    work["figures_city_last_month"] = lambda: city_figures(month)
    work["figures_city_this_quarter"] = lambda: city_figures(quarter)
    work["figures_callbacks_aggregate_last_month"] = callbacks_alone
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


class _Counts:
    """Where the callbacks' aggregate writes its counts, when timed alone."""


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
        result["outcomes"] = add_outcomes(url)
    with database.Session() as session:
        result["rows"] = {
            "tickets": session.scalar(select(func.count()).select_from(Ticket)),
            "events": session.scalar(select(func.count()).select_from(TicketEvent)),
            "callbacks": session.scalar(select(func.count()).select_from(Callback)),
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
