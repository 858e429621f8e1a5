"""Per-topic routing thresholds: learnt from out-of-fold predictions at
training time, chosen so that the tickets routed without a dispatcher are
right at least as often as the routing precision asks."""

from __future__ import annotations

import numpy as np
import pytest

from classifier import Classifier, Dataset, TopicModel
from classifier.evaluate import evaluate, production_path, routed_share
from classifier.thresholds import (
    MAX_STEPS,
    MIN_ABOVE,
    UNREACHABLE,
    precision_steps,
    routing_curve,
    threshold_for,
    thresholds_at,
    wilson_lower_bound,
)

# Three topics, each said in many small variations: enough held-out predictions per topic.
PLACES = ["西湖区", "拱墅区", "滨江区", "上城区", "余杭区", "萧山区", "临平区", "钱塘区", "富阳区", "桐庐县"]
SAYINGS = {
    "城乡建设/物业管理": ["{}小区物业乱收停车费", "{}物业不修电梯，业主很生气"],
    "环境保护/大气污染": ["{}工厂排放黑烟，空气很臭", "{}化工厂废气刺鼻，晚上偷排"],
    "交通运输/公交": ["{}公交车太少，等车要半小时", "{}建议增开公交夜班车"],
}


def corpus() -> Dataset:
    data = Dataset([], [])
    for label, sayings in SAYINGS.items():
        for saying in sayings:
            for place in PLACES:
                data.texts.append(saying.format(place))
                data.labels.append(label)
    return data


@pytest.fixture(scope="module")
def model() -> TopicModel:
    data = corpus()
    return TopicModel.train(data.texts, data.labels, source="test")


def test_the_threshold_is_the_lowest_confidence_whose_routed_predictions_reach_the_target():
    # Held-out predictions of one topic, surest first: right, right, …, then wrong ones mixed in.
    confidence = np.linspace(0.99, 0.40, 40)
    correct = np.array([True] * 30 + [False, True, False, True, False, False, True, False, False, False])
    steps = precision_steps(correct, confidence)
    threshold = threshold_for(steps, 0.95)
    routed = confidence >= threshold
    assert correct[routed].mean() >= 0.95
    # One step lower would have missed the target.
    lower = confidence[routed.sum()]
    assert correct[confidence >= lower].mean() < 0.95
    assert threshold_for(steps, 0.5) < threshold


def test_a_few_wrong_answers_among_the_surest_do_not_rule_a_topic_out():
    # Two wrong among the surest (say, mislabelled repeats), then many right ones.
    confidence = np.linspace(0.99, 0.50, 100)
    correct = np.array([False] * 2 + [True] * 98)
    steps = precision_steps(correct, confidence)
    threshold = threshold_for(steps, 0.95)
    assert threshold < 0.99
    assert correct[confidence >= threshold].mean() >= 0.95


def test_the_steps_are_kept_short_and_keep_the_lowest_threshold():
    confidence = np.linspace(0.999, 0.001, 5000)
    steps = precision_steps(np.ones(5000, dtype=bool), confidence)
    assert len(steps) <= MAX_STEPS
    assert steps[-1][0] == round(confidence[-1], 4)


def test_a_topic_with_too_few_held_out_predictions_is_never_routed_alone():
    steps = precision_steps(np.ones(MIN_ABOVE - 1, dtype=bool), np.full(MIN_ABOVE - 1, 0.99))
    assert steps == []
    assert threshold_for(steps, 0.95) == UNREACHABLE > 1


def test_the_curve_keeps_steps_per_predicted_topic_and_not_for_texts_no_fold_predicted():
    curve = routing_curve(["甲", "乙", "甲"], ["甲", "", "乙"], np.array([0.9, 0.0, 0.8]), folds=3)
    assert sorted(curve["steps"]) == ["乙", "甲"]
    assert curve["folds"] == 3 and curve["n"] == 3


def test_a_model_without_a_curve_has_no_thresholds_and_a_target_must_be_a_share():
    assert thresholds_at(None, 0.95) is None
    assert thresholds_at({}, 0.95) is None
    with pytest.raises(ValueError, match="share"):
        thresholds_at({"steps": {}}, 1.5)


