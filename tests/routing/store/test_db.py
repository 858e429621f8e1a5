"""The connection pool: a connection lost while idle is replaced before use,
without a ping on every request."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from routing.store import db as db_module
from routing.store.db import Database


@pytest.fixture
def database(database_url: str):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server connection to lose")
    database = Database(database_url, pool_size=1, max_overflow=0)
    yield database
    database.dispose()


def statements(database: Database) -> list[str]:
    seen: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_a_busy_connection_is_used_without_a_ping(database):
    with database.engine.connect() as connection:
        connection.scalar(text("SELECT 1"))
    seen = statements(database)
    with database.engine.connect() as connection:
        assert connection.scalar(text("SELECT 2")) == 2
    assert seen == ["SELECT 2"]


def test_a_connection_killed_while_idle_is_replaced_before_use(database, monkeypatch):
    with database.engine.connect() as connection:
        first = connection.scalar(text("SELECT pg_backend_pid()"))
    admin = Database(database.url)
    with admin.engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    admin.dispose()
    monkeypatch.setattr(db_module, "IDLE_BEFORE_PING", 0.0)
    with database.engine.connect() as connection:
        # The dead connection was found on checkout, not by this query failing.
        assert connection.scalar(text("SELECT pg_backend_pid()")) != first


def test_the_autocommit_engine_keeps_each_statement_without_a_commit(database):
    with database.autocommit.connect() as connection:
        connection.execute(text("CREATE TABLE kept_alone (n integer)"))
        connection.execute(text("INSERT INTO kept_alone VALUES (1)"))
        # Never committed, and still there for another connection.
        with database.engine.connect() as other:
            assert other.scalar(text("SELECT n FROM kept_alone")) == 1
    with database.engine.begin() as connection:
        connection.execute(text("DROP TABLE kept_alone"))
    # The ordinary engine's connections are not left in autocommit.
    with database.engine.connect() as connection:
        connection.execute(text("CREATE TABLE rolled_back (n integer)"))
        connection.rollback()
        assert connection.scalar(text("SELECT to_regclass('rolled_back')")) is None
