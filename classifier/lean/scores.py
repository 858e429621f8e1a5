"""The lean path's second half: the linear models' scores side by side, and
how each model turns them into probabilities (softmax, temperature, Platt),
as scikit-learn's estimators do (see ``classifier.lean``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import LabelEncoder
from sklearn.svm import LinearSVC

from ..estimators import SvmWithNaiveBayes, TwoLevelClassifier, naive_bayes_proba
from .features import Unsupported

LINEAR_MODELS = (LinearSVC, LogisticRegression)
# CalibratedClassifierCV sets probabilities this little above one to one.
_ABOVE_ONE = 1e-5


class LinearScores:
    """The decision functions of several linear models side by side, grouped
    by the dtype scikit-learn computes them in: a matrix of weights (a column
    per model and class) and a row of intercepts per group.

    A logistic regression fitted on float32 features keeps float32 weights,
    and scikit-learn then sums in float32, term by term in the order of the
    features' CSR row (``csr_matvecs``); the lean path does the same, so that
    rounding is the same. In float64 the order changes nothing that shows.
    """

    def __init__(self, features_dtype) -> None:
        self.features_dtype = np.dtype(features_dtype)
        self.dtypes: list[np.dtype] = []
        self._weights: list[list[np.ndarray]] = []
        self._intercepts: list[list[np.ndarray]] = []
        self._widths: list[int] = []

    def add(self, estimator) -> tuple[int, slice]:
        """Which group, and which of its columns, will hold ``estimator.decision_function``."""
        if type(estimator) not in LINEAR_MODELS:
            raise Unsupported(f"model {type(estimator).__name__}")
        return self.add_weights(estimator.coef_, estimator.intercept_)

    def add_weights(self, coef, intercept) -> tuple[int, slice]:
        """The same for ``X @ coef.T + intercept``."""
        intercept = np.asarray(intercept)
        if sp.issparse(coef) or coef.ndim != 2 or intercept.dtype != coef.dtype:
            raise Unsupported("sparse or one-dimensional coefficients, or intercepts of another dtype")
        dtype = np.result_type(self.features_dtype, coef.dtype)
        if dtype not in (np.float32, np.float64):
            raise Unsupported(f"scores in {dtype}")
        if dtype not in self.dtypes:
            self.dtypes.append(dtype)
            self._weights.append([])
            self._intercepts.append([])
            self._widths.append(0)
        group = self.dtypes.index(dtype)
        self._weights[group].append(coef.T.astype(dtype))
        self._intercepts[group].append(np.broadcast_to(intercept, coef.shape[:1]))
        start = self._widths[group]
        self._widths[group] += coef.shape[0]
        return group, slice(start, self._widths[group])

    def matrices(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [
            (np.ascontiguousarray(np.hstack(weights)), np.concatenate(intercepts))
            for weights, intercepts in zip(self._weights, self._intercepts)
        ]


def _softmax(X: np.ndarray) -> np.ndarray:
    """``sklearn.utils.extmath.softmax`` on a copy."""
    X = X - X.max(axis=1).reshape(-1, 1)
    np.exp(X, out=X)
    X /= X.sum(axis=1).reshape(-1, 1)
    return X


@dataclass(frozen=True)
class Logistic:
    """``LogisticRegression.predict_proba``."""

    columns: tuple[int, slice]

    def __call__(self, scores: list[np.ndarray]) -> np.ndarray:
        group, columns = self.columns
        decision = scores[group][:, columns]
        if decision.shape[1] == 1:  # binary: the OvR formula of _predict_proba_lr
            positive = expit(decision[:, 0])
            return np.stack([1 - positive, positive], axis=1)
        return _softmax(decision)


@dataclass(frozen=True)
class Calibrated:
    """``CalibratedClassifierCV.predict_proba``: each calibrated classifier's
    probabilities (``_CalibratedClassifier.predict_proba``), averaged."""

    method: str
    n_classes: int
    # Per calibrated classifier: its score columns and its calibrators'
    # parameters — the temperature's β, or Platt's (a, b) per class with the
    # class each calibrates.
    members: tuple[tuple[tuple[int, slice], object], ...]

    def __call__(self, scores: list[np.ndarray]) -> np.ndarray:
        mean = None
        for (group, columns), parameters in self.members:
            proba = self._member(scores[group][:, columns], parameters)
            if proba.max(initial=0.0) > 1.0:
                proba[(1.0 < proba) & (proba <= 1.0 + _ABOVE_ONE)] = 1.0
            if len(self.members) == 1:
                return proba  # what (0 + proba) / 1 gives, bit for bit
            if mean is None:
                mean = np.zeros((proba.shape[0], self.n_classes))
            mean += proba
        mean /= len(self.members)
        return mean

    def _member(self, predictions: np.ndarray, parameters) -> np.ndarray:
        if self.method == "temperature":
            return _softmax(parameters * _logits(predictions))
        proba = np.zeros((predictions.shape[0], self.n_classes))
        for class_index, prediction, (a, b) in zip(parameters[0], predictions.T, parameters[1]):
            if self.n_classes == 2:
                class_index += 1
            proba[:, class_index] = expit(-(a * prediction + b))
        if self.n_classes == 2:
            proba[:, 0] = 1.0 - proba[:, 1]
            return proba
        total = proba.sum(axis=1)[:, np.newaxis]
        return np.divide(proba, total, out=np.full_like(proba, 1 / self.n_classes), where=total != 0)


def _logits(decision: np.ndarray) -> np.ndarray:
    """``sklearn.calibration._convert_to_logits`` for decision values,
    including its test, over the whole batch, of whether they look like
    probabilities."""
    if decision.shape[1] == 1:
        return np.concatenate([-decision, decision], axis=1)
    # min and max first: all between 0 and 1, as its test asks, but in one
    # pass where (as nearly always) some score is negative.
    if (
        decision.min(initial=0.0) >= 0
        and decision.max(initial=1.0) <= 1
        and np.all(np.isclose(decision.sum(axis=1), 1.0))
    ):
        return np.log(decision + 1e-12)
    return decision


def _calibrated(model: CalibratedClassifierCV, scores: LinearScores) -> Calibrated:
    if model.method not in ("temperature", "sigmoid"):
        raise Unsupported(f"calibration {model.method!r}")
    members = []
    for calibrated in model.calibrated_classifiers_:
        if calibrated.method != model.method:
            raise Unsupported("calibrators of mixed methods")
        columns = scores.add(calibrated.estimator)
        if model.method == "temperature":
            members.append((columns, calibrated.calibrators[0].beta_))
        else:
            positions = LabelEncoder().fit(calibrated.classes).transform(calibrated.estimator.classes_)
            platt = tuple((c.a_, c.b_) for c in calibrated.calibrators)
            members.append((columns, (tuple(int(p) for p in positions), platt)))
    return Calibrated(model.method, len(model.classes_), tuple(members))


@dataclass(frozen=True)
class TwoLevels:
    """``TwoLevelClassifier.predict_proba``."""

    topic: Callable[[list[np.ndarray]], np.ndarray]
    label: Callable[[list[np.ndarray]], np.ndarray]
    topic_of_label: np.ndarray
    folding: np.ndarray

    def __call__(self, scores: list[np.ndarray]) -> np.ndarray:
        topic_proba, label_proba = self.topic(scores), self.label(scores)
        within = (label_proba @ self.folding)[:, self.topic_of_label]
        return topic_proba[:, self.topic_of_label] * label_proba / within


@dataclass(frozen=True)
class SvmAndNaiveBayes:
    """``SvmWithNaiveBayes.predict_proba``."""

    model: Any  # the fitted SvmWithNaiveBayes, for its weight and its arithmetic
    svm: Calibrated
    naive_bayes: tuple[int, slice] | None  # the columns of X @ feature_log_prob_.T

    def __call__(self, scores: list[np.ndarray]) -> np.ndarray:
        def naive_bayes() -> np.ndarray:
            group, columns = self.naive_bayes
            return naive_bayes_proba(scores[group][:, columns], self.model.nb_beta_)

        return self.model.mixed(self.svm(scores), naive_bayes)


def probabilities_of(model, scores: LinearScores) -> Callable[[list[np.ndarray]], np.ndarray]:
    if type(model) is SvmWithNaiveBayes:
        svm = _calibrated(model.svm_, scores)
        if model.nb_weight <= 0:
            return SvmAndNaiveBayes(model, svm, None)
        log_prob = model.nb_log_prob_
        return SvmAndNaiveBayes(model, svm, scores.add_weights(log_prob.T, np.zeros(log_prob.shape[1], log_prob.dtype)))
    if type(model) is TwoLevelClassifier:
        topic = probabilities_of(model.topic_model_, scores)
        label = probabilities_of(model.label_model_, scores)
        folding = np.zeros((len(model.classes_), len(model.topic_model_.classes_)))
        folding[np.arange(len(model.classes_)), model.topic_of_label_] = 1.0
        return TwoLevels(topic, label, model.topic_of_label_, folding)
    if type(model) is CalibratedClassifierCV:
        return _calibrated(model, scores)
    if type(model) is LogisticRegression:
        return Logistic(scores.add(model))
    raise Unsupported(f"model {type(model).__name__}")

