"""The agency model (承办单位模型): text in, the agency that answered such texts out.

It learns from whatever the caller hands it — in this project the tickets
agencies actually closed, a city's imported history and the dispatchers'
agency corrections — and knows nothing of where they came from. Its
probabilities are calibrated (sigmoid on cross-validated scores), because
routing trusts a learned agency over the rules only above a confidence
threshold, and that threshold must mean what it says.
"""

from __future__ import annotations

import platform
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import numpy as np
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from .estimators import SMALL_DATA, build_features
from .lean import LeanPipeline, compile_pipeline, lean_proba
from .text import normalise

# Enough to learn an agency from: fewer examples than this and the agency is
# left to the routing rules. Also the most folds calibration can use.
MIN_EXAMPLES_PER_AGENCY = 5
MIN_AGENCIES = 2
CALIBRATION_FOLDS = 5


def learnable(labels: Sequence[str]) -> dict[str, int]:
    """The agencies with enough examples to learn, and how many each has."""
    counts = Counter(labels)
    return {agency: n for agency, n in sorted(counts.items()) if n >= MIN_EXAMPLES_PER_AGENCY}


def enough_to_learn(labels: Sequence[str]) -> bool:
    return len(learnable(labels)) >= MIN_AGENCIES


def build_agency_pipeline(min_df: int, folds: int) -> Pipeline:
    """The topic model's text features, then a calibrated logistic regression.

    Logistic regression alone is sure of itself on a small, well separated
    training set; calibrating on held-out folds brings its confidence down to
    how often it is right.
    """
    logistic = LogisticRegression(C=10.0, class_weight="balanced", max_iter=500, tol=1e-3)
    model = CalibratedClassifierCV(logistic, method="sigmoid", cv=folds)
    return Pipeline([("features", build_features(min_df)), ("model", model)])


@dataclass
class AgencyModel:
    """A fitted agency pipeline and what is known about it."""

    pipeline: Pipeline
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def train(cls, texts: Sequence[str], agencies: Sequence[str], *, source: str = "") -> AgencyModel:
        """Learn from the agencies with enough examples; the others are left out
        (and named in the metadata) rather than learned from one or two texts."""
        if len(texts) != len(agencies):
            raise ValueError("texts and agencies differ in length")
        kept = learnable(agencies)
        if len(kept) < MIN_AGENCIES:
            raise ValueError(
                f"learning an agency needs at least {MIN_AGENCIES} agencies "
                f"with {MIN_EXAMPLES_PER_AGENCY} examples each"
            )
        pairs = [(t, a) for t, a in zip(texts, agencies, strict=True) if a in kept]
        folds = min(CALIBRATION_FOLDS, min(kept.values()))
        pipeline = build_agency_pipeline(min_df=2 if len(pairs) >= SMALL_DATA else 1, folds=folds)
        pipeline.fit([normalise(t) for t, _ in pairs], [a for _, a in pairs])
        return cls(
            pipeline,
            {
                "trained_at": datetime.now().isoformat(timespec="seconds"),
                "source": source,
                "n_samples": len(pairs),
                "agencies": sorted(kept),
                "agency_counts": kept,
                "left_out": sorted(set(agencies) - set(kept)),
                "sklearn": sklearn.__version__,
                "python": platform.python_version(),
            },
        )

    @property
    def agencies(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    @cached_property
    def lean(self) -> LeanPipeline | None:
        """The pipeline compiled to plain arrays, or None when it has a step the lean path does not know."""
        return compile_pipeline(self.pipeline)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, one column per agency (``agencies``); rows sum to 1."""
        return lean_proba(self.pipeline, self.lean, [normalise(t) for t in texts])

    def predict(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """The most likely agency of each text and its probability."""
        proba = self.predict_proba(texts)
        best = proba.argmax(axis=1)
        return [self.agencies[i] for i in best], proba[np.arange(len(best)), best]

    def accuracy(self, texts: Sequence[str], agencies: Sequence[str]) -> float:
        predicted, _ = self.predict(texts)
        return sum(p == a for p, a in zip(predicted, agencies, strict=True)) / len(agencies)
