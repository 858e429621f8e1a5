"""How good a model is on labelled data: the report `classifier evaluate` prints."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from .dataset import Dataset
from .estimators import LEVEL_SEPARATOR
from .model import TopicModel
from .thresholds import UNREACHABLE

# Intake's fixed threshold for a model stored without routing thresholds.
FALLBACK_THRESHOLD = 0.5

THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def _level_for(model: TopicModel, data: Dataset) -> str:
    """Compare at the first level when the model has two and the data one."""
    if model.two_level and not any(LEVEL_SEPARATOR in label for label in data.labels):
        return "topic"
    return "label"


def coverage_curve(truth: list[str], predicted: list[str], confidence: np.ndarray) -> list[dict[str, Any]]:
    """Per threshold: the share of messages at or above it (not sent to
    triage for low confidence), how many of those are right, and how many
    go to triage."""
    correct = np.asarray(truth) == np.asarray(predicted)
    curve = []
    for threshold in THRESHOLDS:
        kept = confidence >= threshold
        curve.append(
            {
                "threshold": threshold,
                "coverage": round(float(kept.mean()), 4),
                "accuracy": round(float(correct[kept].mean()), 4) if kept.any() else None,
                "to_triage": int((~kept).sum()),
            }
        )
    return curve


def routed_share(
    truth: list[str],
    predicted: list[str],
    confidence: np.ndarray,
    thresholds: dict[str, float] | None,
    fallback: float = FALLBACK_THRESHOLD,
) -> dict[str, Any]:
    """Intake's decision on each message: routed without a dispatcher when
    its confidence reaches its topic's threshold (or ``fallback`` for a model
    without thresholds). Coverage is the routed share of all messages,
    precision the share of routed messages with the right topic."""
    if thresholds is None:
        needed = np.full(len(predicted), fallback)
    else:
        needed = np.array([thresholds.get(label, UNREACHABLE) for label in predicted], dtype=float)
    routed = np.asarray(confidence) >= needed
    correct = np.asarray(truth, dtype=object) == np.asarray(predicted, dtype=object)
    return {
        "thresholds": "per topic" if thresholds is not None else f"fixed {fallback}",
        "n": len(truth),
        "routed": int(routed.sum()),
        "coverage": round(float(routed.mean()), 4) if len(truth) else None,
        "precision": round(float(correct[routed].mean()), 4) if routed.any() else None,
        "to_triage": int((~routed).sum()),
    }


def production_path(
    model: TopicModel, data: Dataset, target: float, fallback: float = FALLBACK_THRESHOLD
) -> dict[str, Any]:
    """Coverage and precision of automatic routing as intake decides it at
    the routing precision ``target``: the model's own answer over every label
    it knows (no renormalisation), each topic's threshold at ``target``."""
    predicted, confidence = model.predict(data.texts, level=_level_for(model, data))
    thresholds = model.routing_thresholds(target)
    result = {"routing_precision": target, **routed_share(data.labels, predicted, confidence, thresholds, fallback)}
    if thresholds is not None:
        result["per_topic_threshold"] = {topic: round(t, 4) for topic, t in sorted(thresholds.items())}
    return result


def report(truth: list[str], predicted: list[str], confidence: np.ndarray) -> dict[str, Any]:
    labels = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    return {
        "n": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(
            float(f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)), 4
        ),
        "per_class": {
            label: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(s),
            }
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
        "confusion_matrix": {
            "labels": labels,
            "matrix": confusion_matrix(truth, predicted, labels=labels).tolist(),
        },
        "coverage_accuracy": coverage_curve(truth, predicted, confidence),
    }


def evaluate(
    model: TopicModel,
    data: Dataset,
    *,
    labels_from_data: bool = False,
    routing_precision: float | None = None,
    fallback_threshold: float = FALLBACK_THRESHOLD,
) -> dict[str, Any]:
    """The model's figures on labelled data.

    ``labels_from_data`` chooses among the data's labels only, for comparing
    classifiers on data with fewer classes than the model knows: accuracy,
    macro-F1, the per-class figures and the confusion matrix are then of
    that choice. ``coverage_accuracy`` is always of the model's own answer
    and confidence, as intake sees them: renormalised over fewer labels, a
    confidence is higher than the one the triage threshold is compared
    with, and the share "above the threshold" would not be the share intake
    lets through. It counts the threshold only; which of those the routing
    rules then route is measured by ``bench/routing_share.py``.

    With ``routing_precision``, ``production_path`` says what intake does at
    that target: coverage and precision of the tickets routed without a
    dispatcher, with each topic's own threshold."""
    level = _level_for(model, data)
    restrict = sorted(set(data.labels)) if labels_from_data else None
    started = time.process_time()
    predicted, confidence = model.predict(data.texts, level=level, restrict_to=restrict)
    elapsed = time.process_time() - started
    result = report(data.labels, predicted, confidence)
    if restrict is not None:
        # As intake reads them: every label the model knows.
        answered, own_confidence = model.predict(data.texts, level=level)
        result["coverage_accuracy"] = coverage_curve(data.labels, answered, own_confidence)
    if routing_precision is not None:
        result["production_path"] = production_path(model, data, routing_precision, fallback_threshold)
    result["level"] = level
    result["labels_from_data"] = labels_from_data
    result["messages_per_second"] = round(len(data) / elapsed, 1) if elapsed > 0 else None
    return result
