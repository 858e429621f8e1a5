"""The lean prediction path (精简预测): a fitted pipeline's arithmetic as plain
arrays, for one message at a time.

Web forms and the WeChat callback classify one message at a time. Through the
scikit-learn Pipeline that costs about 3 ms, nearly all of it input checks
and dispatch that every step repeats on every call; the arithmetic itself —
count a message's terms, weight, normalise, one product with the linear
models' weights, calibrate — is a few dozen microseconds.

``compile_pipeline`` reads a fitted pipeline once and keeps what prediction
needs: each TF-IDF block's vocabulary and IDF, the kept features folded into
one map from block column to weight row, the weights and intercepts of every
linear model the final step holds side by side in one matrix, and how each
turns its scores into probabilities (softmax, temperature, Platt). The
pipeline stays the trained and stored object; this is derived from it and
never stored. Each operation mirrors the scikit-learn code it replaces
(scikit-learn 1.9: ``TfidfTransformer.transform``, ``normalize``,
``LinearClassifierMixin.decision_function``, ``CalibratedClassifierCV``), in
the same dtype, and the tests hold the probabilities equal to
``Pipeline.predict_proba``.

A step it does not know — another vectoriser, transformer or model, even a
subclass of a known one — makes ``compile_pipeline`` return None, and the
caller uses the pipeline itself; so does a lean path that disagrees with the
pipeline on a few probe texts, as it would if a known step's code changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.feature_selection import SelectKBest, SelectPercentile
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import LabelEncoder
from sklearn.svm import LinearSVC

from .ngrams import (
    MAX_CHARS,
    CharNgramVectorizer,
    WordNgramVectorizer,
    code_points,
    find_keys,
    ngram_keys,
    vocabulary_keys,
)

log = logging.getLogger(__name__)

# Exact types: a subclass may count or score differently.
VECTORISERS = (TfidfVectorizer, CharNgramVectorizer, WordNgramVectorizer)
SELECTORS = (SelectKBest, SelectPercentile)
LINEAR_MODELS = (LinearSVC, LogisticRegression)
# Compiling checks the lean path against the pipeline on a few texts made of
# this many terms of each vocabulary, to this relative tolerance (the tests
# hold the two far closer; this is to catch a step that changed its meaning).
PROBE_TERMS = 40
PROBE_TOLERANCE = 1e-6
# CalibratedClassifierCV sets probabilities this little above one to one.
_ABOVE_ONE = 1e-5


class Unsupported(Exception):
    """A step the lean path does not know; the pipeline answers instead."""


# -- text to features ---------------------------------------------------------


class CharColumns:
    """Columns of a text's character n-grams of up to three characters,
    one per occurrence: each n-gram an integer made from its code points,
    found in the sorted vocabulary with one ``searchsorted`` (as
    ``CharNgramVectorizer`` counts a batch). The same n-grams as
    scikit-learn's ``_char_ngrams``."""

    def __init__(self, vectoriser: TfidfVectorizer) -> None:
        self.preprocess, self.spaces = vectoriser.build_preprocessor(), vectoriser._white_spaces
        self.decode = vectoriser.decode
        self.lengths = range(vectoriser.ngram_range[0], vectoriser.ngram_range[1] + 1)
        try:
            self.keys, self.columns = vocabulary_keys(vectoriser.vocabulary_)
        except ValueError as error:  # a vocabulary given, with longer terms
            raise Unsupported(str(error)) from error

    def __call__(self, document: str) -> np.ndarray:
        points = code_points(self.spaces.sub(" ", self.preprocess(self.decode(document))))
        keys = np.concatenate([ngram_keys(points, n) for n in self.lengths])
        keys.sort()  # sorted needles make searchsorted's walks short
        where, known = find_keys(self.keys, keys)
        return self.columns[where[known]]


class TermColumns:
    """Columns of a text's terms as the vectoriser's own analyser makes them
    (words, word pairs…), one per occurrence."""

    def __init__(self, vectoriser: TfidfVectorizer) -> None:
        self.analyse = vectoriser.build_analyzer()
        self.vocabulary = vectoriser.vocabulary_

    def __call__(self, document: str) -> np.ndarray:
        terms = self.analyse(document)
        columns = np.fromiter(map(self.vocabulary.get, terms, repeat(-1)), dtype=np.int64, count=len(terms))
        return columns[columns >= 0]


