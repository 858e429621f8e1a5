"""The quick lane (快速受理) writes a new ticket with its own INSERT, not
through the ORM, so the model's Python-side defaults do not run there. These
tests hold the lane's column list to the model, so a new ticket column that
the database cannot fill by itself fails here, on any database, instead of
only on PostgreSQL (where the lane is used)."""

from __future__ import annotations

from datetime import datetime

from routing.flow import received
from routing.flow.inbound import Inbound
from routing.store.tickets import Ticket

# Written by the lane under other names: the row's id and number, and its times.
_WRITTEN_APART = {"id", "number", "created_at", "updated_at"}


def test_every_ticket_column_the_database_cannot_fill_is_written_by_the_quick_lane():
    required = {
        column.name
        for column in Ticket.__table__.columns
        if not column.nullable and column.server_default is None and column.name not in _WRITTEN_APART
    }
    missing = required - set(received.TICKET_COLUMNS)
    assert not missing, f"add {sorted(missing)} to routing.flow.received.TICKET_COLUMNS and its values"


def test_the_quick_lane_has_a_value_for_every_column_it_writes():
    values = received._received_values(Inbound(channel="wechat", text="路灯坏了"), datetime(2026, 12, 3, 9), "job")
    assert set(received.TICKET_COLUMNS) <= set(values)


def test_the_quick_lane_writes_only_columns_the_ticket_has():
    assert set(received.TICKET_COLUMNS) <= {column.name for column in Ticket.__table__.columns}
