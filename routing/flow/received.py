"""The quick lane (快速受理): a WeChat new matter numbered and stored in a few
statements within WeChat's five seconds, read by the classifier in a job
afterwards. On PostgreSQL ticket ids are drawn ahead in blocks; an id whose
fate is unknown is never given back.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, cast, insert, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError

from routing.flow import steps
from routing.flow.inbound import Inbound, new_code, number_of
from routing.store.jobs import MAX_ATTEMPTS, QUEUED, Job
from routing.store.privacy import confidential_by_rule
from routing.store.tickets import Kind, Message, Status, Ticket, TicketEvent, Urgency


@dataclass(frozen=True)
class Received:
    """A ticket just opened by ``open_received``: what its acknowledgement names."""

    id: int
    number: str
    code: str


def open_received(
    connection: Connection, inbound: Inbound, now: datetime, job: str, reply: Callable[[Received], str]
) -> Received:
    """``open_ticket`` without labels, plus its ``job``, in a few plain
    INSERTs: the busy channel's common case (a new matter in text) without
    the ORM's unit of work. The message is stored with ``reply`` (built from
    the number and code), the ticket's timeline starts with its 'create'
    event, and the job that reads it is stored with them. The ticket's own
    INSERT gives its id and its number is set after; the caller commits the
    transaction ``connection`` is in. Where the id is drawn ahead
    (``TicketIds``), ``received_when`` writes all four in one statement."""
    values = _received_values(inbound, now, job)
    ticket_id = connection.execute(_RECEIVED.ticket, values).inserted_primary_key[0]
    received = Received(ticket_id, number_of(now, ticket_id), values["code"])
    values |= _numbered(received, inbound, reply)
    for statement in _RECEIVED.after_ticket:
        connection.execute(statement, values)
    return received


def received_values(
    inbound: Inbound, now: datetime, job: str, reply: Callable[[Received], str], ticket_id: int
) -> tuple[Received, dict[str, Any]]:
    """The new ticket ``ticket_id`` and the parameters of ``received_when``'s
    statement that writes it, its message (with ``reply``), event and job."""
    values = _received_values(inbound, now, job)
    received = Received(ticket_id, number_of(now, ticket_id), values["code"])
    return received, values | _numbered(received, inbound, reply)


def received_when(guard: Any, fresh: Any) -> Any:
    """``open_received``'s four INSERTs, each written only where ``fresh``
    holds on the one row of ``guard`` (a CTE): one statement that asks and
    writes, and returns ``guard``'s row. Its parameters are ``guard``'s and
    ``received_values``'."""
    return select(*guard.c).add_cte(*(
        statement.from_select(list(values), select(*values.values()).select_from(guard).where(fresh)).cte(name)
        for name, statement, values in _RECEIVED.rows
    ))


def _received_values(inbound: Inbound, now: datetime, job: str) -> dict[str, Any]:
    return {
        "code": new_code(), "status": Status.RECEIVED, "kind": Kind.COMPLAINT, "urgency": Urgency.NORMAL,
        "channel": inbound.channel, "text": inbound.text, "contact_name": inbound.contact.name,
        "contact_phone": inbound.contact.phone, "sms_notice": inbound.contact.sms_notice,
        "location_text": inbound.location.text,
        "latitude": inbound.location.latitude, "longitude": inbound.location.longitude,
        "confidential": inbound.contact.confidential or confidential_by_rule(None, inbound.text),
        "at": now, "version": 1, "dispute_rejected": False, "redo_count": 0, "anonymised_at": None, "external_id": inbound.external_id, "sender": inbound.sender,
        "actor": steps.actor_label(None), "action": "create", "to_status": Status.RECEIVED.value,
        "event_detail": {"channel": inbound.channel, "prediction": None},
        "job_kind": job, "job_status": QUEUED, "attempts": 0, "max_attempts": MAX_ATTEMPTS,
    }


def _numbered(received: Received, inbound: Inbound, reply: Callable[[Received], str]) -> dict[str, Any]:
    return {
        "ticket_id": received.id, "number": received.number,
        "payload": {"text": inbound.text, **inbound.payload, "reply": reply(received)},
        "job_payload": {"ticket_id": received.id},
    }


