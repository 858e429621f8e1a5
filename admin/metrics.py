"""Prometheus metrics (监控指标): what the requests do, counted as they
happen, and what the database holds — the job queue, overdue tickets,
notices waiting — counted when Prometheus scrapes, with cheap aggregates.

Each app has its own registry, so several apps in one process (the tests)
count apart. Under gunicorn with several workers, set
``PROMETHEUS_MULTIPROC_DIR`` (an empty folder, emptied at each start): the
request counts then go to files there and any worker's ``/metrics`` adds
up all of them.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime

from flask import Flask, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

from routing.reports.overdue import overdue_condition
from routing.store.db import Database
from routing.store.jobs import FAILED, QUEUED, Job
from routing.store.tickets import Ticket

log = logging.getLogger(__name__)

EXTENSION = "tingjian.metrics"
WECHAT_CALLBACK = "wechat.callback"
# WeChat gives up on an answer after five seconds and sends the message again:
# the buckets are fine below that line.
WECHAT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 10.0)
# Notices to residents and deputies are jobs of these kinds.
NOTICE_KINDS = "notify.%"


class DatabaseCollector:
    """Gauges read from the database at scrape time. A database that does not
    answer makes ``tingjian_database_up`` 0, not a failed scrape."""

    def __init__(self, database: Database, clock: Callable[[], datetime]) -> None:
        self.database, self.clock = database, clock

    def describe(self) -> list[Metric]:
        return []  # registering must not query the database

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("tingjian_database_up", "1 when the database answered this scrape's queries.")
        try:
            families = self._read(self.clock())
        except Exception:  # a scrape must answer even when the database does not
            log.warning("metrics: the database did not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self, now: datetime) -> list[Metric]:
        with self.database.Session() as session:
            due = (Job.status == QUEUED) & (Job.run_after <= now)
            waiting = session.execute(select(Job.kind, func.count()).where(due).group_by(Job.kind)).all()
            oldest = session.scalar(select(func.min(Job.run_after)).where(due))
            failed = session.execute(
                select(Job.kind, func.count()).where(Job.status == FAILED).group_by(Job.kind)
            ).all()
            notices = session.scalar(
                select(func.count()).select_from(Job).where(Job.status == QUEUED, Job.kind.like(NOTICE_KINDS))
            )
            overdue = session.scalar(select(func.count()).select_from(Ticket).where(overdue_condition(now)))
        jobs = GaugeMetricFamily("tingjian_jobs_waiting", "Jobs due now and not yet run, by kind.", labels=["kind"])
        for kind, n in waiting:
            jobs.add_metric([kind], n)
        age = GaugeMetricFamily("tingjian_jobs_oldest_due_age_seconds", "How long the longest-waiting due job has waited.")
        age.add_metric([], max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
        failures = GaugeMetricFamily("tingjian_jobs_failed", "Jobs that failed for good, by kind.", labels=["kind"])
        for kind, n in failed:
            failures.add_metric([kind], n)
        late = GaugeMetricFamily("tingjian_tickets_overdue", "Tickets in an agency's hands past a deadline (超期).")
        late.add_metric([], overdue or 0)
        queued = GaugeMetricFamily("tingjian_notifications_waiting", "Notices to residents and deputies not yet delivered.")
        queued.add_metric([], notices or 0)
        return [jobs, age, failures, late, queued]


class Metrics:
    """The app's instruments and how a scrape is answered."""

    def __init__(self, database: Database, clock: Callable[[], datetime]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tingjian_http_requests", "Requests answered, by endpoint (the route, not the path), method and status.",
            ["endpoint", "method", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "tingjian_http_request_duration_seconds", "Time to answer a request, by endpoint.",
            ["endpoint"], registry=self.registry,
        )
        self.wechat = Histogram(
            "tingjian_wechat_ack_seconds", "Time to acknowledge a WeChat callback (WeChat retries after 5 s).",
            buckets=WECHAT_BUCKETS, registry=self.registry,
        )
        self.database = DatabaseCollector(database, clock)
        self.registry.register(self.database)

    def observe(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, method, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)
        if endpoint == WECHAT_CALLBACK:
            self.wechat.observe(seconds)

    def exposition(self) -> bytes:
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            return generate_latest(self.registry)
        # Every worker's counts, from their files, and the gauges read once, here.
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        registry.register(self.database)
        return generate_latest(registry)


def init_app(app: Flask, database: Database, clock: Callable[[], datetime]) -> Metrics:
    metrics = Metrics(database, clock)
    app.extensions[EXTENSION] = metrics

    def _start() -> None:
        g.metrics_started = time.perf_counter()

    # First of all the before-request functions, so the time counts theirs too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)

    @app.after_request
    def _count(response):
        started = g.pop("metrics_started", None)
        if started is not None:
            metrics.observe(request.endpoint or "unmatched", request.method, response.status_code,
                            time.perf_counter() - started)
        return response

    return metrics


def metrics_of(app: Flask) -> Metrics:
    return app.extensions[EXTENSION]
