"""The topic model: one scikit-learn Pipeline from text to label, with its metadata.

Labels may carry two levels as ``一级/二级`` (e.g. ``城乡建设/物业管理``). The
last step of the pipeline then learns both levels: one linear model for the
first level, which sees every example of a topic together, and one for the
labels, read within the topic. Their product is a probability per label whose
sum over a topic is that topic's probability, so both levels are consistent.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_selection import SelectKBest, chi2
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted
from sklearn.pipeline import FeatureUnion, Pipeline

from .lean import LeanPipeline, compile_pipeline
from .ngrams import CharNgramVectorizer, WordNgramVectorizer
from .text import normalise, tokenize

if TYPE_CHECKING:
    from .agency import AgencyModel

LEVEL_SEPARATOR = "/"
# Below this many examples of its rarest class, a level is learned by a weakly
# regularised logistic regression: too few to calibrate an SVM on held-out
# folds, and with a few hand-written texts far apart, C=30 gives the confident
# answers that let clear messages skip triage.
MODEL_C = 30.0
CALIBRATION_FOLDS = 5
SMALL_DATA = 100
# The subject (标题) comes first in a message; its first characters get a
# feature block of their own so they count apart from the body.
SUBJECT_CHARS = 20
KEPT_FEATURES = 20_000
# Up to this many texts at once, the lean path (one text at a time, no input
# checks) is faster than the pipeline's vectorised batch; above, slower
# (bench/classifier_speed.py).
LEAN_BATCH = 64
# How much a complement naive Bayes's probabilities count beside the SVM's
# (1 = as much): what inner grouped cross-validation chose (0.2–0.5) and
# about where the outer folds were flat (0.2–0.75 all within 0.1 point).
NAIVE_BAYES_WEIGHT = 0.35
NAIVE_BAYES_ALPHA = 0.3


def first_level(label: str) -> str:
    return label.split(LEVEL_SEPARATOR, 1)[0]


class TwoLevelClassifier(ClassifierMixin, BaseEstimator):
    """P(label) = P(topic) · P(label | topic), each from a linear model.

    Why not one model over all labels: with tens of second-level labels and a
    few dozen examples each, a flat model spreads its probability thin and is
    never sure of the topic even when every sub-label agrees on it; the
    first-level model learns from all of a topic's examples at once.

    Each level is a linear SVM (C=1, balanced classes) with temperature-scaled
    probabilities from held-out folds, so that a threshold on the confidence
    means what it says; at the first level, when ``nb_weight`` > 0, averaged
    with a complement naive Bayes's (``SvmWithNaiveBayes``). A level whose
    rarest class has fewer than five examples is a logistic regression
    instead (see ``MODEL_C``).
    """

    def __init__(
        self, C: float = 1.0, small_data_C: float = MODEL_C, max_iter: int = 500, nb_weight: float = 0.0
    ) -> None:
        self.C = C
        self.small_data_C = small_data_C
        self.max_iter = max_iter
        self.nb_weight = nb_weight

    def _linear(self, y: np.ndarray, nb_weight: float = 0.0) -> ClassifierMixin:
        _, counts = np.unique(y, return_counts=True)
        if counts.min() < CALIBRATION_FOLDS:
            # tol 1e-3: the probabilities settle long before lbfgs' default
            # 1e-4, at a third of the training time.
            return LogisticRegression(C=self.small_data_C, class_weight="balanced", max_iter=self.max_iter, tol=1e-3)
        if nb_weight > 0:
            return SvmWithNaiveBayes(C=self.C, nb_weight=nb_weight)
        svm = LinearSVC(C=self.C, class_weight="balanced")
        return CalibratedClassifierCV(svm, method="temperature", cv=CALIBRATION_FOLDS, ensemble=False)

    def fit(self, X, y) -> TwoLevelClassifier:
        y = np.asarray(y, dtype=object)
        topics = np.array([first_level(label) for label in y], dtype=object)
        # The naive Bayes joins the first level only: that is the level the
        # grouped cross-validation measures (its data has topics alone).
        self.topic_model_ = self._linear(topics, self.nb_weight).fit(X, topics)
        self.label_model_ = self._linear(y).fit(X, y)
        self.classes_ = self.label_model_.classes_
        topic_index = {topic: i for i, topic in enumerate(self.topic_model_.classes_)}
        self.topic_of_label_ = np.array([topic_index[first_level(label)] for label in self.classes_])
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "classes_")
        topic_proba = self.topic_model_.predict_proba(X)
        label_proba = self.label_model_.predict_proba(X)
        folding = np.zeros((len(self.classes_), topic_proba.shape[1]))
        folding[np.arange(len(self.classes_)), self.topic_of_label_] = 1.0
        within = (label_proba @ folding)[:, self.topic_of_label_]
        return topic_proba[:, self.topic_of_label_] * label_proba / within

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


class SvmWithNaiveBayes(ClassifierMixin, BaseEstimator):
    """A linear SVM's probabilities averaged with a complement naive Bayes's:
    ``(P_svm + w · P_nb) / (1 + w)``.

    Each model's scores become probabilities by temperature scaling on
    held-out folds (``CalibratedClassifierCV``, one model on all the data).
    The two err on different messages: naive Bayes alone scores far below
    the SVM (grouped macro-F1 0.90 against 0.93), yet with a quarter of the
    vote it lifted the SVM by 0.2 points, in four outer folds of five and in
    the inner cross-validation of all five (bench/classifier_explore.py). The naive Bayes part is kept as its
    log-probability matrix and temperature, so that it costs one sparse
    product at prediction time instead of scikit-learn's calibration path.
    Needs non-negative features (TF-IDF).
    """

    def __init__(
        self, C: float = 1.0, alpha: float = NAIVE_BAYES_ALPHA, nb_weight: float = NAIVE_BAYES_WEIGHT
    ) -> None:
        self.C = C
        self.alpha = alpha
        self.nb_weight = nb_weight

    def fit(self, X, y) -> SvmWithNaiveBayes:
        svm = LinearSVC(C=self.C, class_weight="balanced")
        self.svm_ = CalibratedClassifierCV(svm, method="temperature", cv=CALIBRATION_FOLDS, ensemble=False).fit(X, y)
        self.classes_ = self.svm_.classes_
        if self.nb_weight > 0:
            nb = CalibratedClassifierCV(
                ComplementNB(alpha=self.alpha), method="temperature", cv=CALIBRATION_FOLDS, ensemble=False
            ).fit(X, y)
            calibrated = nb.calibrated_classifiers_[0]
            # float64, as the SVM's weights: one product with them in the lean path.
            self.nb_log_prob_ = np.ascontiguousarray(calibrated.estimator.feature_log_prob_.T, dtype=np.float64)
            self.nb_beta_ = float(calibrated.calibrators[0].beta_)
        return self

    def naive_bayes_proba(self, X) -> np.ndarray:
        """The calibrated naive Bayes's probabilities, as ``CalibratedClassifierCV`` computes them."""
        check_is_fitted(self, "nb_log_prob_")
        return naive_bayes_proba(X @ self.nb_log_prob_, self.nb_beta_)

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "svm_")
        return self.mixed(self.svm_.predict_proba(X), lambda: self.naive_bayes_proba(X))

    def mixed(self, svm_proba: np.ndarray, naive_bayes: Callable[[], np.ndarray]) -> np.ndarray:
        """The SVM's probabilities with the naive Bayes's (asked only when it has a vote)."""
        if self.nb_weight <= 0:
            return svm_proba
        return (svm_proba + self.nb_weight * naive_bayes()) / (1 + self.nb_weight)

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def naive_bayes_proba(joint, beta: float) -> np.ndarray:
    """A naive Bayes's joint log-likelihoods (``X @ feature_log_prob_.T``)
    to probabilities, temperature-scaled: softmax(β · log(p + 1e-12)), as
    scikit-learn computes them. In plain numpy: on a batch of 32, SciPy's
    logsumexp and softmax cost more than the product itself."""
    joint = np.asarray(joint, dtype=np.float64)
    proba = np.exp(joint - joint.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    logits = beta * np.log(proba + 1e-12)
    scaled = np.exp(logits - logits.max(axis=1, keepdims=True))
    return scaled / scaled.sum(axis=1, keepdims=True)


def build_features(min_df: int = 2) -> FeatureUnion:
    """jieba words, character 1–2-grams and the subject's character 1–3-grams
    side by side.

    Words carry meaning; character n-grams survive jieba's mistakes on names,
    typos and words missing from the dictionary; the subject block lets the
    first words of a message, where people say what it is about, count apart.
    The weights are what grouped cross-validation on the government messages
    supported (bench/classifier_explore.py). Terms seen in one text only
    (min_df=2) are dropped: in a hand-written corpus they are mostly that
    text's own names and numbers.
    """
    if min_df < 1:
        raise ValueError("min_df counts texts: 1 or more")
    return FeatureUnion(
        [
            ("words", WordNgramVectorizer(tokenizer=tokenize, ngram_range=(1, 1), min_df=min_df, dtype=np.float32)),
            ("chars", CharNgramVectorizer(ngram_range=(1, 2), min_df=min_df, dtype=np.float32)),
            (
                "subject",
                CharNgramVectorizer(preprocessor=subject, ngram_range=(1, 3), min_df=min_df, dtype=np.float32),
            ),
        ],
        transformer_weights={"words": 1.0, "chars": 1.3, "subject": 1.0},
    )


def subject(text: str) -> str:
    """The first characters of a normalised message (module-level so pipelines pickle)."""
    return text[:SUBJECT_CHARS]


class KeepBestFeatures(TransformerMixin, BaseEstimator):
    """The ``k`` features of highest χ² with the labels (all when there are
    fewer), kept by a fixed 0/1 projection.

    Dropping the many terms that say nothing of the topic lifted grouped
    cross-validated macro-F1 by about 0.3 points. SelectKBest ranks every
    score again on each transform; the projection costs only the message's
    own non-zeros.
    """

    def __init__(self, k: int = KEPT_FEATURES) -> None:
        self.k = k

    def fit(self, X, y) -> KeepBestFeatures:
        selector = SelectKBest(chi2, k=self.k if self.k < X.shape[1] else "all").fit(X, y)
        kept = np.flatnonzero(selector.get_support())
        self.n_features_in_ = X.shape[1]
        self.projection_ = sp.csr_matrix(
            (np.ones(len(kept), dtype=np.float32), (kept, np.arange(len(kept)))),
            shape=(X.shape[1], len(kept)),
        )
        return self

    def transform(self, X):
        check_is_fitted(self, "projection_")
        return sp.csr_matrix(X) @ self.projection_


def pipeline_proba(pipeline: Pipeline, texts: Sequence[str]) -> np.ndarray:
    """``pipeline.predict_proba(texts)`` for a fitted pipeline whose first
    step makes the features and whose last gives probabilities, without scikit-learn's per-call overhead.

    For one message, that overhead (joblib's dispatch of the FeatureUnion's
    parts, input validation) costs more than the features and the model
    together; the arithmetic is the pipeline's own, and a test holds the two
    equal.
    """
    features, *between, model = (step for _, step in pipeline.steps)
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        if isinstance(features, FeatureUnion):
            weights = features.transformer_weights or {}
            blocks = [
                part.transform(texts) * weights.get(name, 1.0)
                for name, part in features.transformer_list
                if part not in ("drop", None)
            ]
            X = sp.hstack(blocks, format="csr")
        else:
            X = features.transform(texts)
        for step in between:
            X = step.transform(X)
        return model.predict_proba(X)


def lean_proba(pipeline: Pipeline, lean: LeanPipeline | None, texts: Sequence[str]) -> np.ndarray:
    """The pipeline's probabilities: through its lean path, when it has one,
    for a message or a small batch; a large batch is counted faster in one
    pass by the pipeline's own vectorised steps."""
    if lean is not None and len(texts) <= LEAN_BATCH:
        return lean.predict_proba(texts)
    return pipeline_proba(pipeline, texts)


def build_pipeline(min_df: int = 2) -> Pipeline:
    """The text features, the most telling of them, then the two-level model
    (the topic's SVM with a naive Bayes beside it)."""
    return Pipeline(
        [
            ("features", build_features(min_df)),
            ("select", KeepBestFeatures()),
            ("model", TwoLevelClassifier(nb_weight=NAIVE_BAYES_WEIGHT)),
        ]
    )


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
    ) -> TopicModel:
        if len(texts) != len(labels):
            raise ValueError("texts and labels differ in length")
        distinct = sorted(set(labels))
        if len(distinct) < 2:
            raise ValueError("training needs at least two different labels")
        # Below a hundred texts every term counts: pruning would leave little to learn from.
        pipeline = pipeline or build_pipeline(min_df=2 if len(texts) >= SMALL_DATA else 1)
        pipeline.fit([normalise(t) for t in texts], list(labels))
        counts = {label: int(n) for label, n in zip(*np.unique(labels, return_counts=True), strict=True)}
        return cls(
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
