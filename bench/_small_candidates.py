"""The learners bench/small_data.py compares on ten to forty examples per
class: the two baselines the issue names, the agency model as it was before
and as it is shipped now, and the candidates tried on the way.

Every candidate is a function of no arguments that returns an unfitted
learner with ``fit(texts, labels)``, ``predict(texts)`` and, when it gives
probabilities, ``predict_proba(texts)`` over ``classes_``. Texts come
normalised (``classifier.text.normalise``), the same for every candidate.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from classifier.agency import AgencyModel
from classifier.dataset import shipped_corpus
from classifier.estimators import SMALL_DATA, build_features
from classifier.estimators import subject as project_subject
from classifier.ngrams import CharNgramVectorizer, WordNgramVectorizer
from classifier.text import normalise, tokenize


def baseline(sublinear_tf: bool) -> Pipeline:
    """The issue's baseline: character 1–3-gram TF-IDF and a linear SVM, all defaults."""
    return Pipeline(
        [
            ("tfidf", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=sublinear_tf)),
            ("svm", LinearSVC()),
        ]
    )


class Shipped(ClassifierMixin, BaseEstimator):
    """``AgencyModel.train`` and its predictions, exactly as production uses them."""

    def fit(self, texts, labels) -> Shipped:
        self.model_ = AgencyModel.train(list(texts), list(labels))
        self.classes_ = np.array(self.model_.agencies, dtype=object)
        return self

    def predict_proba(self, texts) -> np.ndarray:
        return self.model_.predict_proba(list(texts))

    def predict(self, texts) -> np.ndarray:
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]


class Before(Shipped):
    """The agency model before the small-data work: the topic model's
    features (min_df 2 from a hundred examples) and a logistic regression
    (C=10, balanced) calibrated by sigmoid on five folds, averaged."""

    def fit(self, texts, labels) -> Before:
        folds = min(5, int(np.unique(labels, return_counts=True)[1].min()))
        logistic = LogisticRegression(C=10.0, class_weight="balanced", max_iter=500, tol=1e-3)
        self.pipeline_ = Pipeline(
            [
                ("features", build_features(2 if len(texts) >= SMALL_DATA else 1)),
                ("model", CalibratedClassifierCV(logistic, method="sigmoid", cv=folds)),
            ]
        ).fit(list(texts), list(labels))
        self.classes_ = self.pipeline_.classes_
        return self

    def predict_proba(self, texts) -> np.ndarray:
        return self.pipeline_.predict_proba(list(texts))


def jieba_words(sublinear_tf: bool) -> WordNgramVectorizer:
    return WordNgramVectorizer(tokenizer=tokenize, ngram_range=(1, 1), sublinear_tf=sublinear_tf, dtype=np.float32)


def char_words(chars=(1, 3), word_weight: float = 1.0, sublinear_tf: bool = True) -> FeatureUnion:
    """Character n-grams and jieba words side by side, every term kept."""
    return FeatureUnion(
        [
            ("chars", CharNgramVectorizer(ngram_range=chars, sublinear_tf=sublinear_tf, dtype=np.float32)),
            ("words", jieba_words(sublinear_tf)),
        ],
        transformer_weights={"chars": 1.0, "words": word_weight},
    )


def blocks(chars=(1, 2), char_weight=1.3, words=True, subject=True, sublinear_tf=True) -> FeatureUnion:
    """The topic model's three blocks (``build_features``), each one optional and every term kept."""
    parts, weights = [], {}
    if words:
        parts.append(("words", jieba_words(sublinear_tf)))
    parts.append(("chars", CharNgramVectorizer(ngram_range=chars, sublinear_tf=sublinear_tf, dtype=np.float32)))
    weights["chars"] = char_weight
    if subject:
        subject_chars = CharNgramVectorizer(
            preprocessor=project_subject, ngram_range=(1, 3), sublinear_tf=sublinear_tf, dtype=np.float32
        )
        parts.append(("subject", subject_chars))
    return FeatureUnion(parts, transformer_weights=weights)


def with_plain(weight: float = 1.0, **kw) -> FeatureUnion:
    """The baseline's character 1–3-grams (raw counts) as one more block beside ``blocks``."""
    union = blocks(**kw)
    union.transformer_list.append(("plain", plain_chars(False)))
    union.transformer_weights["plain"] = weight
    return union


