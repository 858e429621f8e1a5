"""Cross-validated comparison of topic-classifier pipelines on real public data.

Reads ../shared/data/gov-messages-7class/data.csv (beside the checkout; never
copied into the project), groups near-duplicate messages (TF-IDF cosine ≥ 0.8
on character 2–3-grams, plus exact duplicates) so that each group stays in one
fold, and runs StratifiedGroupKFold over a set of candidate pipelines. Every
candidate is one scikit-learn Pipeline from the raw ``text`` string to a label.

    python3 bench/classifier_cv.py                      # all candidates, 5 folds
    python3 bench/classifier_cv.py --quick --candidates project,svc_best
    python3 bench/classifier_cv.py --list

Reports mean ± std of macro-F1 and accuracy, fit seconds per fold, prediction
throughput (messages/s, one process, fold-0 model on the fold-0 test set) and
the fitted pipeline's pickled size; writes bench/results/classifier_cv.json.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import pickle
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import sklearn
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import LabelEncoder
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifier.estimators import build_pipeline  # noqa: E402
from classifier.estimators import subject as project_subject  # noqa: E402
from classifier.text import normalise, tokenize  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/gov-messages-7class/data.csv"
RESULTS = ROOT / "bench" / "results" / "classifier_cv.json"
SIMILARITY = 0.8


# ---------------------------------------------------------------- data, groups


def load(path: Path) -> tuple[list[str], np.ndarray]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], np.array([r["label"] for r in rows], dtype=object)


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = np.arange(n)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def near_duplicate_groups(texts: list[str], threshold: float = SIMILARITY, chunk: int = 500) -> np.ndarray:
    """Group ids: union-find over exact duplicates and pairs with cosine ≥ threshold."""
    n = len(texts)
    uf = UnionFind(n)
    first: dict[str, int] = {}
    for i, t in enumerate(texts):
        key = hashlib.sha1(normalise(t).encode()).hexdigest()
        if key in first:
            uf.union(first[key], i)
        else:
            first[key] = i
    X = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True).fit_transform(texts)
    XT = X.T.tocsc()
    for start in range(0, n, chunk):
        sims = (X[start : start + chunk] @ XT).toarray()
        rows, cols = np.nonzero(sims >= threshold)
        for r, c in zip(rows + start, cols, strict=True):
            if c > r:
                uf.union(int(r), int(c))
    roots = np.array([uf.find(i) for i in range(n)])
    return np.unique(roots, return_inverse=True)[1]


# ---------------------------------------------------------------- building blocks
# Module-level functions and classes so that fitted pipelines pickle.


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


# ---------------------------------------------------------------- evaluation


def run_fold(make: Callable[[], Pipeline], texts, labels, train, test, keep_model: bool):
    model = make()
    x_train = [texts[i] for i in train]
    x_test = [texts[i] for i in test]
    t0 = time.perf_counter()
    model.fit(x_train, labels[train])
    fit_s = time.perf_counter() - t0
    pred = model.predict(x_test)
    return {
        "macro_f1": f1_score(labels[test], pred, average="macro"),
        "accuracy": accuracy_score(labels[test], pred),
        "fit_s": fit_s,
        "model": pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL) if keep_model else None,
    }


def evaluate(name, make, texts, labels, folds, jobs):
    t0 = time.perf_counter()
    results = Parallel(n_jobs=jobs)(
        delayed(run_fold)(make, texts, labels, train, test, k == 0) for k, (train, test) in enumerate(folds)
    )
    wall = time.perf_counter() - t0
    blob = results[0]["model"]
    model = pickle.loads(blob)
    x_test = [texts[i] for i in folds[0][1]]
    tokenize("预热")
    t1 = time.perf_counter()
    model.predict(x_test)
    throughput = len(x_test) / (time.perf_counter() - t1)
    f1s = [r["macro_f1"] for r in results]
    accs = [r["accuracy"] for r in results]
    fits = [r["fit_s"] for r in results]
    return {
        "name": name,
        "macro_f1_mean": statistics.mean(f1s),
        "macro_f1_std": statistics.pstdev(f1s),
        "accuracy_mean": statistics.mean(accs),
        "accuracy_std": statistics.pstdev(accs),
        "macro_f1_folds": f1s,
        "fit_s_per_fold": statistics.mean(fits),
        "predict_msgs_per_s": throughput,
        "pickle_mb": len(blob) / 1e6,
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 folds, for iteration")
    parser.add_argument("--candidates", default="", help="comma-separated names (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="folds fitted in parallel (≤ 2 on this machine)")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help=f"JSON report (default {RESULTS.relative_to(ROOT)}, .quick.json with --quick)")
    args = parser.parse_args()

    if args.list:
        print("\n".join(CANDIDATES))
        return
    names = [n.strip() for n in args.candidates.split(",") if n.strip()] or list(CANDIDATES)
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        parser.error(f"unknown candidates: {', '.join(unknown)} (see --list)")
    n_folds = 2 if args.quick else args.folds
    if args.out is None:
        args.out = RESULTS.with_suffix(".quick.json") if args.quick else RESULTS
    jobs = max(1, min(args.jobs, 2, n_folds))

    started = time.perf_counter()
    texts, labels = load(args.data)
    t0 = time.perf_counter()
    groups = near_duplicate_groups(texts)
    sizes = np.bincount(groups)
    print(
        f"{len(texts)} messages, {len(set(labels))} labels; near-duplicate groups: {len(sizes)} "
        f"({int((sizes > 1).sum())} with >1 message, largest {int(sizes.max())}) "
        f"in {time.perf_counter() - t0:.1f}s",
        flush=True,
    )
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=0)
    folds = list(splitter.split(np.zeros(len(texts)), labels, groups))

    rows = []
    header = f"{'candidate':24} {'macro-F1':>15} {'accuracy':>15} {'fit s/fold':>10} {'msg/s':>7} {'MB':>6}"
    print(header, flush=True)
    for name in names:
        r = evaluate(name, CANDIDATES[name], texts, labels, folds, jobs)
        rows.append(r)
        print(
            f"{name:24} {r['macro_f1_mean']:.4f} ± {r['macro_f1_std']:.4f} "
            f"{r['accuracy_mean']:.4f} ± {r['accuracy_std']:.4f} {r['fit_s_per_fold']:10.1f} "
            f"{r['predict_msgs_per_s']:7.0f} {r['pickle_mb']:6.1f}",
            flush=True,
        )
    total = time.perf_counter() - started
    best = max(rows, key=lambda r: r["macro_f1_mean"])
    print(f"best: {best['name']} macro-F1 {best['macro_f1_mean']:.4f}; total {total:.0f}s")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "data": str(args.data),
        "n_messages": len(texts),
        "folds": n_folds,
        "cv": "StratifiedGroupKFold(shuffle=True, random_state=0)",
        "near_duplicates": {
            "similarity": SIMILARITY,
            "features": "tfidf char 2-3-grams, cosine",
            "groups": int(len(sizes)),
            "groups_with_several": int((sizes > 1).sum()),
            "largest_group": int(sizes.max()),
        },
        "jobs": jobs,
        "total_s": total,
        "sklearn": sklearn.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "candidates": rows,
    }
    if args.candidates and args.out.exists():
        # A partial run updates the candidates it ran and keeps the others of
        # an earlier run with the same number of folds.
        try:
            earlier = json.loads(args.out.read_text())
        except ValueError:
            earlier = {}
        if earlier.get("folds") == n_folds:
            merged = {c["name"]: c for c in earlier.get("candidates", [])}
            merged.update({r["name"]: r for r in rows})
            report["candidates"] = list(merged.values())
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    # Run as the importable module ``classifier_cv`` rather than ``__main__``, so
    # that fitted pipelines (which refer to subject(), NBSVM, …) pickle by name.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import classifier_cv

    classifier_cv.main()
