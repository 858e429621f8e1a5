"""The WeChat callback load of ``callback_load.py``, served by one web
process (gunicorn, W workers) or by two with instance folders of their own
(W/2 workers each, as two machines would run them), against one database and
the shared model store (no MODEL_DIR). Reports both, one JSON object each.

    python bench/two_processes.py --messages 1000 --workers 4
    DATABASE_URL=postgresql://… python bench/two_processes.py …

Only 127.0.0.1 is ever contacted; the run is bounded by --messages and --timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine
from wechatpy.crypto import WeChatCrypto

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _database import fresh_database
from callback_load import (
    AES_KEY,
    APPID,
    TOKEN,
    count,
    free_port,
    http_request,
    load,
    signed_request,
    wait_until_up,
)


def web_process(env: dict[str, str], instance: Path, workers: int, threads: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "--threads",
            str(threads),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "admin:create_app()",
        ],
        env=env | {"INSTANCE_PATH": str(instance)},
        cwd=ROOT,
    )
    return server, port


def run(args: argparse.Namespace, processes: int, workdir: Path) -> dict:
    database_url = fresh_database(workdir)
    env = {k: v for k, v in os.environ.items() if k != "MODEL_DIR"} | {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench",
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_ENCODING_AES_KEY": AES_KEY,
        "WECHAT_APPID": APPID,
        "JOBS_IN_PROCESS": "0",
        "PYTHONPATH": str(ROOT),
    }
    print(f"{processes} web process(es): loading demo data and training the model…", file=sys.stderr)
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "admin", "demo"],
        env=env | {"INSTANCE_PATH": str(workdir / "setup")},
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    servers = [
        web_process(env, workdir / f"web-{n}", args.workers // processes, args.threads) for n in range(processes)
    ]
    jobs = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "admin", "jobs", "work", "--poll", "0.2"],
        env=env | {"INSTANCE_PATH": str(workdir / "jobs")},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    engine = create_engine(database_url)
    try:
        for _, port in servers:
            wait_until_up(f"http://127.0.0.1:{port}/status", time.monotonic() + 60)
            for _ in range(args.workers * args.threads):
                requests.get(f"http://127.0.0.1:{port}/status", timeout=30)
        crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
        # Message i goes to process i mod n, as a load balancer's round robin would send it.
        shares = [
            [
                http_request(port, *signed_request(i, f"oBench{i % args.senders:04d}", crypto))
                for i in range(n, args.messages, processes)
            ]
            for n, (_, port) in enumerate(servers)
        ]
        _, before, read_before = count(engine)
        started = time.monotonic()

        async def everyone():
            return await asyncio.gather(
                *(
                    load(port, share, args.concurrency // processes, args.timeout)
                    for (_, port), share in zip(servers, shares, strict=True)
                )
            )

        answers = asyncio.run(everyone())
        wall = time.monotonic() - started
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            _, tickets, read = count(engine)
            if read == tickets:
                break
            time.sleep(0.1)
        processing_wall = time.monotonic() - started
    finally:
        for server, _ in servers:
            server.send_signal(signal.SIGTERM)
        jobs.send_signal(signal.SIGINT)
        for server, _ in servers:
            server.wait(timeout=30)
        jobs.wait(timeout=30)
    stored, tickets, read = count(engine)
    engine.dispose()
    latencies = sorted(latency for latencies, _, _ in answers for latency in latencies)
    return {
        "database": "postgresql" if database_url.startswith("postgres") else "sqlite",
        "web_processes": processes,
        "gunicorn_workers_each": args.workers // processes,
        "messages": args.messages,
        "acknowledged": len(latencies),
        "errors": sum(errors for _, errors, _ in answers),
        "acknowledged_per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1) if latencies else None,
        "messages_stored": stored,
        "tickets": tickets - before,
        "tickets_read": read - read_before,
        "fully_processed_per_second": round((read - read_before) / processing_wall, 1),
        "load_average_at_end": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent senders, split between the processes")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers in all, split between the processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--senders", type=int, default=500, help="distinct residents (openids)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds before a run gives up")
    args = parser.parse_args()
    for processes in (1, 2):
        workdir = Path(tempfile.mkdtemp(prefix="tingjian-bench-"))
        try:
            print(json.dumps(run(args, processes, workdir), ensure_ascii=False, indent=1))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
