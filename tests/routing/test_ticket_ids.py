"""Ticket ids drawn ahead (PostgreSQL): a block at a time, an unused id goes
back for the next ticket, and a forked worker draws its own."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from routing.tickets import TicketIds


@pytest.fixture
def connection(app, database_url: str):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite numbers a ticket by its INSERT")
    with app.extensions["tingjian"].db.engine.connect() as connection:
        yield connection


def next_from_sequence(connection) -> int:
    return connection.scalar(text("SELECT nextval(pg_get_serial_sequence('ticket', 'id'))"))


def test_ids_come_a_block_at_a_time_in_order(connection):
    ids = TicketIds(block=4)
    taken = [ids.take(connection) for _ in range(4)]
    assert taken == list(range(taken[0], taken[0] + 4))
    assert next_from_sequence(connection) == taken[0] + 4  # one draw for the four
    assert ids.take(connection) == taken[0] + 5  # the next block


def test_an_unused_id_is_the_next_one_taken(connection):
    ids = TicketIds(block=4)
    first = ids.take(connection)
    ids.give_back(first)
    assert ids.take(connection) == first
    assert ids.take(connection) == first + 1


def test_a_forked_process_does_not_reuse_its_parents_ids(connection, monkeypatch):
    ids = TicketIds(block=4)
    parent = ids.take(connection)
    monkeypatch.setattr("routing.tickets.os.getpid", lambda: -1)  # now in a child
    child = ids.take(connection)
    assert child > parent + 3
