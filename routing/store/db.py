"""The database: declarative Base, engine and session factory.

Plain SQLAlchemy, so that intake, the deadline sweep and the CLI run the same
code with or without a Flask application around them.
"""

from __future__ import annotations

import enum
import time
from functools import cached_property
from typing import Any

from sqlalchemy import JSON, Enum, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

# Stable constraint names, so that Alembic migrations read the same on SQLite
# and PostgreSQL and can drop a constraint by name later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON}


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets the settings a multi-threaded web app needs."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # WAL lets readers go on while intake writes; NORMAL sync is safe with WAL.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine)
    return engine


# A pooled connection unused this long is checked before use (the server may
# have restarted or a firewall dropped it); a busy one is not, which saves
# a round trip on every request.
IDLE_BEFORE_PING = 10.0  # seconds
# The largest id an INTEGER column holds: an id read from a request beyond it
# names no row, and asking the database for it would be an error, not a miss.
MAX_INTEGER = 2**31 - 1


def _ping_when_idle(engine: Engine) -> None:
    """Pessimistic disconnect handling, only where it can matter: raising
    DisconnectionError on checkout makes the pool replace the connection."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < IDLE_BEFORE_PING:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("a pooled connection was gone") from exc


class Database:
    """One engine and its sessions: ``session`` is scoped to the current thread
    (a web request); ``Session()`` opens an independent one (jobs, CLI)."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self._engine_kwargs = engine_kwargs
        self.engine = make_engine(url, **engine_kwargs)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)
        self.session: scoped_session[Session] = scoped_session(self.Session)

    @cached_property
    def autocommit(self) -> Engine:
        """An engine whose connections stay in autocommit, with a pool of its
        own: for statements atomic by themselves (the WeChat quick lane's),
        with no BEGIN or COMMIT to wait for and no pooled connection to switch
        into autocommit and back each time."""
        return make_engine(self.url, **self._engine_kwargs, isolation_level="AUTOCOMMIT")

    def remove(self) -> None:
        self.session.remove()

    def dispose(self) -> None:
        self.session.remove()
        self.engine.dispose()
        if "autocommit" in self.__dict__:
            self.autocommit.dispose()


def enum_column(cls: type[enum.Enum]) -> Enum:
    # Store the readable value, and as a plain string column: adding a state
    # later is then a code change, not a database type migration.
    return Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])
