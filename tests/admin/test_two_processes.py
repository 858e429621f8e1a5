"""Nothing node-local: two web processes with instance folders of their own,
against one database, behave as one system. A model trained through one
classifies through the other; a voice note a deputy sends through one plays
through the other."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from admin.demo import DEMO_PASSWORD
from routing.store.db import Database
from routing.store.tickets import Attachment, Ticket

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MODEL_DIR", "DATABASE_URL", "TINGJIAN_ENV")}
    return (
        env
        | {
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "shared-secret",
            "JOBS_IN_PROCESS": "0",
            "PYTHONPATH": str(ROOT),
        }
        | extra
    )


def flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "admin", *args],
        check=False,
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


class WebProcess:
    """``flask run`` in a process of its own, reached over HTTP."""

    def __init__(self, env: dict[str, str]) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "admin", "run", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.http = requests.Session()
        for _ in range(600):
            try:
                self.http.get(self.base + "/login", timeout=5)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("the web process did not start")

    def login(self, username: str) -> None:
        token = CSRF.search(self.http.get(self.base + "/login").text).group(1)
        self.http.post(
            self.base + "/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token}
        ).raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def shared_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """The suite's PostgreSQL when DATABASE_URL names one, else a SQLite file both processes open."""
    url = database_url if database_url.startswith("postgresql") else f"sqlite:///{tmp_path / 'shared.db'}"
    yield url
    if url.startswith("postgresql"):
        from routing.store.db import Base

        db = Database(url)
        with db.engine.begin() as connection:
            connection.exec_driver_sql("SET LOCAL tingjian.purge = 'on'")  # the access log's trigger
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
        db.dispose()


@pytest.fixture
def two_processes(shared_database: str, tmp_path: Path) -> Iterator[tuple[WebProcess, WebProcess]]:
    first_env = environment(shared_database, tmp_path / "first")
    loaded = flask(first_env, "demo")  # the schema, the demo data and a model trained through the first
    assert loaded.returncode == 0, loaded.stderr
    first = WebProcess(first_env)
    second = WebProcess(environment(shared_database, tmp_path / "second", JOBS_IN_PROCESS="1"))
    yield first, second
    first.stop()
    second.stop()


def wait_for_topic(db: Database, number: str) -> Ticket:
    for _ in range(600):
        with db.Session() as session:
            ticket = session.scalar(select(Ticket).where(Ticket.number == number))
            if ticket is not None and ticket.topic is not None:
                return ticket
        time.sleep(0.1)
    raise AssertionError(f"{number} was never classified")


def test_the_model_trained_through_one_process_is_the_model_the_other_uses(two_processes, shared_database, tmp_path):
    _first, second = two_processes
    listed = flask(environment(shared_database, tmp_path / "second"), "classifier", "versions")

    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("* ")  # the second folder sees the version the first trained, active
    assert not (tmp_path / "first" / "models").exists() and not (tmp_path / "second" / "models").exists()

    second.login("deputy")
    page = second.http.get(second.base + "/deputy/").text
    second.http.post(
        second.base + "/deputy/",
        data={
            "text": "小区楼道的路灯坏了一个月，晚上一片漆黑，老人上下楼很危险",
            "mode": "complaint",
            "constituents": "3",
            "place": "",
            "station": "",
            "csrf_token": CSRF.search(page).group(1),
        },
    ).raise_for_status()
    db = Database(shared_database)
    try:
        with db.Session() as session:
            newest = session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
        classified = wait_for_topic(db, newest.number)  # by the second process's job worker
    finally:
        db.dispose()
    assert classified.topic


def test_a_voice_note_sent_through_one_process_plays_through_the_other(two_processes, shared_database, voices):
    first, second = two_processes
    first.login("deputy")
    page = first.http.get(first.base + "/deputy/").text
    answer = first.http.post(
        first.base + "/deputy/",
        data={
            "text": "",
            "mode": "complaint",
            "constituents": "3",
            "place": "",
            "station": "",
            "csrf_token": CSRF.search(page).group(1),
        },
        files={"voice": ("语音.wav", voices["wav"], "audio/wav")},
    )
    assert answer.status_code == 200, answer.text[:500]

    db = Database(shared_database)
    try:
        with db.Session() as session:
            attachment = session.scalars(select(Attachment).where(Attachment.kind == "voice")).one()
        second.login("dispatcher")
        played = second.http.get(f"{second.base}/desk/transcribe/audio/{attachment.id}")
    finally:
        db.dispose()

    assert played.status_code == 200 and played.headers["Content-Type"].startswith("audio/")
    assert played.content