@dataclass(frozen=True)
class Block:
    """One TF-IDF vectoriser of the feature union: how it counts and weights."""

    columns: Callable[[str], np.ndarray]
    width: int
    dtype: type
    binary: bool
    sublinear_tf: bool
    idf: np.ndarray | None
    norm: str | None
    weight: float | None

    @classmethod
    def of(cls, vectoriser, weight) -> Block:
        if type(vectoriser) not in VECTORISERS:
            raise Unsupported(f"vectoriser {type(vectoriser).__name__}")
        if vectoriser.norm not in ("l1", "l2", None):
            raise Unsupported(f"norm {vectoriser.norm!r}")
        if vectoriser.use_idf and vectoriser.idf_.dtype != vectoriser.dtype:
            raise Unsupported("IDF of another dtype than the counts")
        # A Python number is cast to the features' dtype; a NumPy float64
        # would make the union's matrix float64.
        if weight is not None and type(weight) not in (int, float):
            raise Unsupported(f"a transformer weight of type {type(weight).__name__}")
        low, high = vectoriser.ngram_range
        short_chars = vectoriser.analyzer == "char" and 1 <= low <= high <= MAX_CHARS
        return cls(
            columns=CharColumns(vectoriser) if short_chars else TermColumns(vectoriser),
            width=len(vectoriser.vocabulary_),
            dtype=vectoriser.dtype,
            binary=vectoriser.binary,
            sublinear_tf=vectoriser.sublinear_tf,
            idf=vectoriser.idf_ if vectoriser.use_idf else None,
            norm=vectoriser.norm,
            weight=weight,
        )


def _blocks(features) -> list[Block]:
    if type(features) is not FeatureUnion:
        return [Block.of(features, None)]
    weights = features.transformer_weights or {}
    blocks = []
    for name, part in features.transformer_list:
        if isinstance(part, str) and part == "drop" or part is None:
            continue
        blocks.append(Block.of(part, weights.get(name)))
    return blocks


