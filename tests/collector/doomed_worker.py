"""A worker process that claims a job and never finishes it (until killed).

Its own module, importing only what a worker needs, so the spawned child
starts quickly."""

from __future__ import annotations

import time

from routing.clock import now
from routing.store.db import Database
from routing.store.jobs import claim


def claim_and_hang(url: str) -> None:
    database = Database(url)
    with database.Session() as session:
        claim(session, "doomed-worker", now())
    time.sleep(60)
