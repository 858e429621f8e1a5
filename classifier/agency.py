"""The agency model (承办单位模型): text in, the agency that answered such texts out.

It learns from whatever the caller hands it — in this project the tickets
agencies actually closed, a city's imported history and the dispatchers'
agency corrections — and knows nothing of where they came from. A city's
first weeks give it ten to forty examples per agency, and it is built for
that (小样本): the topic model's three blocks of features with every term
kept and counted raw, single characters once more as a block of their own,
and a linear SVM (bench/small_data.py; docs/classifier.md, "Small data").
Its probabilities are calibrated (sigmoid on cross-validated scores), because routing trusts a learned agency over the rules only above a
confidence threshold, and that threshold must mean what it says.
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
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from .estimators import build_features
from .lean import LeanPipeline, compile_pipeline, lean_proba
from .ngrams import CharNgramVectorizer
from .text import normalise

# Enough to learn an agency from: fewer examples than this and the agency is
# left to the routing rules. Also the most folds calibration can use.
MIN_EXAMPLES_PER_AGENCY = 5
MIN_AGENCIES = 2
CALIBRATION_FOLDS = 5
# From this many examples on, terms seen in one text only are dropped, as in
# the topic model: with thousands of texts they are mostly names and numbers.
# Below it every term counts (measured from 70 to 280 examples).
PRUNE_FROM = 1000
# Single characters once more, at this weight beside the topic model's blocks:
# on ten examples per class the character unigrams carry most of what can be
# learned, and this block lifted macro-F1 by a point over the blocks alone.
UNIGRAM_WEIGHT = 1.0


def learnable(labels: Sequence[str]) -> dict[str, int]:
    """The agencies with enough examples to learn, and how many each has."""
    counts = Counter(labels)
    return {agency: n for agency, n in sorted(counts.items()) if n >= MIN_EXAMPLES_PER_AGENCY}


def enough_to_learn(labels: Sequence[str]) -> bool:
    return len(learnable(labels)) >= MIN_AGENCIES


def build_agency_features(min_df: int = 1) -> FeatureUnion:
    """The topic model's blocks (jieba words, character 1–2-grams, the
    subject's 1–3-grams) counted raw, and single characters as one more block.

    Raw counts, not sublinear: on ten examples per class a character that
    comes back throughout a message is the surest sign of what it is about
    (the plain baseline with raw counts beat the same with sublinear counts
    in nine seeds of ten).
    """
    union = build_features(min_df)
    for _, part in union.transformer_list:
        part.set_params(sublinear_tf=False)
    unigrams = CharNgramVectorizer(ngram_range=(1, 1), sublinear_tf=False, min_df=min_df, dtype=np.float32)
    union.transformer_list.append(("unigrams", unigrams))
    union.transformer_weights = {**union.transformer_weights, "unigrams": UNIGRAM_WEIGHT}
    return union


def build_agency_pipeline(min_df: int, folds: int, seed: int = 0) -> Pipeline:
    """The agency features, then a linear SVM with balanced classes whose
    scores become probabilities by sigmoid calibration on ``folds``
    held-out folds.

    The SVM itself is fitted on every example (``ensemble=False``). Sigmoid,
    not one temperature: a learned agency overrides the rules only above a
    threshold, and at 0.8 sigmoid's answers were right 95–96 % of the time
    against the temperature's 86–92 % (bench/small_data.py). Robust defaults
    (C=1), not a C chosen by cross-validation: on two examples a fold, a
    chosen C says more of the fold than of the data.
    """
    svm = LinearSVC(C=1.0, class_weight="balanced", random_state=seed)
    model = CalibratedClassifierCV(svm, method="sigmoid", cv=folds, ensemble=False)
    return Pipeline([("features", build_agency_features(min_df)), ("model", model)])


@dataclass
class AgencyModel:
    """A fitted agency pipeline and what is known about it."""

    pipeline: Pipeline
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def train(
        cls, texts: Sequence[str], agencies: Sequence[str], *, source: str = "", seed: int = 0
    ) -> AgencyModel:
        """Learn from the agencies with enough examples; the others are left out
        (and named in the metadata) rather than learned from one or two texts.
        The same texts and ``seed`` give the same model."""
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
        pipeline = build_agency_pipeline(min_df=2 if len(pairs) >= PRUNE_FROM else 1, folds=folds, seed=seed)
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
                "learner": "agency features + LinearSVC, sigmoid-calibrated",
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