def with_unigrams(weight: float = 1.0, **kw) -> FeatureUnion:
    """Single characters as a block of their own beside ``blocks``."""
    union = blocks(**kw)
    unigrams = CharNgramVectorizer(ngram_range=(1, 1), sublinear_tf=False, dtype=np.float32)
    union.transformer_list.append(("unigrams", unigrams))
    union.transformer_weights["unigrams"] = weight
    return union


class Halves(ClassifierMixin, BaseEstimator):
    """Each training text also as its two halves (a text's parts say what it is
    about too): more examples for the same labels."""

    def __init__(self, make=None) -> None:
        self.make = make

    def fit(self, texts, labels) -> Halves:
        texts, labels = list(texts), list(labels)
        more = [t[: len(t) // 2] for t in texts] + [t[len(t) // 2 :] for t in texts]
        self.model_ = self.make().fit(texts + more, labels + labels + labels)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, texts):
        return self.model_.predict(list(texts))


def chars_only(sublinear_tf: bool = True) -> CharNgramVectorizer:
    return CharNgramVectorizer(ngram_range=(1, 3), sublinear_tf=sublinear_tf, dtype=np.float32)


class Centroids(ClassifierMixin, BaseEstimator):
    """Nearest centroid by cosine (原型): each class's mean unit vector."""

    def fit(self, X, y) -> Centroids:
        self.classes_, index = np.unique(y, return_inverse=True)
        X = normalize(sp.csr_matrix(X))
        sums = np.vstack([np.asarray(X[index == k].sum(axis=0)) for k in range(len(self.classes_))])
        self.centroids_ = normalize(sums)
        return self

    def decision_function(self, X) -> np.ndarray:
        return np.asarray(normalize(sp.csr_matrix(X)) @ self.centroids_.T)

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.decision_function(X).argmax(axis=1)]


def svm(C: float = 1.0, balanced: bool = True) -> LinearSVC:
    return LinearSVC(C=C, class_weight="balanced" if balanced else None)


def lr(C: float, balanced: bool = True) -> LogisticRegression:
    return LogisticRegression(C=C, class_weight="balanced" if balanced else None, max_iter=2000)


def temperature(estimator, folds: int = 5) -> CalibratedClassifierCV:
    """Scores to probabilities by one temperature fitted on held-out folds;
    the estimator itself is fitted on every example, so its answers stay."""
    return CalibratedClassifierCV(estimator, method="temperature", cv=folds, ensemble=False)


def pipe(features, model) -> Callable[[], Pipeline]:
    return lambda: Pipeline([("features", features()), ("model", model())])


@lru_cache(maxsize=1)
def corpus_texts() -> tuple[str, ...]:
    return tuple(normalise(t) for t in shipped_corpus().texts)


class WithCorpus(ClassifierMixin, BaseEstimator):
    """Terms and their IDF from the shipped corpus and the training texts
    together, the model from the training texts alone: seventy texts say
    little of how common a term is, two thousand more of the same kind say more."""

    def __init__(self, features=None, model=None) -> None:
        self.features = features
        self.model = model

    def fit(self, texts, labels) -> WithCorpus:
        self.features_ = self.features().fit(list(corpus_texts()) + list(texts))
        self.model_ = self.model().fit(self.features_.transform(list(texts)), labels)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, texts):
        return self.model_.predict(self.features_.transform(list(texts)))


class WithCorpusProba(WithCorpus):
    def predict_proba(self, texts):
        return self.model_.predict_proba(self.features_.transform(list(texts)))


def corpus(features, model, proba: bool = False) -> Callable[[], WithCorpus]:
    return lambda: (WithCorpusProba if proba else WithCorpus)(features, model)


def plain_chars(sublinear_tf: bool) -> TfidfVectorizer:
    return CharNgramVectorizer(ngram_range=(1, 3), sublinear_tf=sublinear_tf, dtype=np.float32)


