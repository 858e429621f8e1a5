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
import asyncio
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
import time
from pathlib import Path
from urllib.parse import urlencode

import requests
import xmltodict
from sqlalchemy import create_engine, func, select, text
from wechatpy.crypto import WeChatCrypto

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _database import fresh_database  # noqa: E402

from routing.store.tickets import Message, Status, Ticket

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


def http_request(port: int, query: dict, body: bytes) -> bytes:
    path = "/wechat?" + urlencode(query)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/xml\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body, and whether the server keeps the connection open (a
    sync gunicorn worker closes it after every answer)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next((int(l.split(":", 1)[1]) for l in lines if l.lower().startswith("content-length:")), 0)
    closing = any(l.lower().replace(" ", "") == "connection:close" for l in lines)
    return status, await reader.readexactly(length), not closing


async def load(
    port: int, raw: list[bytes], concurrency: int, timeout: float, rate: float | None = None
) -> tuple[list[float], int, float]:
    """Send every request over ``concurrency`` keep-alive connections; the
    client is plain asyncio so that it, not the server, is never the limit.

    With ``rate``, message i is due at i/rate seconds (an open loop, as
    residents do not wait for each other), and its latency counts from when
    it was due: a server that falls behind shows it in p99 instead of
    slowing the sender down."""
    queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
    for item in enumerate(raw):
        queue.put_nowait(item)
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()

    async def sender() -> None:
        nonlocal errors
        reader = writer = None
        while not queue.empty():
            i, item = queue.get_nowait()
            due = started + i / rate if rate else time.perf_counter()
            if due > time.perf_counter():
                await asyncio.sleep(due - time.perf_counter())
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(item)
                status, content, kept = await asyncio.wait_for(read_response(reader), 10)
                ok = status == 200 and b"<Encrypt>" in content
                if not kept:
                    writer.close()
                    reader = writer = None
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
                ok = False
                if writer is not None:
                    writer.close()
                reader = writer = None
            if ok:
                latencies.append(time.perf_counter() - due)
            else:
                errors += 1
        if writer is not None:
            writer.close()

    await asyncio.wait_for(asyncio.gather(*(sender() for _ in range(concurrency))), timeout)
    return latencies, errors, time.perf_counter() - started


