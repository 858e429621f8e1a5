"""What a request needs from the running application: the database and the
classifier, set up once by ``admin.create_app``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy.orm import Session

from classifier import LiveClassifier
from routing.flow.inbound import Labels
from routing.flow.received import TicketIds
from routing.store.db import Database
from routing.store.jobs import Registry
from routing.store.workers import Worker

from .intake import read

EXTENSION = "tingjian"


@dataclass
class Services:
    db: Database
    classifier: LiveClassifier
    threshold: float
    # Confidence above which the learned agency is trusted over the routing rules.
    agency_threshold: float = 0.8
    jobs: Registry = field(default_factory=Registry)
    # The in-process worker of the embedded default; None where separate
    # worker processes run the jobs.
    worker: Worker | None = None
    # Ticket ids drawn ahead for WeChat's new matters (PostgreSQL).
    ticket_ids: TicketIds = field(default_factory=TicketIds)

    def reader(self) -> Callable[[str, str | None], Labels]:
        """Text and location in, routing's labels out, with the active model."""
        classifier = self.classifier.current()
        return lambda text, location: read(classifier, text, location, self.threshold, self.agency_threshold)

    def wake_worker(self) -> None:
        if self.worker is not None:
            self.worker.wake.set()


def install(app: Flask, services: Services) -> None:
    app.extensions[EXTENSION] = services

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        services.db.remove()


def services() -> Services:
    return current_app.extensions[EXTENSION]


def db_session() -> Session:
    """The request's session (removed when the request ends)."""
    return services().db.session()
