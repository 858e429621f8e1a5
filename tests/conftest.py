"""Fixtures: an app on a fresh database, a client, a CLI runner, logins.

The database is SQLite in a temporary folder, or the PostgreSQL server named
by ``DATABASE_URL`` (CI runs the suite on both). The schema is built once per
run by the Alembic migrations — the same path production takes — and every
test starts from empty tables.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from admin import create_app
from admin.demo import DEMO_PASSWORD, load_demo
from classifier import ModelStore, TopicModel, shipped_corpus
from routing.store.db import Base, Database
from routing.store.migrate import upgrade

from .helpers import unavailable

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        database = Database(url)
        with database.engine.begin() as connection:
            # A dedicated test database: start from nothing, as a fresh install does.
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        database.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model store with the default model trained once for the whole run."""
    path = tmp_path_factory.mktemp("models")
    corpus = shipped_corpus()
    # Without routing thresholds (as a model stored before them): the suite's
    # tickets are decided at the fixed CLASSIFIER_THRESHOLD, and training is
    # three times faster. tests/collector/test_routing_precision.py covers the thresholds.
    model = TopicModel.train(corpus.texts, corpus.labels, source="shipped corpus", routing_folds=0)
    ModelStore(path).save(model)
    return path


@pytest.fixture
def app_config() -> dict:
    """Extra settings for the app; a test module overrides this to configure a channel."""
    return {}


def make_app(database_url: str, model_dir: Path, config: dict) -> Flask:
    """The app the suite runs, on the test database, with ``config`` on top."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "MODEL_DIR": str(model_dir),
            "SERVER_NAME": "tingjian.test",
            "JOBS_IN_PROCESS": False,
            # The suite serves one process, whatever the shell running it says.
            "TINGJIAN_ENV": "development",
            # Nor does the wall clock: SMS sent at 22:17 in CI waited for 08:00.
            # A test of quiet hours sets them, and the time it runs the outbox at.
            "SMS_QUIET_HOURS": "",
            **config,
        }
    )


def empty_tables(app: Flask) -> None:
    """Every table emptied, the app's connections closed: the next test starts from nothing."""
    db = app.extensions["tingjian"].db
    db.remove()
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # The access log refuses DELETE but for a purge (migration 0032_privacy).
            connection.exec_driver_sql("SET LOCAL tingjian.purge = 'on'")
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    db.dispose()


@pytest.fixture
def app(database_url: str, model_dir: Path, app_config: dict) -> Iterator[Flask]:
    app = make_app(database_url, model_dir, app_config)
    yield app
    empty_tables(app)


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session of its own, as a job or the CLI would have."""
    s = app.extensions["tingjian"].db.Session()
    yield s
    s.close()


@pytest.fixture
def demo(app: Flask, session: Session, model_dir: Path) -> Session:
    """The demo data, as `flask --app admin demo` loads it."""
    load_demo(session, ModelStore(model_dir), threshold=app.config["CLASSIFIER_THRESHOLD"])
    return session


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


def csrf_token(client: FlaskClient, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    match = CSRF.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def post_form(client: FlaskClient, url: str, data: dict, *, page: str | None = None, **kwargs):
    """Post a form as a browser does: with the CSRF token from the page it is on."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client, page or url)}, **kwargs)


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, username: str, password: str = DEMO_PASSWORD):
        return post_form(self.client, "/login", {"username": username, "password": password})

    def logout(self):
        return post_form(self.client, "/logout", {}, page="/")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


# -- voice notes ----------------------------------------------------------------


@pytest.fixture(scope="session")
def voices(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Mandarin speech (espeak-ng) in the formats phones and browsers record,
    made once per run. AMR cannot be encoded by Debian's ffmpeg: it is built
    from silent 12.2 kbit/s frames, which ffprobe and ffmpeg read as AMR does."""
    import shutil
    import subprocess

    if not (shutil.which("espeak-ng") and shutil.which("ffmpeg") and shutil.which("ffprobe")):
        unavailable("needs espeak-ng and ffmpeg (apt-get install espeak-ng ffmpeg)")
    folder = tmp_path_factory.mktemp("voices")
    wav = folder / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "cmn", "-w", str(wav), "西湖区文新街道路灯坏了"], check=True)
    samples = {"wav": wav.read_bytes()}
    for ext in ("mp3", "m4a", "webm", "ogg"):
        out = folder / f"speech.{ext}"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), str(out)], check=True)
        samples[ext] = out.read_bytes()
    samples["amr"] = b"#!AMR\n" + (b"\x3c" + bytes(31)) * 150  # three seconds
    return samples
