"""The topic model's building blocks (估计器): the text features, the
selection of the most telling of them, the SVM with a naive Bayes beside it,
the two-level model over ``一级/二级`` labels, and the pipeline they make.

Labels may carry two levels as ``一级/二级`` (e.g. ``城乡建设/物业管理``). The
last step of the pipeline then learns both levels: one linear model for the
first level, which sees every example of a topic together, and one for the
labels, read within the topic. Their product is a probability per label whose
sum over a topic is that topic's probability, so both levels are consistent.

Nothing here knows the lean path or the stored model: both build on this.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_selection import SelectKBest, chi2
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from .ngrams import CharNgramVectorizer, WordNgramVectorizer
from .text import tokenize

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

