"""Answering within WeChat's five seconds (即时答复): a repeated delivery, and a
resident's new matter, are answered on one connection in a few statements,
without the ORM; everything else goes to ``intake.receive``. The new
matter's ticket is numbered at once and read by the classifier in a job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import DateTime, Select, String, bindparam, exists, literal, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased

from routing.flow.received import Received, open_received, received_values, received_when
from routing.store.deputies import Deputy
from routing.store.tickets import Message, Status, Ticket

from ..intake import CLASSIFY
from .delivery import CHANNEL, Outcome, Settings, delivery_key, inbound_of, matter_reply, new_matter_text, repeated


def answer_at_once(connection: Connection, msg: Any, now: datetime, settings: Settings) -> Outcome | None:
    """The answer, where it needs neither the ORM nor the classifier: a
    repeated delivery gets its first reply; a fresh sender's new matter in
    text is stored (``open_received``). None where the general path must
    decide. On PostgreSQL the asking and the storing are one statement on
    ``connection`` (autocommit will do); on SQLite the caller commits."""
    key = delivery_key(msg)
    text = new_matter_text(msg)
    if text is not None and connection.dialect.name == "postgresql":
        return _new_matter_at_once(connection, msg, key, text, now, settings)
    probe = _probe(connection, key, msg.source, now - settings.window, text is not None)
    if probe.stored is not None:
        return repeated(None, probe.stored)
    if text is not None and probe.fresh:
        return _quick_matter(connection, msg, key, text, now, settings)
    return None


@contextmanager
def statements(session: Session) -> Iterator[Connection]:
    """Where ``answer_at_once`` runs. On PostgreSQL, a connection of its own
    in autocommit: its one statement is atomic by itself, so neither BEGIN
    nor COMMIT costs a round trip. On SQLite, the session's own transaction,
    which the caller commits."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        yield session.connection()
        return
    with bind.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


@dataclass(frozen=True)
class Probe:
    """What one query tells before a message is handled."""

    stored: tuple[dict[str, Any], int | None] | None  # the first delivery's payload and ticket
    fresh: bool  # the sender has no current matter and is no bound deputy


def _probe(connection: Connection, key: str, sender: str, since: datetime, new_matter: bool) -> Probe:
    """One round trip: was this delivery stored already, and — for a text
    that would open a new matter — could anything make it more than that: a
    message of the sender's within the window (a join, or 新问题), a ticket
    waiting on them (待补充), or a deputy's bound account."""
    row = connection.execute(_probe_statement(new_matter), {"key": key, "sender": sender, "since": since}).one()
    payload, ticket_id = row[0], row[1]
    if payload is not None:
        return Probe((payload, ticket_id), False)
    return Probe(None, new_matter and not row[2])


@lru_cache(maxsize=2)
def _probe_statement(new_matter: bool) -> Select:
    """Built once per shape: building a statement costs more than running it.

    The first delivery, if any, is outer-joined to a one-row anchor, so that
    the row comes back either way; the sender's state is three EXISTS on
    indexed columns."""
    first = aliased(Message, name="first")
    anchor = select(literal(1).label("one")).subquery("anchor")
    columns = [first.payload.label("payload"), first.ticket_id.label("ticket_id")]
    if new_matter:
        theirs = (Message.channel == CHANNEL) & (Message.sender == bindparam("sender", type_=String))
        busy = or_(
            exists().where(theirs, Message.received_at >= bindparam("since", type_=DateTime)),
            exists().where(theirs, Message.ticket_id == Ticket.id, Ticket.status == Status.WAITING),
            exists().where(Deputy.wechat_openid == bindparam("sender", type_=String)),
        )
        columns.append(busy.label("busy"))
    # The sender too, though the key alone finds the delivery: whichever of
    # the two indexes the planner takes — and on statistics gathered before
    # the channel had messages it took the sender's — only the sender's own
    # messages are read, never all the channel's. A retry comes from the
    # same sender; were a key ever reused by another, the INSERT's unique
    # constraint would still refuse it.
    same_delivery = (
        (first.channel == CHANNEL)
        & (first.sender == bindparam("sender", type_=String))
        & (first.external_id == bindparam("key", type_=String))
    )
    return select(*columns).select_from(anchor.outerjoin(first, same_delivery))


@lru_cache(maxsize=1)
def _new_matter_statement() -> Select:
    """The probe and ``open_received``'s INSERTs in one statement: the rows
    are written only for an unstored message from a fresh sender.
    MATERIALIZED: the probe runs once, not again in each INSERT."""
    answers = _probe_statement(True).cte("answers").prefix_with("MATERIALIZED", dialect="postgresql")
    return received_when(answers, answers.c.payload.is_(None) & ~answers.c.busy)


def _new_matter_at_once(
    connection: Connection, msg: Any, key: str, text: str, now: datetime, settings: Settings
) -> Outcome | None:
    """A text that opens a new matter unless the sender has a current one
    (PostgreSQL). The ticket's id is drawn before, so that the reply naming
    its number is stored with the message in the same statement; an id
    certainly not used goes back."""
    ids = settings.ticket_ids
    ticket_id = ids.take(connection)
    try:
        received, values = received_values(
            inbound_of(msg, key, text), now, CLASSIFY, _new_matter_reply(msg, text, settings), ticket_id
        )
    except BaseException:
        ids.give_back(ticket_id)  # nothing was sent
        raise
    try:
        row = connection.execute(
            _new_matter_statement(), values | {"key": key, "sender": msg.source, "since": now - settings.window}
        ).one()
    except BaseException as failure:
        # Once sent, the statement may have committed though its answer was lost.
        ids.failed(ticket_id, failure)
        raise
    payload, stored_ticket, busy = row
    if payload is not None or busy:
        ids.give_back(ticket_id)
        return repeated(None, (payload, stored_ticket)) if payload is not None else None
    return Outcome(values["payload"]["reply"], received.id, created=True, jobs=[CLASSIFY])


def _quick_matter(connection: Connection, msg: Any, key: str, text: str, now: datetime, settings: Settings) -> Outcome:
    """A new matter from a sender with none current (SQLite): the ticket, its
    message with the reply, its 'create' event and its classify job in plain
    INSERTs (what ``_matter`` does through the ORM for this case)."""
    reply = _new_matter_reply(msg, text, settings)
    received = open_received(connection, inbound_of(msg, key, text), now, CLASSIFY, reply)
    return Outcome(reply(received), received.id, created=True, jobs=[CLASSIFY])


def _new_matter_reply(msg: Any, text: str, settings: Settings) -> Callable[[Received], str]:
    """The reply to a new matter, once its ticket is numbered."""
    return lambda ticket: matter_reply(ticket, True, msg.type, text, settings)
