"""Notifications through the outbox at once: ``--count`` SMS notices queued in
one transaction (each queued twice under its occasion's key, as a step run
twice would), then sent by the job runner through the real Aliyun or Tencent
Cloud SDK to the local fake provider, which fails one request in ``--fail-every``
with its system error. The sender keeps to ``--rate`` messages a second (the
rate the provider allows the account). Reports sent, duplicates and lost
(both must be 0) and the time.

    python3 bench/notifications.py --count 10000                    # SQLite in a temporary folder
    DATABASE_URL=postgresql://… python3 bench/notifications.py --provider tencent

With DATABASE_URL the public schema of that database is DROPPED and rebuilt:
point it at a scratch database only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _database import fresh_database

from collector.outbound.base import OutboundMessage
from collector.outbound.sms import SmsChannel
from routing.store.db import Database
from routing.store.jobs import QUEUED, Job, Registry, Retry, effect, enqueue
from routing.store.migrate import upgrade
from routing.store.workers import run_pending
from tests.collector.fake_sms import KEY_ID, KEY_SECRET, FakeSms

KIND = "bench.sms"


class Pace:
    """At most ``rate`` sends a second: each send waits for its slot."""

    def __init__(self, rate: float):
        self.every = 1 / rate
        self.next = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        with self.lock:
            now = time.monotonic()
            if self.next > now:
                time.sleep(self.next - now)
            self.next = max(self.next, now) + self.every


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--provider", choices=["aliyun", "tencent"], default="aliyun")
    parser.add_argument("--rate", type=float, default=200.0, help="messages a second the provider allows")
    parser.add_argument("--fail-every", type=int, default=10)
    args = parser.parse_args()

    url = fresh_database(tempfile.mkdtemp())
    upgrade(url)
    database = Database(url)
    with FakeSms(args.provider, fail_every=args.fail_every) as fake:
        channel = SmsChannel.from_config(
            {
                "SMS_PROVIDER": args.provider,
                "SMS_ACCESS_KEY_ID": KEY_ID,
                "SMS_ACCESS_KEY_SECRET": KEY_SECRET,
                "SMS_SIGN_NAME": "听见",
                "SMS_SDK_APP_ID": "1400000000",
                "SMS_ENDPOINT": fake.endpoint,
                "SMS_TEMPLATES": "receipt=SMS_100",
            }
        )
        pace = Pace(args.rate)

        def send(session, payload, now):
            # The number carries the notice's index, so the fake's log shows which were sent.
            message = OutboundMessage(
                recipient=f"139{payload['n']:08d}",
                text="",
                occasion="receipt",
                params={"number": f"TJ-{payload['n']}", "code": "ABCD", "link": "https://tj.example/s"},
            )
            effect(session, lambda: (pace.wait(), channel.send(message)))

        registry = Registry()
        registry.register(KIND, send, retry=Retry(forever=True, cap=timedelta(minutes=5)))
        start = datetime(2026, 1, 5, 10, 0)
        with database.Session() as session:
            for n in range(args.count):
                for _twice in range(2):
                    enqueue(session, KIND, {"n": n}, start, key=f"bench:{n}:receipt")
                    session.flush()
            session.commit()

        began = time.perf_counter()
        clock = start
        rounds = 0
        while True:
            rounds += 1
            run_pending(database, registry, lambda at=clock: at, limit=args.count * 2)
            with database.Session() as session:
                waiting = session.query(Job).filter(Job.status == QUEUED).count()
            if waiting == 0 or rounds > 50:
                break
            clock += timedelta(minutes=10)  # past any back-off
        took = time.perf_counter() - began

    sent = Counter(int(m["phone"][-8:]) for m in fake.sent)
    duplicates = sum(c - 1 for c in sent.values() if c > 1)
    lost = args.count - len(sent)
    print(f"provider {args.provider}, database {url.split(':')[0]}, rate limit {args.rate:g}/s")
    print(
        f"queued {args.count}, provider requests {fake.requests}, failed by the fake {fake.requests - len(fake.sent)}"
    )
    print(f"sent {len(sent)}, duplicates {duplicates}, lost {lost}, rounds {rounds}")
    print(f"time {took:.1f} s ({len(fake.sent) / took:.0f} sent/s)")
    database.dispose()


if __name__ == "__main__":
    main()