class Features:
    """The union's features of one text, all blocks in one pass over the
    union's columns: a column's block decides its IDF, weight and norm.

    Mirrors ``CountVectorizer.transform``, ``TfidfTransformer.transform``
    (with ``normalize``'s sums in double precision, term by term) and
    ``FeatureUnion``'s weighting on a one-row CSR matrix: the same operations
    in the same dtype over the columns in the same order. Multiplying by an
    IDF or weight of one, for blocks without, changes nothing."""

    def __init__(self, blocks: list[Block], rows: np.ndarray) -> None:
        dtypes = {np.dtype(block.dtype) for block in blocks}
        if len(dtypes) != 1:
            raise Unsupported("blocks of different dtypes")
        self.dtype = dtypes.pop()
        self.blocks = blocks
        self.offsets = np.cumsum([0] + [block.width for block in blocks])
        self.counters = [(block.columns, int(offset)) for block, offset in zip(blocks, self.offsets)]
        self.idf = self._per_column(lambda b: b.idf if b.idf is not None else np.ones(b.width))
        self.weight = self._per_column(lambda b: np.full(b.width, 1 if b.weight is None else b.weight))
        self.binary = self._mask(lambda b: b.binary)
        self.sublinear = self._mask(lambda b: b.sublinear_tf)
        self.normed = [(i, block.norm) for i, block in enumerate(blocks) if block.norm is not None]
        # Union column → row of the weight matrix; −1 for a feature not kept
        # (it still counts in its block's norm, as in the pipeline).
        self.rows = rows

    def _per_column(self, values) -> np.ndarray:
        return np.concatenate([np.asarray(values(b)).astype(self.dtype) for b in self.blocks])

    def _mask(self, flag) -> bool | np.ndarray:
        """True or False when all blocks agree, else a mask of the columns."""
        flags = {bool(flag(b)) for b in self.blocks}
        if len(flags) == 1:
            return flags.pop()
        return np.concatenate([np.full(b.width, bool(flag(b))) for b in self.blocks])

    def __call__(self, document: str) -> tuple[np.ndarray, np.ndarray]:
        """The weight rows and values of one text's kept features."""
        columns = np.concatenate([count(document) + offset for count, offset in self.counters])
        columns.sort()
        first = np.empty(len(columns), dtype=bool)
        first[:1] = True
        np.not_equal(columns[1:], columns[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        values = np.empty(len(starts), dtype=self.dtype)  # how often each column occurs
        values[:-1] = starts[1:] - starts[:-1]
        values[-1:] = len(columns) - starts[-1:]
        columns = columns[starts]
        self._binary(values, columns)
        self._sublinear(values, columns)
        values *= self.idf[columns]
        self._normalise(values, columns)
        values *= self.weight[columns]
        rows = self.rows[columns]
        kept = rows >= 0
        return rows[kept], values[kept]

    def _binary(self, values: np.ndarray, columns: np.ndarray) -> None:
        if self.binary is True:
            values.fill(1)
        elif self.binary is not False:
            values[self.binary[columns]] = 1

    def _sublinear(self, values: np.ndarray, columns: np.ndarray) -> None:
        if self.sublinear is True:
            np.log(values, values)
            values += 1.0
        elif self.sublinear is not False:
            mask = self.sublinear[columns]
            values[mask] = np.log(values[mask]) + 1.0

    def _normalise(self, values: np.ndarray, columns: np.ndarray) -> None:
        if not self.normed:
            return
        bounds = np.searchsorted(columns, self.offsets).tolist()
        squares = values * values
        for block, norm in self.normed:
            start, end = bounds[block], bounds[block + 1]
            if start == end:
                continue
            terms = squares[start:end] if norm == "l2" else np.abs(values[start:end])
            total = terms.cumsum(dtype=np.float64)[-1]  # np.float64: the division below is in double
            if total != 0.0:
                values[start:end] = values[start:end] / (np.sqrt(total) if norm == "l2" else total)


def _kept_columns(step, n_columns: int) -> tuple[np.ndarray, int]:
    """For each input column of a selection step, its output column or −1;
    and how many columns it puts out."""
    from .model import KeepBestFeatures  # model imports this module

    if type(step) is KeepBestFeatures:
        projection = step.projection_.tocoo()
        if (
            projection.shape[0] != n_columns
            or not np.all(projection.data == 1)
            or np.bincount(projection.row).max(initial=0) > 1
            or np.bincount(projection.col).max(initial=0) > 1
        ):
            raise Unsupported("a projection that does more than keep columns")
        kept = np.full(n_columns, -1, dtype=np.int64)
        kept[projection.row] = projection.col
        return kept, projection.shape[1]
    if type(step) in SELECTORS:
        support = step.get_support()
        if len(support) != n_columns:
            raise Unsupported("a selector fitted on other features")
        kept = np.full(n_columns, -1, dtype=np.int64)
        kept[support] = np.arange(int(support.sum()))
        return kept, int(support.sum())
    raise Unsupported(f"step {type(step).__name__}")


# -- scores to probabilities --------------------------------------------------


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
        from .model import naive_bayes_proba

        def naive_bayes() -> np.ndarray:
            group, columns = self.naive_bayes
            return naive_bayes_proba(scores[group][:, columns], self.model.nb_beta_)

        return self.model.mixed(self.svm(scores), naive_bayes)


def _probabilities(model, scores: LinearScores) -> Callable[[list[np.ndarray]], np.ndarray]:
    from .model import SvmWithNaiveBayes, TwoLevelClassifier  # model imports this module

    if type(model) is SvmWithNaiveBayes:
        svm = _calibrated(model.svm_, scores)
        if model.nb_weight <= 0:
            return SvmAndNaiveBayes(model, svm, None)
        log_prob = model.nb_log_prob_
        return SvmAndNaiveBayes(model, svm, scores.add_weights(log_prob.T, np.zeros(log_prob.shape[1], log_prob.dtype)))
    if type(model) is TwoLevelClassifier:
        topic = _probabilities(model.topic_model_, scores)
        label = _probabilities(model.label_model_, scores)
        folding = np.zeros((len(model.classes_), len(model.topic_model_.classes_)))
        folding[np.arange(len(model.classes_)), model.topic_of_label_] = 1.0
        return TwoLevels(topic, label, model.topic_of_label_, folding)
    if type(model) is CalibratedClassifierCV:
        return _calibrated(model, scores)
    if type(model) is LogisticRegression:
        return Logistic(scores.add(model))
    raise Unsupported(f"model {type(model).__name__}")


# -- the whole path -------------------------------------------------------------


class LeanPipeline:
    """A fitted pipeline's prediction as plain arrays (see the module's docstring)."""

    def __init__(self, features: Features, scores: LinearScores, probabilities, descending: bool) -> None:
        self.features = features
        self.dtypes = scores.dtypes
        self.matrices = scores.matrices()
        self.probabilities = probabilities
        # The order of a row's features in the pipeline's CSR matrix: each
        # KeepBestFeatures' sparse product turns it around.
        self.descending = descending

    def scores(self, text: str) -> list[np.ndarray]:
        """Every linear model's decision function on one text, a row per dtype."""
        rows, values = self.features(text)
        scores = []
        for dtype, (weights, intercepts) in zip(self.dtypes, self.matrices):
            if dtype == np.float64:
                scores.append(values.astype(np.float64) @ weights[rows] + intercepts)
                continue
            order = slice(None, None, -1 if self.descending else 1)
            terms = values[order, np.newaxis] * weights[rows[order]]
            sums = terms.cumsum(axis=0)[-1] if len(terms) else np.zeros(len(intercepts), dtype=dtype)
            scores.append(sums + intercepts)
        return scores

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("a sequence of texts, not one text")
        if len(texts) == 1:
            return self.probabilities([row[np.newaxis, :] for row in self.scores(texts[0])])
        rows = [self.scores(text) for text in texts]
        return self.probabilities(
            [
                np.vstack([row[group] for row in rows]) if rows else np.zeros((0, len(intercepts)), dtype=dtype)
                for group, (dtype, (_, intercepts)) in enumerate(zip(self.dtypes, self.matrices))
            ]
        )


def compile_pipeline(pipeline: Pipeline) -> LeanPipeline | None:
    """The lean path of a fitted ``Pipeline``, or None when it has a step the
    lean path does not know, or when it disagrees with the pipeline on a few
    probe texts (the caller then asks the pipeline)."""
    try:
        lean = _compile(pipeline)
    except Unsupported as reason:
        log.info("classifying through the scikit-learn pipeline: the lean path does not know %s", reason)
        return None
    probes = _probes(pipeline)
    expected = pipeline.predict_proba(probes)
    if not np.allclose(lean.predict_proba(probes), expected, rtol=PROBE_TOLERANCE, atol=1e-12):
        # A step whose code changed under the same name, or another
        # scikit-learn: better slow than wrong.
        log.warning("the lean path disagrees with the scikit-learn pipeline; classifying through the pipeline")
        return None
    return lean


def _probes(pipeline: Pipeline) -> list[str]:
    """Texts that touch every block: nothing, a sentence, other scripts, and
    the first terms of each vectoriser's vocabulary run together."""
    first = pipeline.steps[0][1]
    parts = [part for _, part in first.transformer_list] if type(first) is FeatureUnion else [first]
    terms = [term for part in parts for term in list(getattr(part, "vocabulary_", {}))[:PROBE_TERMS]]
    return ["", "小区物业乱收停车费，工厂晚上排放废气", "hello 123 😀", "".join(terms), " ".join(terms)]


def _compile(pipeline: Pipeline) -> LeanPipeline:
    from .model import KeepBestFeatures  # model imports this module

    if type(pipeline) is not Pipeline or len(pipeline.steps) < 2:
        raise Unsupported("anything but a pipeline of features, selections and a model")
    first, *between, model = (step for _, step in pipeline.steps)
    blocks = _blocks(first)
    if not blocks:
        raise Unsupported("a feature union without features")
    # Where each column of the union ends up after the selections.
    width = sum(block.width for block in blocks)
    rows = np.arange(width, dtype=np.int64)
    descending = False
    for step in between:
        if step is None or isinstance(step, str) and step == "passthrough":
            continue
        kept, width = _kept_columns(step, width)
        rows = np.where(rows >= 0, kept[rows], -1)
        descending ^= type(step) is KeepBestFeatures
    features = Features(blocks, rows)
    scores = LinearScores(features.dtype)
    probabilities = _probabilities(model, scores)
    for weights, _ in scores.matrices():
        if weights.shape[0] != width:
            raise Unsupported(f"a model of {weights.shape[0]} features after {width}")
    return LeanPipeline(features, scores, probabilities, descending)
