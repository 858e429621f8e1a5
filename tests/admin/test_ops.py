"""What the load balancer and Prometheus ask: /healthz, /readyz, /metrics."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from admin import create_app
from routing.clock import now
from routing.store.jobs import FAILED, Job, enqueue

from ..helpers import ticket
from .test_flow import submit_on_the_station_page

TOKEN = "scrape-me-7f3a"


def samples(response) -> dict[tuple[str, tuple], float]:
    """The scrape as {(sample name, sorted labels): value}."""
    assert response.status_code == 200, response.data
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
    }


def test_healthz_says_ok_without_a_login(client):
    response = client.get("/healthz")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "ok")


def test_readyz_is_ready_with_the_database_at_head_and_a_model(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "checks": {"database": "ok", "migrations": "ok", "model": "ok"}, "failed": []}


@pytest.fixture
def fresh_app(tmp_path):
    """An app deployed before ``setup`` ran: an empty database, no model."""
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
                      "MODEL_DIR": str(tmp_path / "models"), "JOBS_IN_PROCESS": False})
    yield app
    app.extensions["tingjian"].db.dispose()


def test_readyz_names_the_checks_that_failed(fresh_app):
    response = fresh_app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "not ready" and response.json["failed"] == ["migrations", "model"]
    assert response.json["checks"]["database"] == "ok"
    assert "database at none" in response.json["checks"]["migrations"]


def test_readyz_says_the_database_failed_without_its_message(tmp_path, model_dir):
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "MODEL_DIR": str(model_dir), "JOBS_IN_PROCESS": False,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'missing' / 'folder' / 'city.db'}"})
    response = app.test_client().get("/readyz")
    app.extensions["tingjian"].db.dispose()
    assert response.status_code == 503 and response.json["failed"] == ["database", "migrations"]
    assert response.json["checks"]["database"] == "failed: OperationalError"
    assert response.json["checks"]["migrations"] == "skipped"
    assert "missing" not in response.get_data(as_text=True)


def test_metrics_count_requests_by_route_and_status_and_time_them(client):
    for _ in range(2):
        client.get("/healthz")
    client.get("/no-such-page")
    client.get("/status/12345")  # a route with a parameter counts as its endpoint, not its path
    client.post("/wechat")  # not configured here: still the callback's answer, timed
    scrape = samples(client.get("/metrics"))
    requests = {labels: v for (name, labels), v in scrape.items() if name == "tingjian_http_requests_total"}
    assert requests[(("endpoint", "ops.healthz"), ("method", "GET"), ("status", "200"))] == 2
    assert requests[(("endpoint", "unmatched"), ("method", "GET"), ("status", "404"))] == 1
    assert {dict(labels)["endpoint"] for labels in requests} >= {"station.status", "wechat.callback"}
    assert not any("12345" in dict(labels)["endpoint"] for labels in requests)
    assert scrape[("tingjian_http_request_duration_seconds_count", (("endpoint", "ops.healthz"),))] == 2
    assert scrape[("tingjian_wechat_ack_seconds_count", ())] == 1
    assert scrape[("tingjian_wechat_ack_seconds_bucket", (("le", "5.0"),))] == 1


def test_metrics_read_the_queue_from_the_database_at_scrape_time(client, session):
    assert samples(client.get("/metrics"))[("tingjian_notifications_waiting", ())] == 0
    moment = now()
    enqueue(session, "notify.resident", {"ticket_id": 1}, moment - timedelta(minutes=10))
    enqueue(session, "notify.deputy", {"ticket_id": 1}, moment, delay=timedelta(hours=1))  # a retry, later
    enqueue(session, "sweep", {}, moment - timedelta(minutes=1))
    failed = enqueue(session, "media.fetch", {}, moment - timedelta(days=1))
    failed.status = FAILED
    session.commit()
    scrape = samples(client.get("/metrics"))
    assert scrape[("tingjian_database_up", ())] == 1
    assert scrape[("tingjian_jobs_waiting", (("kind", "notify.resident"),))] == 1
    assert scrape[("tingjian_jobs_waiting", (("kind", "sweep"),))] == 1
    assert ("tingjian_jobs_waiting", (("kind", "notify.deputy"),)) not in scrape  # not due yet
    assert scrape[("tingjian_jobs_oldest_due_age_seconds", ())] >= 600
    assert scrape[("tingjian_jobs_failed", (("kind", "media.fetch"),))] == 1
    assert scrape[("tingjian_notifications_waiting", ())] == 2
    assert session.query(Job).count() == 4  # scraping changed nothing


def test_metrics_count_overdue_tickets(client, demo):
    before = samples(client.get("/metrics"))[("tingjian_tickets_overdue", ())]
    number, _ = submit_on_the_station_page(client, demo)
    late = ticket(demo, number)
    late.accept_by = now() - timedelta(days=3)
    demo.commit()
    assert samples(client.get("/metrics"))[("tingjian_tickets_overdue", ())] == before + 1


def test_without_a_token_only_this_machine_may_scrape(client):
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_overrides={"REMOTE_ADDR": "10.0.0.7"}).status_code == 403
    # A reverse proxy on this machine forwards outside requests from 127.0.0.1.
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403


@pytest.mark.parametrize("app_config", [{"METRICS_TOKEN": TOKEN}])
def test_with_a_token_every_scrape_needs_it(client):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"},
                          environ_overrides={"REMOTE_ADDR": "10.0.0.7"})
    assert "tingjian_http_requests_total" in response.get_data(as_text=True)

