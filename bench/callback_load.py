"""Load on the WeChat callback: encrypted text messages from many senders.

Starts the app under gunicorn on loopback (SQLite or the PostgreSQL server
named by DATABASE_URL), loads the demo, then sends safe-mode (AES) messages
from concurrent senders and reports acknowledged messages per second, p50/p99
latency, and how many were fully processed (stored, classified, routed).

    python bench/callback_load.py --messages 5000 --concurrency 32 --workers 4
    DATABASE_URL=postgresql://… python bench/callback_load.py …

Only 127.0.0.1 is ever contacted; the run is bounded by --messages and --timeout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import xmltodict
from sqlalchemy import create_engine, func, select, text
from wechatpy.crypto import WeChatCrypto

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from routing.models import Message, Status, Ticket  # noqa: E402

TOKEN, AES_KEY, APPID = "benchtoken", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxbench0000000001"

TEXTS = [
    "西湖区文新街道某小区物业擅自涨停车费，每月三百元，业主都不同意，请有关部门调查。",
    "拱墅区米市巷街道路灯坏了两个星期，晚上出门很不安全，希望尽快修好。",
    "滨江区长河街道工地夜里十二点以后还在打桩施工，噪音太大，根本睡不着。",
    "余杭区良渚街道公交站台太远，建议增加一个站点，方便老人出行。",
    "公司拖欠工资三个月了，老板一直推脱，请劳动监察部门帮忙讨薪。",
    "孩子今年上小学，户口在上城区，租房在钱塘区，请问应该在哪里报名？",
    "萧山区城厢街道一家餐馆后厨卫生很差，吃完拉肚子，请市场监管部门检查。",
    "社保断缴了三个月，想补缴，请问需要带什么材料去哪里办？",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed_request(i: int, sender: str, crypto: WeChatCrypto) -> tuple[dict, bytes]:
    created = 1_700_000_000 + i
    body = (
        f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{random.choice(TEXTS)}（{i}）]]></Content><MsgId>{10_000_000 + i}</MsgId></xml>"
    )
    timestamp, nonce = str(created), str(100000 + i)
    envelope = xmltodict.parse(crypto.encrypt_message(body, nonce, timestamp))["xml"]
    query = {
        "timestamp": timestamp,
        "nonce": nonce,
        "signature": hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest(),
        "encrypt_type": "aes",
        "msg_signature": envelope["MsgSignature"],
    }
    data = f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    return query, data.encode()


def wait_until_up(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent senders")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--timeout", type=float, default=300, help="seconds before the run gives up")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tingjian-bench-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'bench.db'}"
    env = os.environ | {
        "DATABASE_URL": database_url,
        "MODEL_DIR": str(workdir / "models"),
        "SECRET_KEY": "bench",
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_ENCODING_AES_KEY": AES_KEY,
        "WECHAT_APPID": APPID,
        "JOBS_IN_PROCESS": "0",
        "PYTHONPATH": str(ROOT),
    }
    if database_url.startswith("postgres"):
        engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as c:
            c.execute(text("DROP SCHEMA public CASCADE"))
            c.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    print("loading demo data and training the model…", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "flask", "--app", "admin", "demo"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "--threads", str(args.threads),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", "admin:create_app()"],
        env=env, cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/status", time.monotonic() + 60)
        crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
        requests_ = [signed_request(i, f"oBench{i % 500:04d}", crypto) for i in range(args.messages)]
        latencies: list[float] = []
        errors = 0
        lock = threading.Lock()
        local = threading.local()

        def send(item: tuple[dict, bytes]) -> None:
            nonlocal errors
            if not hasattr(local, "http"):
                local.http = requests.Session()
            started = time.perf_counter()
            try:
                r = local.http.post(base + "/wechat", params=item[0], data=item[1],
                                    headers={"Content-Type": "text/xml"}, timeout=10)
                ok = r.status_code == 200 and b"<Encrypt>" in r.content
            except requests.RequestException:
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors += 1

        # Warm every worker (jieba and the model load on first use).
        with ThreadPoolExecutor(args.workers * 2) as pool:
            list(pool.map(lambda _: requests.get(base + "/status", timeout=30), range(args.workers * 4)))
        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            deadline = time.monotonic() + args.timeout
            futures = [pool.submit(send, item) for item in requests_]
            for f in futures:
                f.result(timeout=max(deadline - time.monotonic(), 0.1))
        wall = time.perf_counter() - started
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as c:
        stored = c.scalar(select(func.count()).select_from(Message.__table__).where(Message.channel == "wechat"))
        routed = c.scalar(select(func.count()).select_from(Ticket.__table__).where(Ticket.status != Status.TRIAGE.value))
        tickets = c.scalar(select(func.count()).select_from(Ticket.__table__))
    engine.dispose()
    latencies.sort()
    result = {
        "database": "postgresql" if database_url.startswith("postgres") else "sqlite",
        "messages": args.messages,
        "concurrency": args.concurrency,
        "gunicorn_workers": args.workers,
        "threads_per_worker": args.threads,
        "acknowledged": len(latencies),
        "errors": errors,
        "wall_seconds": round(wall, 2),
        "acknowledged_per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1) if latencies else None,
        "messages_stored": stored,
        "tickets": tickets,
        "tickets_routed": routed,
        "fully_processed_per_second": round(stored / wall, 1),
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
