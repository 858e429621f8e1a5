"""bench/matters_scale.py's quality part (no database): how well the
fingerprints separate one matter from another on the shared government
messages. What each figure means: matters_scale.py's docstring (its --help).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from _matters_common import THRESHOLDS, load_average
from classifier_cv import load, near_duplicate_groups
from million_tickets import progress
from scipy.sparse.csgraph import connected_components

from classifier.similar import fingerprint_matrix, fingerprints, hot_groups_of, vectors
from classifier.text import normalise

HOT_THRESHOLDS = (0.25, 0.3, 0.35)


def quantiles(values: Sequence[float], qs: Sequence[float]) -> dict[str, float]:
    """{"p1": …, "p999": …}: the name is the percentage without its point."""
    found = np.quantile(np.asarray(values), qs)
    return {f"p{q * 100:g}".replace(".", ""): round(float(v), 4) for q, v in zip(qs, found, strict=True)}


def same_matter_pairs(texts: list[str], groups: np.ndarray) -> np.ndarray:
    """Pairs of different texts (after normalisation) in one near-duplicate group."""
    members: dict[int, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(int(g), []).append(i)
    pairs = [
        (a, b)
        for group in members.values() if len(group) > 1
        for n, a in enumerate(group) for b in group[n + 1:]
        if normalise(texts[a]) != normalise(texts[b])
    ]
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def same_topic_pairs(labels: np.ndarray, groups: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Distinct random pairs of messages with one label from different groups."""
    by_label = {label: np.flatnonzero(labels == label) for label in np.unique(labels)}
    seen: set[tuple[int, int]] = set()
    while len(seen) < count:
        a = int(rng.integers(len(labels)))
        b = int(rng.choice(by_label[labels[a]]))
        if groups[a] != groups[b]:
            seen.add((min(a, b), max(a, b)))
    return np.array(sorted(seen), dtype=np.int64)


def pair_scores(matrix: sp.csr_matrix, pairs: np.ndarray) -> np.ndarray:
    """Each pair's dot product (rows of unit length: their cosine)."""
    return np.asarray(matrix[pairs[:, 0]].multiply(matrix[pairs[:, 1]]).sum(axis=1)).ravel()


def separation(positives: np.ndarray, negatives: np.ndarray) -> dict:
    return {
        "positives": quantiles(positives, (0.01, 0.05, 0.5)),
        "negatives": quantiles(negatives, (0.5, 0.99, 0.999)),
        "at": {
            str(t): {
                "recall": round(float((positives >= t).mean()), 4),
                "false_positive_rate": round(float((negatives >= t).mean()), 5),
            }
            for t in THRESHOLDS
        },
    }


def star_groups(prints: list, labels: np.ndarray, threshold: float) -> dict:
    groups = hot_groups_of(prints, threshold=threshold)
    others = [labels[m] == labels[g[0]] for g in groups for m in g[1:]]
    tickets = sum(len(g) for g in groups)
    return {
        "groups": len(groups),
        "largest": max((len(g) for g in groups), default=0),
        "tickets": tickets,
        "purity": round((sum(others) + len(groups)) / tickets, 3) if groups else None,
        "purity_without_centre": round(float(np.mean(others)), 3) if others else None,
    }


def chained_components(matrix: sp.csr_matrix, labels: np.ndarray, threshold: float) -> dict:
    close = (matrix @ matrix.T).tocsr()
    close.data[close.data < threshold] = 0
    close.eliminate_zeros()
    _, component = connected_components(close, directed=False)
    sizes = np.bincount(component)
    kept = np.flatnonzero(sizes >= 3)
    agree = 0
    for c in kept:
        _, counts = np.unique(labels[component == c], return_counts=True)
        agree += counts.max()
    tickets = int(sizes[kept].sum())
    return {
        "groups": len(kept),
        "largest": int(sizes.max()),
        "tickets": tickets,
        "purity": round(agree / tickets, 3) if tickets else None,
    }


def fingerprint_cost(texts: list[str], count: int = 2000) -> dict:
    sample = texts[:count]
    fingerprints(sample[:64])  # the IDF and jieba's dictionary, read once
    started = time.perf_counter()
    for start in range(0, len(sample), 64):
        fingerprints(sample[start:start + 64])
    batched = time.perf_counter() - started
    started = time.perf_counter()
    for one in sample:
        fingerprints([one])
    single = time.perf_counter() - started
    return {
        "texts": len(sample),
        "us_per_text_batch_64": round(batched / len(sample) * 1e6),
        "us_per_text_one_at_a_time": round(single / len(sample) * 1e6),
    }


def quality(data: Path, negatives: int, seed: int) -> dict:
    started = time.perf_counter()
    result: dict = {"load_average_before": load_average()}
    texts, labels = load(data)
    groups = near_duplicate_groups(texts)
    positive_pairs = same_matter_pairs(texts, groups)
    negative_pairs = same_topic_pairs(labels, groups, negatives, np.random.default_rng(seed))
    result["messages"] = len(texts)
    result["pairs"] = {"positives": len(positive_pairs), "negatives": len(negative_pairs)}
    progress(f"quality: {len(positive_pairs)} positive, {len(negative_pairs)} negative pairs")

    whole = vectors(texts)
    prints = fingerprints(texts)
    matrix = fingerprint_matrix(prints)
    result["whole_text"] = separation(pair_scores(whole, positive_pairs), pair_scores(whole, negative_pairs))
    result["fingerprint"] = separation(pair_scores(matrix, positive_pairs), pair_scores(matrix, negative_pairs))
    result["hot_groups"] = {
        str(t): {"stars": star_groups(prints, labels, t), "components": chained_components(matrix, labels, t)}
        for t in HOT_THRESHOLDS
    }
    result["fingerprint_cost"] = fingerprint_cost(texts)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["load_average_after"] = load_average()
    return result