CANDIDATES: dict[str, Callable[[], object]] = {
    "baseline_a": lambda: baseline(False),
    "baseline_b": lambda: baseline(True),
    "before": Before,
    "shipped": Shipped,
    "chars_svm_bal": pipe(chars_only, svm),
    "cw_svm": pipe(char_words, lambda: svm(balanced=False)),
    "cw_svm_bal": pipe(char_words, svm),
    "cw_svm_c10": pipe(char_words, lambda: svm(C=10.0)),
    "cw_svm_c01": pipe(char_words, lambda: svm(C=0.3)),
    "cw_raw_svm": pipe(lambda: char_words(sublinear_tf=False), svm),
    "c12w_svm": pipe(lambda: char_words(chars=(1, 2)), svm),
    "c24w_svm": pipe(lambda: char_words(chars=(2, 4)), svm),
    "cw2_svm": pipe(lambda: char_words(word_weight=2.0), svm),
    "cw_lr": pipe(char_words, lambda: lr(10.0)),
    "cw_lr100": pipe(char_words, lambda: lr(100.0)),
    "cw_ridge": pipe(char_words, lambda: RidgeClassifier(alpha=1.0, class_weight="balanced")),
    "cw_centroid": pipe(char_words, Centroids),
    "cw_cnb": pipe(char_words, lambda: ComplementNB(alpha=0.3)),
    "cw_svm_temp": pipe(char_words, lambda: temperature(svm())),
    "a_corpus": corpus(lambda: plain_chars(False), lambda: svm(balanced=False)),
    "b_corpus": corpus(lambda: plain_chars(True), lambda: svm(balanced=False)),
    "feat_svm": pipe(lambda: build_features(1), svm),
    "feat_corpus_svm": corpus(lambda: build_features(1), svm),
    "feat_corpus_lr": corpus(lambda: build_features(1), lambda: lr(10.0)),
    "cw_corpus_svm": corpus(char_words, svm),
    "a_subject": pipe(lambda: blocks(chars=(1, 3), char_weight=1.0, words=False, sublinear_tf=False), svm),
    "feat_raw_svm": pipe(lambda: blocks(sublinear_tf=False), svm),
    "feat13_svm": pipe(lambda: blocks(chars=(1, 3)), svm),
    "feat13_raw_svm": pipe(lambda: blocks(chars=(1, 3), sublinear_tf=False), svm),
    "feat_nowords_svm": pipe(lambda: blocks(words=False), svm),
    "a_c01": lambda: Pipeline([("f", plain_chars(False)), ("m", svm(C=0.1))]),
    "a_c10": lambda: Pipeline([("f", plain_chars(False)), ("m", svm(C=10.0))]),
    "a_lr": lambda: Pipeline([("f", plain_chars(False)), ("m", lr(100.0, balanced=False))]),
    "c14_raw": lambda: Pipeline([("f", CharNgramVectorizer(ngram_range=(1, 4), sublinear_tf=False)), ("m", svm())]),
    "c23_raw": lambda: Pipeline([("f", CharNgramVectorizer(ngram_range=(2, 3), sublinear_tf=False)), ("m", svm())]),
    "feat_plain": pipe(lambda: with_plain(sublinear_tf=False), svm),
    "feat_plain2": pipe(lambda: with_plain(2.0, sublinear_tf=False), svm),
    "a_halves": lambda: Halves(lambda: baseline(False)),
    "feat_raw_halves": lambda: Halves(pipe(lambda: blocks(sublinear_tf=False), svm)),
    "feat_raw_lr": pipe(lambda: blocks(sublinear_tf=False), lambda: lr(100.0)),
    "uni_feat": pipe(lambda: with_unigrams(1.0, sublinear_tf=False), svm),
    "uni_feat2": pipe(lambda: with_unigrams(2.0, sublinear_tf=False), svm),
    "a_uni": pipe(
        lambda: with_unigrams(1.0, chars=(1, 3), char_weight=1.0, words=False, subject=False, sublinear_tf=False), svm
    ),
    "uni_feat15": pipe(lambda: with_unigrams(1.5, sublinear_tf=False), svm),
    "uni_feat_halves": lambda: Halves(pipe(lambda: with_unigrams(1.0, sublinear_tf=False), svm)),
    "uni_feat_temperature": pipe(lambda: with_unigrams(1.0, sublinear_tf=False), lambda: temperature(svm())),
    "uni_feat_sigmoid": pipe(
        lambda: with_unigrams(1.0, sublinear_tf=False),
        lambda: CalibratedClassifierCV(svm(), method="sigmoid", cv=5, ensemble=False),
    ),
    "feat_svm_c03": pipe(lambda: build_features(1), lambda: svm(C=0.3)),
    "feat_svm_c3": pipe(lambda: build_features(1), lambda: svm(C=3.0)),
}
