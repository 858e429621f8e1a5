"""Nothing acknowledged is lost: a worker killed with SIGKILL mid-burst, and a
job whose worker died mid-run."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from routing.clock import now as city_now
from routing.store.jobs import DONE, Job, Registry, enqueue
from routing.store.tickets import Message
from routing.store.workers import run_pending

from .doomed_worker import claim_and_hang
from .test_wechat import AES_KEY, APPID, TOKEN, post, xml  # noqa: F401  (the same signing rules)

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed(body: str, timestamp: str, nonce: str) -> dict:
    import hashlib

    return {"timestamp": timestamp, "nonce": nonce, "signature": hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()}


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


@pytest.fixture
def server(database_url, model_dir, demo, tmp_path):
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = os.environ | {
        "DATABASE_URL": database_url,
        "MODEL_DIR": str(model_dir),
        "SECRET_KEY": "durability",
        "WECHAT_TOKEN": TOKEN,
        "WECHAT_ENCODING_AES_KEY": AES_KEY,
        "WECHAT_APPID": APPID,
        "JOBS_IN_PROCESS": "0",
        "PYTHONPATH": str(ROOT),
    }
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "error",
             "--graceful-timeout", "1", "admin:create_app()"],
            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=stderr,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(base + "/status", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            process.kill()
            process.wait()
            pytest.fail("gunicorn did not start: " + log.read_text()[-2000:])
        yield base, process
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_a_worker_killed_mid_burst_loses_no_acknowledged_message(server, demo):
    base, master = server
    acknowledged: list[int] = []
    lock = threading.Lock()

    def send(first: int, count: int) -> None:
        http = requests.Session()
        for i in range(first, first + count):
            body = xml("text", 500_000 + i, sender=f"oBurst{i % 7}", Content=f"第{i}号：小区门口路灯坏了，晚上很黑，请尽快维修。")
            try:
                r = http.post(base + "/wechat", params=signed(body, "1700000000", str(i)), data=body.encode(),
                              headers={"Content-Type": "text/xml"}, timeout=10)
            except requests.RequestException:
                continue  # not acknowledged: WeChat would retry it
            if r.status_code == 200 and "工单" in r.text:  # a new ticket or one joined
                with lock:
                    acknowledged.append(500_000 + i)

    senders = [threading.Thread(target=send, args=(n * 40, 40)) for n in range(4)]
    for t in senders:
        t.start()
    time.sleep(0.5)
    victims = worker_pids(master.pid)
    assert victims, "no gunicorn workers found"
    os.kill(victims[0], signal.SIGKILL)
    for t in senders:
        t.join()

    assert len(acknowledged) > 40  # the burst went on after the kill
    demo.expire_all()
    stored = set(demo.scalars(select(Message.external_id).where(Message.channel == "wechat")))
    missing = [i for i in acknowledged if f"msg:{i}" not in stored]
    assert missing == []


def test_a_job_whose_worker_died_runs_again_when_its_lease_runs_out(database_url, app):
    database = app.extensions["tingjian"].db
    with database.Session() as session:
        enqueue(session, "test.count", {"n": 1}, city_now())
        session.commit()

    doomed = multiprocessing.get_context("spawn").Process(target=claim_and_hang, args=(database_url,))
    doomed.start()
    deadline = time.monotonic() + 30
    with database.Session() as session:
        while time.monotonic() < deadline and session.scalar(select(Job.locked_by)) != "doomed-worker":
            time.sleep(0.1)
            session.expire_all()
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join()

    ran: list[dict] = []
    registry = Registry()
    registry.register("test.count", lambda session, payload, now: ran.append(payload))
    assert run_pending(database, registry, city_now) == 0  # still leased to the dead worker
    assert run_pending(database, registry, lambda: city_now() + timedelta(minutes=6)) == 1
    assert ran == [{"n": 1}]
    with database.Session() as session:
        job = session.scalar(select(Job))
        assert job.status == DONE and job.attempts == 2
        assert session.scalar(select(func.count()).select_from(Job)) == 1