def cpu_seconds(pid: int, *, children: bool = True) -> float:
    """CPU time (user + system) of a process and its children, from /proc
    (Linux); 0 where it cannot be read."""
    total, pids = 0.0, [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{current}/task").iterdir() if children else ():
                pids += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def named(url: str, application: str) -> str:
    """The URL with an application name, so the database's CPU can be told apart by client."""
    if not url.startswith("postgresql"):
        return url
    return f"{url}{'&' if '?' in url else '?'}application_name={application}"


def database_cpu(engine, application: str) -> float:
    """CPU time of the PostgreSQL backends serving ``application``, where
    the server runs on this machine (0 otherwise, and on SQLite, whose work
    is inside the clients' own CPU time)."""
    if engine.dialect.name != "postgresql":
        return 0.0
    with engine.connect() as c:
        pids = c.scalars(text("SELECT pid FROM pg_stat_activity WHERE application_name = :a"), {"a": application}).all()
    return sum(cpu_seconds(pid, children=False) for pid in pids)


def count(engine, since_status: str | None = None) -> tuple[int, int, int]:
    """Messages stored, tickets, and tickets the classifier has read."""
    with engine.connect() as c:
        stored = c.scalar(select(func.count()).select_from(Message.__table__).where(Message.channel == "wechat"))
        tickets = c.scalar(select(func.count()).select_from(Ticket.__table__).where(Ticket.channel == "wechat"))
        unread = c.scalar(
            select(func.count()).select_from(Ticket.__table__)
            .where(Ticket.channel == "wechat", Ticket.status == Status.RECEIVED.value)
        )
    return stored, tickets, tickets - unread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent senders")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class (gthread, sync)")
    parser.add_argument("--job-workers", type=int, default=1, help="job worker processes (classify and route)")
    parser.add_argument("--senders", type=int, default=500, help="distinct residents (openids)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds before the run gives up")
    parser.add_argument("--job-nice", type=int, default=0,
                        help="run the job workers at this niceness (acknowledging first, processing in the CPU left)")
    parser.add_argument("--rate", type=float, default=None,
                        help="send at this many messages per second (open loop) instead of as fast as answered")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tingjian-bench-"))
    database_url = fresh_database(workdir)
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
    print("loading demo data and training the model…", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "flask", "--app", "admin", "demo"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "--threads", str(args.threads),
         "--worker-class", args.worker_class,
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", "admin:create_app()"],
        env=env | {"DATABASE_URL": named(database_url, "bench-web")}, cwd=ROOT,
    )
    job_workers = [
        subprocess.Popen([*(["nice", "-n", str(args.job_nice)] if args.job_nice else []),
                          sys.executable, "-m", "flask", "--app", "admin", "jobs", "work", "--poll", "0.2"],
                         env=env | {"DATABASE_URL": named(database_url, "bench-jobs")}, cwd=ROOT,
                         stdout=subprocess.DEVNULL)
        for _ in range(args.job_workers)
    ]
    engine = create_engine(database_url)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/status", time.monotonic() + 60)
        crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
        raw = [http_request(port, *signed_request(i, f"oBench{i % args.senders:04d}", crypto))
               for i in range(args.messages)]
        # Warm every worker (jieba and the model load on first use).
        for _ in range(args.workers * args.threads * 2):
            requests.get(base + "/status", timeout=30)
        _, tickets_before, read_before = count(engine)
        server_cpu = cpu_seconds(server.pid)
        jobs_cpu = sum(cpu_seconds(worker.pid) for worker in job_workers)
        web_db_cpu, jobs_db_cpu = database_cpu(engine, "bench-web"), database_cpu(engine, "bench-jobs")
        started = time.monotonic()
        latencies, errors, wall = asyncio.run(load(port, raw, args.concurrency, args.timeout, args.rate))
        server_cpu = cpu_seconds(server.pid) - server_cpu
        web_db_cpu = database_cpu(engine, "bench-web") - web_db_cpu
        # Then wait for the job workers to read and route what was acknowledged.
        read_at_end_of_load = count(engine)[2] - read_before
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            stored, tickets, read = count(engine)
            if read == tickets:
                break
            time.sleep(0.1)
        processing_wall = time.monotonic() - started
        jobs_cpu = sum(cpu_seconds(worker.pid) for worker in job_workers) - jobs_cpu
        jobs_db_cpu = database_cpu(engine, "bench-jobs") - jobs_db_cpu
    finally:
        server.send_signal(signal.SIGTERM)
        for worker in job_workers:
            worker.send_signal(signal.SIGINT)
        server.wait(timeout=30)
        for worker in job_workers:
            worker.wait(timeout=30)

    stored, tickets, read = count(engine)
    with engine.connect() as c:
        routed = c.scalar(select(func.count()).select_from(Ticket.__table__).where(
            Ticket.channel == "wechat", Ticket.status == Status.ASSIGNED.value))
    engine.dispose()
    latencies.sort()
    new_tickets = tickets - tickets_before
    result = {
        "database": "postgresql" if database_url.startswith("postgres") else "sqlite",
        "messages": args.messages,
        "senders": args.senders,
        "concurrency": args.concurrency,
        "gunicorn_workers": args.workers,
        "threads_per_worker": args.threads,
        "worker_class": args.worker_class,
        "job_workers": args.job_workers,
        "job_nice": args.job_nice,
        "offered_per_second": args.rate,
        "acknowledged": len(latencies),
        "errors": errors,
        "wall_seconds": round(wall, 2),
        "acknowledged_per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1) if latencies else None,
        "messages_stored": stored,
        "tickets": new_tickets,
        "tickets_read_during_load": read_at_end_of_load,
        "tickets_read": read - read_before,
        "tickets_routed": routed,
        "processing_wall_seconds": round(processing_wall, 2),
        "fully_processed_per_second": round((read - read_before) / processing_wall, 1),
        "processed_during_load_per_second": round(read_at_end_of_load / wall, 1),
        # How long after the last acknowledgement the last ticket was read and
        # routed: small and steady when processing keeps pace with the rate.
        "processing_lag_seconds": round(processing_wall - wall, 2),
        "messages_fully_processed_per_second": round(stored / processing_wall, 1),
        # CPU the web server and the job workers spent (not the database's):
        # what a message costs, whatever else the machine is doing.
        "server_cpu_ms_per_acknowledgement": round(server_cpu * 1000 / max(len(latencies), 1), 2),
        "job_cpu_ms_per_ticket": round(jobs_cpu * 1000 / max(read - read_before, 1), 2),
        # PostgreSQL's own share, where it runs on this machine.
        "database_cpu_ms_per_acknowledgement": round(web_db_cpu * 1000 / max(len(latencies), 1), 2),
        "database_cpu_ms_per_ticket_processed": round(jobs_db_cpu * 1000 / max(read - read_before, 1), 2),
        "load_average_at_end": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
