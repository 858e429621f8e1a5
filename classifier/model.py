"""The topic model (主题模型): one fitted scikit-learn Pipeline from text to
label (built in ``classifier.estimators``), with its metadata, its lean path
and the agency model trained alongside."""

from __future__ import annotations

import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import numpy as np
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline

from .agency import AgencyModel
from .estimators import LEVEL_SEPARATOR, SMALL_DATA, build_pipeline, first_level
from .lean import LeanPipeline, compile_pipeline, lean_proba
from .text import normalise
from .thresholds import routing_curve, thresholds_at

# Out-of-fold predictions for the routing thresholds: three folds cost two
# more trainings, and the thresholds moved by less than a point with five.
ROUTING_FOLDS = 3


@dataclass
class TopicModel:
    """A fitted pipeline and what is known about it; with the agency model
    trained alongside, when there was enough data for one (one version, both)."""

    pipeline: Pipeline
    metadata: dict[str, Any] = field(default_factory=dict)
    agency: AgencyModel | None = None

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        source: str = "",
        pipeline: Pipeline | None = None,
        routing_folds: int = ROUTING_FOLDS,
    ) -> TopicModel:
        """Fit the pipeline on every text; with ``routing_folds`` ≥ 2, also
        learn the per-topic routing thresholds from out-of-fold predictions
        (see ``classifier.thresholds``); 0 leaves them out."""
        if len(texts) != len(labels):
            raise ValueError("texts and labels differ in length")
        distinct = sorted(set(labels))
        if len(distinct) < 2:
            raise ValueError("training needs at least two different labels")
        # Below a hundred texts every term counts: pruning would leave little to learn from.
        pipeline = pipeline or build_pipeline(min_df=2 if len(texts) >= SMALL_DATA else 1)
        pipeline.fit([normalise(t) for t in texts], list(labels))
        counts = {label: int(n) for label, n in zip(*np.unique(labels, return_counts=True), strict=True)}
        model = cls(
            pipeline,
            {
                "trained_at": datetime.now().isoformat(timespec="seconds"),
                "source": source,
                "n_samples": len(texts),
                "labels": distinct,
                "label_counts": counts,
                "sklearn": sklearn.__version__,
                "python": platform.python_version(),
            },
        )
        if routing_folds >= 2 and len(texts) >= 2 * routing_folds:
            model.metadata["routing"] = model.out_of_fold_curve(texts, labels, routing_folds)
        return model

    def out_of_fold_curve(self, texts: Sequence[str], labels: Sequence[str], folds: int) -> dict[str, Any]:
        """Predict each text with a model of the same build trained on the
        other folds, and keep per topic how often those predictions were
        right. A text and its exact repeats stay in one fold: a repeat
        across folds would make the model look surer than it is."""
        groups = [normalise(t) for t in texts]
        level = "topic" if self.two_level else "label"
        truth = [first_level(label) for label in labels] if level == "topic" else list(labels)
        predicted: list[str] = [""] * len(texts)
        confidence = np.zeros(len(texts))
        splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=0)
        for train, held in splitter.split(texts, truth, groups):
            # A topic's probability is the first-level model's alone, so the
            # folds learn topics only: second-level labels thinned to a few
            # examples a fold would make the label level a slow logistic
            # regression, and its answer is not needed here.
            train_labels = [truth[i] for i in train]
            if len(set(train_labels)) < 2:
                continue  # nothing to learn from; these texts count as unpredicted
            fold = TopicModel.train(
                [texts[i] for i in train], train_labels, pipeline=clone(self.pipeline), routing_folds=0
            )
            answered, sure = fold.predict([texts[i] for i in held])
            for i, label, p in zip(held, answered, sure, strict=True):
                predicted[i], confidence[i] = label, p
        return routing_curve(truth, predicted, confidence, folds=folds)

    def routing_thresholds(self, target: float) -> dict[str, float] | None:
        """Each topic's confidence threshold at the routing precision
        ``target``; None for a model stored before thresholds were learned."""
        return thresholds_at(self.metadata.get("routing"), target)

    @cached_property
    def labels(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    @cached_property
    def two_level(self) -> bool:
        return all(LEVEL_SEPARATOR in label for label in self.labels)

    @cached_property
    def lean(self) -> LeanPipeline | None:
        """The pipeline compiled to plain arrays, or None when it has a step the lean path does not know."""
        return compile_pipeline(self.pipeline)

    def compile_lean(self) -> None:
        """Derive the lean paths now, as a model is loaded, rather than on the first message."""
        for model in (self, self.agency):
            if model is not None:
                _ = model.lean  # a cached property: computed here, once

    def predict_proba(self, texts: Iterable[str]) -> np.ndarray:
        return lean_proba(self.pipeline, self.lean, [normalise(t) for t in texts])

    @cached_property
    def topics(self) -> list[str]:
        """The first-level topics of the labels, sorted."""
        return sorted({first_level(label) for label in self.labels})

    @cached_property
    def topic_of_label(self) -> np.ndarray:
        """For each label, the index of its first level in ``topics``."""
        index = {topic: i for i, topic in enumerate(self.topics)}
        return np.array([index[first_level(label)] for label in self.labels])

    @cached_property
    def _folding(self) -> np.ndarray:
        """The 0/1 matrix that sums labels into their topics."""
        folding = np.zeros((len(self.labels), len(self.topics)))
        folding[np.arange(len(self.labels)), self.topic_of_label] = 1.0
        return folding

    def first_level_proba(self, proba: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Sum second-level probabilities into their first level."""
        return self.topics, proba @ self._folding

    def predict(
        self,
        texts: Sequence[str],
        *,
        level: str = "label",
        restrict_to: Iterable[str] | None = None,
    ) -> tuple[list[str], np.ndarray]:
        """Labels and their confidences.

        ``level="topic"`` answers at the first level. ``restrict_to`` limits the
        answer to those labels (renormalised), for evaluation on data whose
        label set is a subset of the model's.
        """
        proba = self.predict_proba(texts)
        labels = self.labels
        if level == "topic":
            labels, proba = self.first_level_proba(proba)
        if restrict_to is not None:
            allowed = set(restrict_to)
            keep = [i for i, label in enumerate(labels) if label in allowed]
            if not keep:
                raise ValueError("none of the data's labels is known to the model")
            labels = [labels[i] for i in keep]
            proba = proba[:, keep]
            totals = proba.sum(axis=1, keepdims=True)
            proba = np.divide(proba, totals, out=np.full_like(proba, 1 / len(keep)), where=totals > 0)
        best = proba.argmax(axis=1)
        return [labels[i] for i in best], proba[np.arange(len(best)), best]
