"""Where the WeChat callback's time goes: one process, no network.

Loads the demo into a fresh database (SQLite in a temporary folder, or the
PostgreSQL database named by DATABASE_URL — its schema is dropped), posts
encrypted text messages through the real callback with Flask's test client,
and prints the SQL statements per message and the functions that take the
most time (cProfile), for the acknowledgement and for the job that reads and
routes the tickets. With ``--cpu`` nothing is profiled: it prints the CPU
time of this process and, on a local PostgreSQL, of its backends, per message.

    python bench/callback_profile.py --messages 500
    python bench/callback_profile.py --messages 1000 --cpu
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine.interfaces import ExecuteStyle

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _database import fresh_database  # noqa: E402
from callback_load import AES_KEY, APPID, TOKEN, database_cpu, named, signed_request  # noqa: E402
from wechatpy.crypto import WeChatCrypto  # noqa: E402

from admin import create_app  # noqa: E402
from admin.demo import load_demo  # noqa: E402
from classifier import ModelStore  # noqa: E402
from routing.clock import now  # noqa: E402
from routing.store.migrate import upgrade
from routing.store.workers import run_pending


def top(profile: cProfile.Profile, limit: int) -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(limit)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--top", type=int, default=30, help="functions to show")
    parser.add_argument("--cpu", action="store_true", help="CPU time per message instead of a profile")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tingjian-profile-"))
    url = fresh_database(workdir)
    upgrade(url)
    app = create_app({
        "DATABASE_URL": named(url, "bench-profile"), "MODEL_DIR": str(workdir / "models"), "SECRET_KEY": "profile",
        "WECHAT_TOKEN": TOKEN, "WECHAT_ENCODING_AES_KEY": AES_KEY, "WECHAT_APPID": APPID, "JOBS_IN_PROCESS": False,
    })
    services = app.extensions["tingjian"]
    with services.db.Session() as session:
        load_demo(session, ModelStore(workdir / "models"), threshold=app.config["CLASSIFIER_THRESHOLD"])

    statements = executions = 0

    def counted(_connection, _cursor, _statement, parameters, context, _executemany) -> None:
        # An executemany is one statement sent, which the server runs once per
        # row; an INSERT of many rows in one VALUES list (the ORM's) runs once.
        nonlocal statements, executions
        statements += 1
        executions += len(parameters) if context.execute_style is ExecuteStyle.EXECUTEMANY else 1

    event.listen(services.db.engine, "before_cursor_execute", counted)
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
    requests_ = [signed_request(i, f"oProfile{i:05d}", crypto) for i in range(args.messages)]
    client = app.test_client()
    client.post("/wechat", query_string=requests_[0][0], data=requests_[0][1])  # warm up: model, jieba
    run_pending(services.db, services.jobs, now)

    def acknowledge() -> int:
        for query, body in requests_[1:]:
            response = client.post("/wechat", query_string=query, data=body, content_type="text/xml")
            assert response.status_code == 200, response.status_code
        return len(requests_) - 1

    def read_and_route() -> int:
        return run_pending(services.db, services.jobs, now, limit=10 * args.messages)

    print(f"database: {services.db.engine.dialect.name}")
    reports = []
    for name, work in (("acknowledge", acknowledge), ("read and route", read_and_route)):
        statements = executions = 0
        profile = None if args.cpu else cProfile.Profile()
        database_before = database_cpu(services.db.engine, "bench-profile")
        cpu, started = time.process_time(), time.perf_counter()
        if profile is not None:
            profile.enable()
        done = work()
        if profile is not None:
            profile.disable()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        database = database_cpu(services.db.engine, "bench-profile") - database_before
        each = max(done, 1)
        line = (f"{name}: {done} in {seconds:.2f} s = {seconds / each * 1000:.2f} ms each, "
                f"{statements / each:.1f} SQL statements each ({executions / each:.1f} executions, "
                "an executemany's rows each one)")
        if args.cpu:
            line += f"; CPU {cpu / each * 1000:.2f} ms each"
            if services.db.engine.dialect.name == "postgresql":
                line += f", PostgreSQL's backends {database / each * 1000:.2f} ms"
        print(line)
        if profile is not None:
            reports.append(f"\n== {name}, by cumulative time\n" + top(profile, args.top))
    print("".join(reports))

if __name__ == "__main__":
    main()
