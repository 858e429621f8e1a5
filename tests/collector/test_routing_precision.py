"""Intake's triage decision at the routing precision the city chose
(ROUTING_PRECISION): a ticket is routed without a dispatcher only when its
confidence reaches its topic's threshold; a model stored before thresholds
were learnt keeps the fixed CLASSIFIER_THRESHOLD."""

from __future__ import annotations

from datetime import datetime

import pytest

from admin.settings import from_environment
from classifier import Classifier, ModelStore, TopicModel
from collector.intake import labels_from, submit
from routing.flow.inbound import Inbound
from routing.store.tickets import Status, TicketEvent

NOW = datetime(2026, 9, 30, 9, 0)
CLEAR = "西湖区文新街道某小区物业擅自涨停车费，每月三百元，业主都不同意，请有关部门调查。"


@pytest.fixture
def shipped(model_dir) -> TopicModel:
    store = ModelStore(model_dir)
    return store.load_version(store.active_version())


def with_curve(model: TopicModel, steps: list[list[float]]) -> TopicModel:
    """The same model with a routing curve: every topic's held-out predictions as ``steps`` say."""
    curve = {"method": "test", "folds": 3, "n": 100, "min_above": 20, "steps": {t: steps for t in model.topics}}
    return TopicModel(model.pipeline, {**model.metadata, "routing": curve})


def test_the_shipped_model_reads_the_clear_message_surely_enough_for_these_tests(shipped):
    prediction = Classifier(shipped).predict(CLEAR)
    assert prediction.topic == "城乡建设" and 0.5 <= prediction.confidence < 0.999


def test_below_its_topics_threshold_a_ticket_goes_to_triage_and_says_why(shipped):
    # Routed alone, this topic was right 99 % of the time only above 0.999, 90 % above 0.3.
    model = with_curve(shipped, [[0.999, 0.99], [0.3, 0.9]])
    strict = labels_from(Classifier(model, routing_precision=0.95).predict(CLEAR), threshold=0.5)
    assert strict.needs_triage
    assert "城乡建设" in strict.triage_reason and "95%" in strict.triage_reason and "0.999" not in strict.triage_reason
    assert "1.00" in strict.triage_reason  # the threshold 0.999, as a dispatcher reads it
    relaxed = labels_from(Classifier(model, routing_precision=0.85).predict(CLEAR), threshold=0.99)
    # The topic's own threshold (0.3) decides, not the fixed one (0.99).
    assert not relaxed.needs_triage and relaxed.triage_reason is None


def test_a_topic_that_never_reached_the_target_is_never_routed_alone(shipped):
    model = with_curve(shipped, [[0.9, 0.8]])
    labels = labels_from(Classifier(model, routing_precision=0.95).predict(CLEAR), threshold=0.0)
    assert labels.needs_triage and "达不到 95%" in labels.triage_reason


def test_a_model_stored_before_thresholds_keeps_the_fixed_threshold(shipped):
    assert "routing" not in shipped.metadata
    prediction = Classifier(shipped, routing_precision=0.95).predict(CLEAR)
    assert prediction.routing_threshold is None
    assert not labels_from(prediction, threshold=0.5).needs_triage
    assert labels_from(prediction, threshold=0.9999).needs_triage


def test_submitted_tickets_are_triaged_or_routed_by_their_topics_threshold(demo, shipped):
    model = with_curve(shipped, [[0.999, 0.99], [0.3, 0.9]])
    strict = submit(demo, Inbound(channel="web", text=CLEAR), Classifier(model, routing_precision=0.95), NOW)
    relaxed = submit(demo, Inbound(channel="web", text=CLEAR), Classifier(model, routing_precision=0.85), NOW)
    assert strict.ticket.status == Status.TRIAGE
    assert relaxed.ticket.status == Status.ASSIGNED
    triage = demo.query(TicketEvent).filter_by(ticket_id=strict.ticket.id, action="triage").one()
    assert "95%" in triage.reason
    assert strict.ticket.prediction["routing_threshold"] == 0.999


@pytest.mark.parametrize("app_config", [{"ROUTING_PRECISION": 0.9}])
def test_the_application_classifies_at_the_configured_precision(app):
    assert app.config["ROUTING_PRECISION"] == 0.9
    assert app.extensions["tingjian"].classifier.current().routing_precision == 0.9


def test_the_routing_precision_setting_must_be_a_share(monkeypatch, tmp_path):
    monkeypatch.setenv("ROUTING_PRECISION", "95")
    with pytest.raises(ValueError, match="ROUTING_PRECISION"):
        from_environment(str(tmp_path), {})
