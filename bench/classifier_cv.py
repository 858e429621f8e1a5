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
import sklearn
from joblib import Parallel, delayed
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _cv_candidates import CANDIDATES  # noqa: E402

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
    main()
