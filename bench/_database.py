"""The database a benchmark runs on: the PostgreSQL database DATABASE_URL
names, emptied first (its public schema is dropped), or a new SQLite file."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, text

from routing.store.db import Database


def fresh_database(folder: Path | str) -> str:
    """An empty database's URL (psycopg 3 for PostgreSQL)."""
    url = os.environ.get("DATABASE_URL", "").replace("postgresql://", "postgresql+psycopg://", 1)
    if not url:
        return f"sqlite:///{Path(folder) / 'bench.db'}"
    database = Database(url)
    with database.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    database.dispose()
    return url


def insert_in_batches(connection: Connection, model: Any, rows: Iterable[dict[str, Any]], size: int = 5000) -> None:
    """Insert ``rows`` of ``model`` a batch at a time: one statement each, never all in memory."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            connection.execute(insert(model), batch)
            batch = []
    if batch:
        connection.execute(insert(model), batch)