class TicketIds:
    """Ticket ids drawn ahead from the table's sequence (PostgreSQL), a few
    at a time, so that a new ticket's number — and the reply that names it —
    is known before the one statement that stores it. An id whose ticket was
    certainly not written (a retry, a join, an error the server answered)
    goes back for the next ticket, so numbers are not spent on them; an id
    whose fate is unknown (``unused_after``) is skipped, as are the ids a
    process holds when it stops, as a rolled-back INSERT skips one.
    Thread-safe; a process forked from this one (gunicorn's workers) draws
    its own."""

    def __init__(self, block: int = 32) -> None:
        self.block = block
        self._ids: deque[int] = deque()
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def take(self, connection: Connection) -> int:
        with self._lock:
            if self._pid != os.getpid():
                self._ids.clear()
                self._pid = os.getpid()
            if not self._ids:
                self._ids.extend(connection.scalars(_DRAW_IDS, {"block": self.block}))
            return self._ids.popleft()

    def give_back(self, ticket_id: int) -> None:
        """For an id certainly not used: the next ticket takes it first."""
        with self._lock:
            self._ids.appendleft(ticket_id)

    def failed(self, ticket_id: int, failure: BaseException) -> None:
        """The statement that was to write ``ticket_id`` raised ``failure``:
        the id goes back only where ``failure`` proves it unused. Given back
        after a commit whose answer was lost, it would be taken again and
        again, each time refused as a duplicate key."""
        if unused_after(failure):
            self.give_back(ticket_id)


def unused_after(failure: BaseException) -> bool:
    """Whether a statement that raised ``failure`` certainly wrote no ticket
    with its id: the server answered with an error, so the statement rolled
    back (in autocommit by itself, in a transaction with it) — unless the
    error says that id is taken already. A lost connection, an
    OperationalError or anything raised while waiting for the answer leaves
    unknown whether the statement committed."""
    if not isinstance(failure, DBAPIError) or isinstance(failure, OperationalError):
        return False
    if failure.connection_invalidated:
        return False
    diag = getattr(failure.orig, "diag", None)
    return getattr(diag, "constraint_name", None) != Ticket.__table__.primary_key.name


_DRAW_IDS = sql_text("SELECT nextval(pg_get_serial_sequence('ticket', 'id')) FROM generate_series(1, :block)")


# The ticket's columns the quick lane writes itself (besides its id, number
# and times). A NOT NULL column without a server default must be here: the
# lane's INSERT does not run the ORM's Python-side defaults.
TICKET_COLUMNS = (
    "code", "status", "kind", "urgency", "channel", "text", "contact_name", "contact_phone", "sms_notice",
    "location_text", "latitude", "longitude", "version", "dispute_rejected", "redo_count", "confidential",
    "anonymised_at",
)


class _ReceivedStatements:
    """``open_received``'s statements, built once: a statement built per
    call costs more to build and to look up than to run."""

    def __init__(self) -> None:
        tickets = Ticket.__table__

        def bind(table: Any, names: dict[str, str]) -> dict[str, Any]:
            return {column: bindparam(name, type_=table.c[column].type) for column, name in names.items()}

        ticket_columns = {name: name for name in TICKET_COLUMNS} | {"created_at": "at", "updated_at": "at"}
        numbered_columns = bind(tickets, ticket_columns | {"id": "ticket_id", "number": "number"})
        message_columns = bind(Message.__table__, {
            "ticket_id": "ticket_id", "channel": "channel", "external_id": "external_id", "sender": "sender",
            "payload": "payload", "received_at": "at",
        })
        event_columns = bind(TicketEvent.__table__, {
            "ticket_id": "ticket_id", "at": "at", "actor": "actor", "action": "action", "to_status": "to_status",
            "detail": "event_detail",
        })
        job_columns = bind(Job.__table__, {
            "kind": "job_kind", "payload": "job_payload", "status": "job_status", "attempts": "attempts",
            "max_attempts": "max_attempts", "run_after": "at", "created_at": "at",
        })
        self.ticket = insert(tickets).values(bind(tickets, ticket_columns))
        number = update(tickets).where(tickets.c.id == bindparam("ticket_id")).values(number=bindparam("number"))
        message = insert(Message.__table__).values(message_columns)
        event = insert(TicketEvent.__table__).values(event_columns)
        job = insert(Job.__table__).values(job_columns)
        self.after_ticket = [number, message, event, job]
        # For ``received_when``: sibling data-modifying CTEs, one round trip
        # (the foreign keys are checked at the end of the statement, when the
        # ticket is there). For INSERT … SELECT, numbers and the like cast to their column's
        # type: in a select list PostgreSQL reads an untyped parameter as
        # text. Not strings: a cast to VARCHAR(n) would cut an over-long
        # value where the INSERT must refuse it.
        def typed(value: Any) -> Any:
            return value if isinstance(value.type, String) else cast(value, value.type)

        self.rows = [
            (name, insert(table), {column: typed(value) for column, value in columns.items()})
            for name, table, columns in (
                ("t", tickets, numbered_columns),
                ("m", Message.__table__, message_columns),
                ("e", TicketEvent.__table__, event_columns),
                ("j", Job.__table__, job_columns),
            )
        ]


_RECEIVED = _ReceivedStatements()
