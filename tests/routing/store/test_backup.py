"""Backups (备份): ``pg_dump -Fc`` of a city's database restored with
``pg_restore`` into an empty database holds every ticket, event and
attachment, bytes and all, and the models. PostgreSQL only.

The empty database is the one ``TINGJIAN_RESTORE_DATABASE`` names (emptied
first), else ``<test database>_restored``, created and dropped here."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from routing.clock import now
from routing.store.blobs import DatabaseBlobs, StoredFile
from routing.store.db import Database
from routing.store.tickets import Attachment, Ticket, TicketEvent

from ...helpers import unavailable


def libpq(url: str) -> str:
    """The URL as pg_dump and pg_restore read it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def empty_database(database_url: str) -> Iterator[str]:
    if not database_url.startswith("postgresql"):
        pytest.skip("pg_dump and pg_restore back up PostgreSQL")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        unavailable("needs pg_dump and pg_restore (apt-get install postgresql-client)")
    source = make_url(database_url)
    given = os.environ.get("TINGJIAN_RESTORE_DATABASE")
    target = source.set(database=given or f"{source.database}_restored")
    server = Database(source.set(database="postgres").render_as_string(hide_password=False))
    if given:
        restored = Database(target.render_as_string(hide_password=False))
        with restored.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        restored.dispose()
    else:
        with server.autocommit.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}"'))
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    yield target.render_as_string(hide_password=False)
    if not given:
        with server.autocommit.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    server.dispose()


def census(url: str) -> dict[str, object]:
    """What a city would miss: its tickets, events, attachments' bytes and stored files."""
    db = Database(url)
    try:
        with db.Session() as session:
            return {
                "tickets": sorted(session.scalars(select(Ticket.number))),
                "events": session.scalar(select(func.count()).select_from(TicketEvent)),
                "attachments": sorted(
                    (row.ticket_id, row.kind, hashlib.sha256(row.data).hexdigest())
                    for row in session.execute(select(Attachment.ticket_id, Attachment.kind, Attachment.data))
                ),
                "stored files": sorted(tuple(row) for row in session.execute(select(StoredFile.key, StoredFile.size))),
            }
    finally:
        db.dispose()


def test_a_restored_dump_holds_every_ticket_event_and_attachment(app, demo, database_url, empty_database, tmp_path):
    db = app.extensions["tingjian"].db
    tickets = demo.scalars(select(Ticket).order_by(Ticket.id).limit(3)).all()
    for i, ticket in enumerate(tickets):
        demo.add(
            Attachment(
                ticket_id=ticket.id,
                kind="voice" if i % 2 else "image",
                content_type="audio/wav",
                data=bytes(range(256)) * (i + 1),
                size=256 * (i + 1),
                created_at=now(),
            )
        )
    demo.commit()
    DatabaseBlobs(db).put("models/manifest.json", b'{"active": null, "versions": {}, "files": {}}', "application/json")
    before = census(database_url)
    assert before["tickets"] and before["events"] and len(before["attachments"]) == 3

    dump = tmp_path / "tingjian.dump"
    subprocess.run(["pg_dump", "-Fc", "--no-owner", "-d", libpq(database_url), "-f", str(dump)], check=True)
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "-d", libpq(empty_database), str(dump)], check=True)

    assert census(empty_database) == before
    assert Path(dump).stat().st_size > 0
