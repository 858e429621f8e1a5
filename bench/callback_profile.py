"""Where the WeChat callback's time goes: one process, no network.

Loads the demo into a fresh database (SQLite in a temporary folder, or the
PostgreSQL database named by DATABASE_URL — its schema is dropped), posts
encrypted text messages through the real callback with Flask's test client,
and prints the SQL statements per message and the functions that take the
most time (cProfile), for the acknowledgement and for the job that reads and
routes the tickets.

    python bench/callback_profile.py --messages 500
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from callback_load import AES_KEY, APPID, TOKEN, signed_request  # noqa: E402
from _database import fresh_database  # noqa: E402
from wechatpy.crypto import WeChatCrypto  # noqa: E402

from admin import create_app  # noqa: E402
from admin.demo import load_demo  # noqa: E402
from classifier import ModelStore  # noqa: E402
from routing.clock import now  # noqa: E402
from routing.jobs import run_pending  # noqa: E402
from routing.migrate import upgrade  # noqa: E402


def top(profile: cProfile.Profile, limit: int) -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(limit)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--top", type=int, default=30, help="functions to show")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tingjian-profile-"))
    url = fresh_database(workdir)
    upgrade(url)
    app = create_app({
        "DATABASE_URL": url, "MODEL_DIR": str(workdir / "models"), "SECRET_KEY": "profile",
        "WECHAT_TOKEN": TOKEN, "WECHAT_ENCODING_AES_KEY": AES_KEY, "WECHAT_APPID": APPID, "JOBS_IN_PROCESS": False,
    })
    services = app.extensions["tingjian"]
    with services.db.Session() as session:
        load_demo(session, ModelStore(workdir / "models"), threshold=app.config["CLASSIFIER_THRESHOLD"])

    statements = 0

    def counted(*_args) -> None:
        nonlocal statements
        statements += 1

    event.listen(services.db.engine, "before_cursor_execute", counted)
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
    requests_ = [signed_request(i, f"oProfile{i:05d}", crypto) for i in range(args.messages)]
    client = app.test_client()
    client.post("/wechat", query_string=requests_[0][0], data=requests_[0][1])  # warm up: model, jieba
    run_pending(services.db, services.jobs, now)

    statements = 0
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for query, body in requests_[1:]:
        response = client.post("/wechat", query_string=query, data=body, content_type="text/xml")
        assert response.status_code == 200, response.status_code
    profile.disable()
    ack_seconds = time.perf_counter() - started
    ack_statements = statements / (len(requests_) - 1)

    statements = 0
    jobs_profile = cProfile.Profile()
    started = time.perf_counter()
    jobs_profile.enable()
    ran = run_pending(services.db, services.jobs, now, limit=10 * args.messages)
    jobs_profile.disable()
    job_seconds = time.perf_counter() - started

    n = len(requests_) - 1
    print(f"database: {services.db.engine.dialect.name}")
    print(f"acknowledge: {n} messages in {ack_seconds:.2f} s = {ack_seconds / n * 1000:.2f} ms each, "
          f"{ack_statements:.1f} SQL statements each")
    print(f"read and route: {ran} jobs in {job_seconds:.2f} s = {job_seconds / max(ran, 1) * 1000:.2f} ms each, "
          f"{statements / max(ran, 1):.1f} SQL statements each")
    print("\n== acknowledge, by cumulative time\n" + top(profile, args.top))
    print("\n== read and route, by cumulative time\n" + top(jobs_profile, args.top))


if __name__ == "__main__":
    main()
