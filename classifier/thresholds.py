"""Per-topic routing thresholds (分类置信度阈值) at a chosen precision.

A confidence of 0.8 does not mean the same for every topic: a topic with
many clear examples is right far more often at 0.8 than one that is easily
confused with its neighbours. At training time the model predicts every
training text from folds it was not trained on (out-of-fold), and for each
topic it keeps how often its predictions were right at and above each
confidence. Intake then routes a ticket without a dispatcher only when, for
its topic, the predictions at and above its confidence were right at least
as often as the city asked for (``ROUTING_PRECISION``).

The kept figure at a confidence is the precision of all the topic's
held-out predictions at and above it, and a threshold is only believed when
at least ``MIN_ABOVE`` of them lie above it. It is not made monotone: a
few wrong answers among the surest (mislabelled texts, repeats filed under
two topics) would otherwise rule the whole topic out, while the promise is
about every ticket routed, not about the surest few.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

# A precision measured on fewer held-out predictions than this says little.
MIN_ABOVE = 20
# How far below the measured precision a promise is kept: the one-sided
# Wilson lower bound at this many standard errors (0: the measured share).
# Chosen by bench/city_simulation.py --z.
LOWER_BOUND_Z = 0.0
# Kept per topic in the model's metadata: enough to place a threshold within
# half a percent of the topic's predictions.
MAX_STEPS = 200
# Above any probability: a topic that never reaches the target is never routed alone.
UNREACHABLE = 1.01


def precision_steps(correct: np.ndarray, confidence: np.ndarray, min_above: int = MIN_ABOVE) -> list[list[float]]:
    """For one topic's held-out predictions, ``[confidence, precision]`` pairs,
    highest confidence first: routing every prediction at or above
    ``confidence`` was right ``precision`` of the time. At most
    ``MAX_STEPS`` pairs, evenly spread over the predictions; empty when there
    are fewer than ``min_above``."""
    order = np.argsort(-confidence, kind="stable")
    confidence = np.round(confidence[order], 4)
    correct = correct[order].astype(float)
    n = len(confidence)
    if n < min_above:
        return []
    precision = wilson_lower_bound(np.cumsum(correct), np.arange(1, n + 1), LOWER_BOUND_Z)
    # Where a run of equal confidences ends: a threshold takes all of them or none.
    ends = np.flatnonzero(np.r_[confidence[1:] != confidence[:-1], True])
    ends = ends[ends >= min_above - 1]
    if len(ends) > MAX_STEPS:
        # Evenly spread, the last (lowest threshold) always kept.
        ends = ends[np.unique(np.linspace(0, len(ends) - 1, MAX_STEPS).round().astype(int))]
    return [[float(confidence[end]), round(float(precision[end]), 4)] for end in ends]


def wilson_lower_bound(right: np.ndarray, total: np.ndarray, z: float) -> np.ndarray:
    """The share right, or with ``z`` > 0 the lower end of its Wilson score interval:
    fewer predictions above a threshold promise less."""
    share = right / total
    if z <= 0:
        return share
    centre = share + z * z / (2 * total)
    spread = z * np.sqrt(share * (1 - share) / total + z * z / (4 * total * total))
    return (centre - spread) / (1 + z * z / total)


def routing_curve(
    truth: Sequence[str], predicted: Sequence[str], confidence: np.ndarray, *, folds: int
) -> dict[str, Any]:
    """What the model's metadata keeps under ``routing``: per predicted topic,
    its precision steps from out-of-fold predictions."""
    truth_a, predicted_a = np.asarray(truth, dtype=object), np.asarray(predicted, dtype=object)
    correct = truth_a == predicted_a
    topics = sorted((set(truth) | set(predicted)) - {""})  # "": a text no fold could predict
    return {
        "method": "out-of-fold per-topic precision",
        "folds": folds,
        "n": len(truth),
        "min_above": MIN_ABOVE,
        "lower_bound_z": LOWER_BOUND_Z,
        "steps": {
            topic: precision_steps(correct[predicted_a == topic], confidence[predicted_a == topic]) for topic in topics
        },
    }


def threshold_for(steps: Sequence[Sequence[float]], target: float) -> float:
    """The lowest confidence at which this topic's predictions were right at
    least ``target`` of the time (``UNREACHABLE`` when they never were)."""
    reached = [confidence for confidence, precision in steps if precision >= target]
    return min(reached) if reached else UNREACHABLE


def thresholds_at(curve: Mapping[str, Any] | None, target: float) -> dict[str, float] | None:
    """Each topic's threshold at ``target``; None for a model stored without a curve."""
    if not curve or "steps" not in curve:
        return None
    if not 0.0 < target <= 1.0:
        raise ValueError(f"a routing precision is a share between 0 and 1, not {target}")
    return {topic: threshold_for(steps, target) for topic, steps in curve["steps"].items()}
