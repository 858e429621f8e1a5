"""The operators' guide, *From an empty PostgreSQL to a working city*, followed
as written: its commands, in its order, against an empty database, in
production mode; then the administrator it made logs in and makes the first
account (step 5), who must choose a password at the first login."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from routing.store.db import Database

from .test_two_processes import CSRF, ROOT, free_port

GUIDE = ROOT / "docs" / "operators.md"
# The guide's commands, in its order (the code block after step 8): the guide
# must say exactly these, and this test runs exactly these.
COMMANDS = [
    "flask --app admin setup",
    "flask --app admin classifier index-matters",
    "flask --app admin classifier train",
    "gunicorn -w 3 --threads 4 -b 0.0.0.0:8000 'admin:create_app()'",
    "nice -n 10 flask --app admin jobs work",
]
ADMIN_PASSWORD = "Qiantang-river-88"
TEMPORARY = re.compile(r"<code>([^<]+)</code>")


def documented_commands() -> list[str]:
    """The commands of the shell block that follows the walkthrough's step 8, comments left out."""
    section = GUIDE.read_text(encoding="utf-8").split("### From an empty PostgreSQL to a working city", 1)[1]
    block = section.split("8. **Serve**", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.splitlines():
        command = line.split("  #", 1)[0].strip()
        if command and not command.startswith("#"):
            commands.append(command)
    return commands


def test_the_guide_says_exactly_the_commands_this_test_runs():
    assert documented_commands() == COMMANDS


@pytest.fixture
def empty_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it: a new SQLite file, or on the suite's
    PostgreSQL a schema of its own (the walkthrough's tables never meet the suite's)."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'city.db'}"
        return
    admin = Database(database_url)
    with admin.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS walkthrough CASCADE"))
        connection.execute(text("CREATE SCHEMA walkthrough"))
    yield database_url + ("&" if "?" in database_url else "?") + "options=-csearch_path%3Dwalkthrough"
    with admin.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA walkthrough CASCADE"))
    admin.dispose()


def production(database_url: str, instance: Path, **settings: str) -> dict[str, str]:
    """Step 3's settings: production mode, the one database, no MODEL_DIR. One
    test machine has no shared rate-limit store, so it says it is one process."""
    env = {k: v for k, v in os.environ.items() if k not in ("MODEL_DIR", "DATABASE_URL", "SECRET_KEY")}
    return (
        env
        | {
            "TINGJIAN_ENV": "production",
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(instance),
            "PYTHONPATH": str(ROOT),
            "FLASK_APP": "admin",
        }
        | settings
    )


def run(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        shlex.split(command), check=False, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def serve(command: str, env: dict[str, str], port: int) -> subprocess.Popen:
    words = shlex.split(command)
    if "-b" in words:  # the guide's address, on a port free on this machine
        words[words.index("-b") + 1] = f"127.0.0.1:{port}"
    return subprocess.Popen(words, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until_ready(base: str) -> requests.Response:
    for _ in range(900):
        try:
            return requests.get(base + "/readyz", timeout=60)  # a worker's first answer loads the model
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise AssertionError("gunicorn did not start")


def login(http: requests.Session, base: str, username: str, password: str) -> requests.Response:
    token = CSRF.search(http.get(base + "/login").text).group(1)
    return http.post(
        base + "/login",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
    )


def test_production_refuses_to_start_on_single_machine_defaults(empty_database, tmp_path):
    refused = run(
        COMMANDS[0], production(empty_database, tmp_path / "instance", TINGJIAN_ADMIN_PASSWORD=ADMIN_PASSWORD)
    )

    assert refused.returncode != 0
    assert "SECRET_KEY 未设置" in refused.stderr and "RATELIMIT_STORAGE_URI 是 memory://" in refused.stderr
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_the_guide_takes_an_empty_database_to_a_city_its_administrator_staffs(empty_database, tmp_path):
    env = production(
        empty_database,
        tmp_path / "instance",
        SECRET_KEY="a-secret-every-machine-shares",
        RATELIMIT_SINGLE_PROCESS="1",
        TINGJIAN_ADMIN_PASSWORD=ADMIN_PASSWORD,
    )
    setup, index, train, web, worker = COMMANDS
    for command in (setup, index, train):
        done = run(command, env)
        assert done.returncode == 0, f"{command}: {done.stderr}"
        assert ADMIN_PASSWORD not in done.stdout + done.stderr
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    processes = [serve(web, env, port), serve(worker, env, port)]
    try:
        assert wait_until_ready(base).status_code == 200  # schema current, a model loaded

        administrator = requests.Session()
        assert login(administrator, base, "admin", ADMIN_PASSWORD).headers["Location"].endswith("/home")
        page = administrator.get(base + "/admin/accounts/").text
        created = administrator.post(
            base + "/admin/accounts/",
            data={
                "username": "li",
                "display_name": "李分拨",
                "role": "dispatcher",
                "agency": "",
                "mobile": "",
                "csrf_token": CSRF.search(page).group(1),
            },
        )
        assert created.status_code == 200, created.text[:500]
        temporary = TEMPORARY.search(created.text).group(1)

        dispatcher = requests.Session()
        assert login(dispatcher, base, "li", temporary).headers["Location"].endswith("/account/password")
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=60)
    assert not (tmp_path / "instance" / "models").exists()  # the model is in the database
