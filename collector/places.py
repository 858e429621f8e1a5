"""The city's gazetteer (地名库) the place detector reads: the shipped file
with the districts, streets and aliases administrators keep in the database
laid over it.

Built once per process and kept; rebuilt when the gazetteer's version in the
shared table has moved on — checked at most once every ``check_seconds``, so
a change on the console reaches every process on every machine within that
time, and costs a request no more than one read by primary key.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from classifier.place import Gazetteer
from routing.store import gazetteer
from routing.store.db import Database

_UNBUILT = object()
log = logging.getLogger(__name__)


class CityGazetteer:
    def __init__(
        self,
        db: Database,
        shipped: Gazetteer | None = None,
        check_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.shipped = shipped or Gazetteer.load()
        self.check_seconds = check_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._version: object = _UNBUILT
        self._built = self.shipped
        self._checked_at: float | None = None

    def __call__(self) -> Gazetteer:
        at = self.clock()
        if self._checked_at is not None and at - self._checked_at < self.check_seconds:
            return self._built
        with self._lock:
            try:
                with self.db.Session() as session:
                    current = gazetteer.version(session)
                    if current != self._version:
                        self._built = self.shipped.merged(gazetteer.gazetteer_data(session))
                        self._version = current
            except SQLAlchemyError:
                # The database is away: the places known so far still serve,
                # and the readiness check reports the database, not the model.
                log.warning("gazetteer: the database did not answer; keeping the places known", exc_info=True)
            self._checked_at = at
        return self._built

    def invalidate(self) -> None:
        """Look again at the next call: this process has just changed the gazetteer."""
        self._checked_at = None
