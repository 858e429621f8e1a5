"""Ticket ids drawn ahead (PostgreSQL): a block at a time, an unused id goes
back for the next ticket — only where it is certain to be unused — and a
forked worker draws its own."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from routing.flow.received import TicketIds, unused_after


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
    monkeypatch.setattr("routing.flow.received.os.getpid", lambda: -1)  # now in a child
    child = ids.take(connection)
    assert child > parent + 3


def refused(kind, constraint: str | None = None, **kwargs):
    """An error as SQLAlchemy raises it, the driver's with the constraint it names."""
    orig = Exception("refused")
    orig.diag = SimpleNamespace(constraint_name=constraint)
    return kind("INSERT …", {}, orig, **kwargs)


@pytest.mark.parametrize(
    "failure",
    [
        refused(IntegrityError, "uq_message_channel_external_id"),  # the same delivery, stored by a twin
        refused(DataError),  # the server refused a value: nothing was written
    ],
)
def test_an_id_the_server_refused_goes_back(failure):
    assert unused_after(failure)


@pytest.mark.parametrize(
    "failure",
    [
        refused(OperationalError, connection_invalidated=True),  # the connection died: committed or not, unknown
        refused(OperationalError),  # the server's own trouble, mid-way
        refused(IntegrityError, "pk_ticket"),  # a ticket holds the id already
        refused(DataError, connection_invalidated=True),
        TimeoutError(),  # raised while waiting for the answer
    ],
)
def test_an_id_whose_fate_is_unknown_or_that_is_taken_never_goes_back(failure):
    assert not unused_after(failure)


def test_a_failed_statement_gives_its_id_back_only_when_certainly_unused(connection):
    ids = TicketIds(block=4)
    first = ids.take(connection)
    ids.failed(first, refused(IntegrityError, "uq_message_channel_external_id"))
    assert ids.take(connection) == first
    ids.failed(first, refused(OperationalError, connection_invalidated=True))
    assert ids.take(connection) == first + 1
