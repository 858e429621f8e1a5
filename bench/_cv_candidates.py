"""The candidate pipelines bench/classifier_cv.py cross-validates (and
bench/classifier_explore.py borrows NBSVM from): CANDIDATES, by name, and the
building blocks they are made of. Every candidate is one scikit-learn Pipeline
from the raw ``text`` string to a label.

Module-level functions and classes so that fitted pipelines pickle (by name:
``_cv_candidates.subject``, ``_cv_candidates.NBSVM`` …). Imports the project's
packages: the script puts the checkout's root on sys.path first.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import LabelEncoder
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from classifier.estimators import build_pipeline
from classifier.estimators import subject as project_subject
from classifier.text import normalise, tokenize


def subject(text: str) -> str:
    """The first 25 characters of a normalised message: the subject comes first,
    and a block of features of its own lets it count apart from the body."""
    return normalise(text)[:25]


def words(ngram=(1, 1), min_df=1, max_df=1.0) -> TfidfVectorizer:
    """jieba words of the normalised raw text."""
    return TfidfVectorizer(
        preprocessor=normalise,
        tokenizer=tokenize,
        token_pattern=None,
        lowercase=False,
        ngram_range=ngram,
        sublinear_tf=True,
        min_df=min_df,
        max_df=max_df,
        dtype=np.float32,
    )


def chars(ngram=(1, 2), analyzer="char", min_df=1, max_df=1.0, preprocessor=normalise) -> TfidfVectorizer:
    return TfidfVectorizer(
        preprocessor=preprocessor,
        analyzer=analyzer,
        ngram_range=ngram,
        sublinear_tf=True,
        min_df=min_df,
        max_df=max_df,
        dtype=np.float32,
    )


def word_char(word_ngram=(1, 2), char_ngram=(1, 3), min_df=1, max_df=1.0, analyzer="char"):
    """The brief's baseline features: word and character TF-IDF side by side."""
    return FeatureUnion(
        [("words", words(word_ngram, min_df, max_df)), ("chars", chars(char_ngram, analyzer, min_df, max_df))]
    )


def best_features() -> FeatureUnion:
    """What the exploration settled on: jieba unigrams, character 1–2-grams
    (weighted 1.3), and character 1–3-grams of the subject (first 25 chars)."""
    return FeatureUnion(
        [
            ("words", words((1, 1))),
            ("chars", chars((1, 2))),
            ("subject", chars((1, 3), preprocessor=subject)),
        ],
        transformer_weights={"words": 1.0, "chars": 1.3, "subject": 1.0},
    )


class NBSVM(ClassifierMixin, BaseEstimator):
    """One-vs-rest linear SVMs on features scaled by each class's log-count ratio
    (Wang & Manning 2012), interpolated with the plain SVM weights by ``beta``."""

    def __init__(self, C: float = 0.3, alpha: float = 1.0, beta: float = 0.25) -> None:
        self.C = C
        self.alpha = alpha
        self.beta = beta

    def fit(self, X, y):
        X = sp.csr_matrix(X)
        self.encoder_ = LabelEncoder().fit(y)
        self.classes_ = self.encoder_.classes_
        codes = self.encoder_.transform(y)
        coefs, intercepts = [], []
        for k in range(len(self.classes_)):
            pos = codes == k
            p = self.alpha + np.asarray(X[pos].sum(axis=0)).ravel()
            q = self.alpha + np.asarray(X[~pos].sum(axis=0)).ravel()
            r = np.log((p / p.sum()) / (q / q.sum()))
            svm = LinearSVC(C=self.C, class_weight="balanced").fit(X @ sp.diags(r), pos.astype(int))
            w = svm.coef_.ravel()
            w = (1 - self.beta) * np.abs(w).mean() + self.beta * w
            coefs.append(w * r)
            intercepts.append(svm.intercept_[0])
        self.coef_ = np.vstack(coefs).astype(np.float32)
        self.intercept_ = np.array(intercepts)
        return self

    def decision_function(self, X):
        check_is_fitted(self, "coef_")
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def predict(self, X):
        return self.classes_[self.decision_function(X).argmax(axis=1)]


class MeanDecision(ClassifierMixin, BaseEstimator):
    """Weighted mean of the base models' decision functions, each divided by its
    spread on the training set so that margins of different models compare."""

    def __init__(self, estimators=(), weights=None) -> None:
        self.estimators = estimators
        self.weights = weights

    def fit(self, X, y):
        self.fitted_ = [clone(e).fit(X, y) for e in self.estimators]
        self.classes_ = self.fitted_[0].classes_
        self.scales_ = [float(np.std(self._raw(e, X))) for e in self.fitted_]
        return self

    @staticmethod
    def _raw(est, X):
        if hasattr(est, "decision_function"):
            return est.decision_function(X)
        scores = est.predict_joint_log_proba(X)
        return scores - scores.mean(axis=1, keepdims=True)

    def decision_function(self, X):
        weights = self.weights or [1.0] * len(self.fitted_)
        return sum(w * self._raw(e, X) / s for w, e, s in zip(weights, self.fitted_, self.scales_, strict=True))

    def predict(self, X):
        return self.classes_[self.decision_function(X).argmax(axis=1)]


def pipe(features, model) -> Pipeline:
    return Pipeline([("features", features), ("model", model)])


def normalised_subject(text: str) -> str:
    return project_subject(normalise(text))


def project() -> Pipeline:
    """The project's pipeline as shipped, fed raw text: its vectorisers get the
    project's normalise as preprocessor (TopicModel normalises before fitting)."""
    p = build_pipeline()
    return p.set_params(
        features__words__preprocessor=normalise,
        features__chars__preprocessor=normalise,
        features__subject__preprocessor=normalised_subject,
    )


CANDIDATES: dict[str, Callable[[], Pipeline]] = {
    # (a) the project's own pipeline (classifier/estimators.py build_pipeline)
    "project": project,
    # (b) word 1-2 + char 1-3 TF-IDF, LinearSVC (C 0.1 / 0.3 / 1 explored; 1 best)
    "svc_w12_c13": lambda: pipe(word_char(), LinearSVC(C=1.0)),
    # (f) + subject block, fewer n-gram orders, balanced classes: the best found
    "svc_best": lambda: pipe(best_features(), LinearSVC(C=1.0, class_weight="balanced")),
    # (c) logistic regression on the best features
    "lr_best_C30": lambda: pipe(best_features(), LogisticRegression(C=30, class_weight="balanced", max_iter=1000)),
    # (d) SGD modified huber and ridge on the best features
    "sgd_mhuber_best": lambda: pipe(
        best_features(), SGDClassifier(loss="modified_huber", alpha=2e-5, max_iter=30, tol=None, random_state=0)
    ),
    "ridge_best": lambda: pipe(best_features(), RidgeClassifier(alpha=1.0, solver="sparse_cg", class_weight="balanced")),
    # (e) ensemble: mean of standardised decision functions
    "ens_svc_ridge_nb": lambda: pipe(
        best_features(),
        MeanDecision(
            [
                LinearSVC(C=1.0, class_weight="balanced"),
                RidgeClassifier(alpha=1.0, solver="sparse_cg", class_weight="balanced"),
                ComplementNB(alpha=0.1),
            ],
            weights=[1.0, 1.0, 0.4],
        ),
    ),
    # (f) other field tricks
    "svc_w12_c13_mindf2_maxdf.5": lambda: pipe(word_char(min_df=2, max_df=0.5), LinearSVC(C=1.0)),
    "nbsvm_best": lambda: pipe(best_features(), NBSVM(C=1.0, beta=1.0)),
}
