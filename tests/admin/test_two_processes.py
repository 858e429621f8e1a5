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

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer
from sqlalchemy import select

from admin.demo import DEMO_PASSWORD
from routing.store.blobs import DatabaseBlobs
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


@pytest.fixture(params=["database", "object store"])
def shared_store(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Where both processes keep their files: the database, or an S3 bucket (a moto server)."""
    if request.param == "database":
        yield {}
        return
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    credentials = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint, **_boto_arguments(credentials)).create_bucket(Bucket="tingjian")
    yield credentials | {"OBJECT_STORE_URL": "s3://tingjian/city", "OBJECT_STORE_ENDPOINT": endpoint}
    server.stop()


def _boto_arguments(credentials: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": credentials["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": credentials["AWS_SECRET_ACCESS_KEY"],
        "region_name": credentials["AWS_DEFAULT_REGION"],
    }


@pytest.fixture
def two_processes(
    shared_database: str, shared_store: dict[str, str], tmp_path: Path
) -> Iterator[tuple[WebProcess, WebProcess]]:
    first_env = environment(shared_database, tmp_path / "first", **shared_store)
    loaded = flask(first_env, "demo")  # the schema, the demo data and a model trained through the first
    assert loaded.returncode == 0, loaded.stderr
    first = WebProcess(first_env)
    second = WebProcess(environment(shared_database, tmp_path / "second", JOBS_IN_PROCESS="1", **shared_store))
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


def test_the_model_trained_through_one_process_is_the_model_the_other_uses(
    two_processes, shared_database, shared_store, tmp_path
):
    _first, second = two_processes
    listed = flask(environment(shared_database, tmp_path / "second", **shared_store), "classifier", "versions")

    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("* ")  # the second folder sees the version the first trained, active
    assert not (tmp_path / "first" / "models").exists() and not (tmp_path / "second" / "models").exists()
    if shared_store:  # the model is in the bucket, not in the database
        bucket = boto3.client("s3", endpoint_url=shared_store["OBJECT_STORE_ENDPOINT"], **_boto_arguments(shared_store))
        stored = [item["Key"] for item in bucket.list_objects_v2(Bucket="tingjian").get("Contents", [])]
        assert "city/models/manifest.json" in stored
        db = Database(shared_database)
        assert not DatabaseBlobs(db).keys("models/")
        db.dispose()

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


def test_a_voice_note_sent_through_one_process_plays_through_the_other(
    two_processes, shared_database, voices, tmp_path
):
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
        address = f"{second.base}/desk/transcribe/audio/{attachment.id}"
        anonymous = requests.get(address, allow_redirects=False)
        second.login("zhujian")  # agency staff: not the dispatcher centre's voice notes
        refused = second.http.get(address, allow_redirects=False)
        second.http = requests.Session()
        second.login("dispatcher")
        played = second.http.get(address)
    finally:
        db.dispose()

    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert refused.status_code == 403
    assert played.status_code == 200 and played.headers["Content-Type"] == "audio/wav"
    assert played.content == voices["wav"]  # the bytes the deputy sent through the first process
    # Neither process kept anything on its machine: the note is in the shared database.
    assert [path for folder in ("first", "second") for path in (tmp_path / folder).rglob("*")] == []