def test_training_learns_a_threshold_for_each_topic_from_out_of_fold_predictions(model):
    curve = model.metadata["routing"]
    assert curve["folds"] == 3 and curve["n"] == len(corpus())
    thresholds = model.routing_thresholds(0.95)
    assert sorted(thresholds) == ["交通运输", "城乡建设", "环境保护"]
    assert all(0.0 <= t <= UNREACHABLE for t in thresholds.values())
    # A stricter target never asks for less confidence.
    looser = model.routing_thresholds(0.6)
    assert all(looser[topic] <= thresholds[topic] for topic in thresholds)


def test_training_without_folds_stores_no_thresholds():
    data = corpus()
    model = TopicModel.train(data.texts, data.labels, routing_folds=0)
    assert "routing" not in model.metadata
    assert model.routing_thresholds(0.95) is None
    assert Classifier(model, routing_precision=0.95).predict("西湖区小区物业乱收停车费").routing_threshold is None


def test_the_classifier_gives_each_prediction_its_topics_threshold_at_the_target(model):
    prediction = Classifier(model, routing_precision=0.95).predict("西湖区小区物业乱收停车费")
    assert prediction.topic == "城乡建设"
    assert prediction.routing_threshold == model.routing_thresholds(0.95)["城乡建设"]
    assert prediction.routing_precision == 0.95
    assert prediction.as_dict()["routing_threshold"] == round(prediction.routing_threshold, 4)
    # Without a target asked for, intake keeps its fixed threshold.
    assert Classifier(model).predict("西湖区小区物业乱收停车费").routing_threshold is None


def test_routed_share_counts_coverage_over_all_messages_and_precision_over_the_routed():
    share = routed_share(
        ["甲", "甲", "乙", "乙"], ["甲", "乙", "乙", "乙"], np.array([0.9, 0.9, 0.7, 0.3]), {"甲": 0.8, "乙": 0.6}
    )
    assert share == {
        "thresholds": "per topic",
        "n": 4,
        "routed": 3,
        "coverage": 0.75,
        "precision": 0.6667,
        "to_triage": 1,
    }
    fixed = routed_share(["甲", "乙"], ["甲", "甲"], np.array([0.6, 0.4]), None, fallback=0.5)
    assert fixed["thresholds"] == "fixed 0.5" and fixed["coverage"] == 0.5 and fixed["precision"] == 1.0


def test_evaluate_reports_the_production_path_at_the_target_beside_the_threshold_table(model):
    data = Dataset(
        ["滨江区化工厂废气刺鼻", "余杭区物业不修电梯", "钱塘区公交车太少", "萧山区工厂排放黑烟"],
        ["环境保护", "城乡建设", "交通运输", "环境保护"],
    )
    result = evaluate(model, data, routing_precision=0.95)
    path = result["production_path"]
    assert path["routing_precision"] == 0.95 and path["n"] == 4
    assert path["routed"] + path["to_triage"] == 4
    assert path["per_topic_threshold"] == {t: round(v, 4) for t, v in model.routing_thresholds(0.95).items()}
    assert result["coverage_accuracy"][0]["threshold"] == 0.0  # the per-threshold table stays
    # The model's own confidences over every label it knows, as intake reads them.
    predicted, confidence = model.predict(data.texts, level="topic")
    assert path["routed"] == sum(c >= path["per_topic_threshold"][p] for p, c in zip(predicted, confidence))
    assert "production_path" not in evaluate(model, data)


def test_a_model_stored_before_thresholds_is_evaluated_at_the_fixed_threshold(model):
    older = TopicModel(model.pipeline, {k: v for k, v in model.metadata.items() if k != "routing"})
    data = Dataset(["滨江区化工厂废气刺鼻"], ["环境保护"])
    path = production_path(older, data, 0.95, fallback=0.5)
    assert path["thresholds"] == "fixed 0.5" and "per_topic_threshold" not in path


def test_the_wilson_lower_bound_promises_less_on_fewer_predictions():
    few = wilson_lower_bound(np.array([19.0]), np.array([20.0]), 1.645)[0]
    many = wilson_lower_bound(np.array([950.0]), np.array([1000.0]), 1.645)[0]
    assert few < many < 0.95
    assert wilson_lower_bound(np.array([19.0]), np.array([20.0]), 0.0)[0] == 0.95
