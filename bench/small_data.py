"""Small data (小样本): learners of the agency model on ten to forty examples per class.

A city's first weeks give the agency model ten to forty closed tickets per
agency. This bench stands the seven classes of the shared government
messages (../shared/data/gov-messages-7class/data.csv, beside the checkout;
never copied into the project) in for agencies and, for each seed, draws
40 messages per class as a pool, trains on its first n per class (n = 10,
20, 40: the smaller samples are part of the larger), and scores macro-F1 on
one held-out sample of the rest — the same messages for every n and every
candidate of that seed, so that the comparisons are paired. Held-out
messages that are near-duplicates of a pool message (TF-IDF cosine ≥ 0.8 on
character 2–3-grams, as bench/classifier_cv.py groups them) are left out.

    python3 bench/small_data.py                 # 10 seeds, n = 10, 20, 40, 2,000 held out
    python3 bench/small_data.py --quick         # 3 seeds, 500 held out
    python3 bench/small_data.py --candidates baseline_a,shipped --seeds 20

Prints per n and candidate the mean ± std of macro-F1 over the seeds and in
how many seeds it beat each baseline; for the candidates with probabilities,
the share of held-out messages at or above the routing threshold (0.8) and
how many of those were right. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _small_candidates import CANDIDATES  # noqa: E402
from classifier_cv import DEFAULT_DATA, load, near_duplicate_groups  # noqa: E402

from classifier.text import normalise  # noqa: E402

SIZES = (10, 20, 40)
BASELINES = ("baseline_a", "baseline_b")
# routing/dispatch/agency_choice.py: DEFAULT_AGENCY_THRESHOLD (the classifier may not import routing).
THRESHOLD = 0.8
DEFAULT = ["baseline_a", "baseline_b", "before", "shipped"]


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def draws(labels: np.ndarray, groups: np.ndarray, seed: int, pool: int, held_out: int):
    """The seed's pool (``pool`` per class, in drawing order) and held-out sample."""
    rng = np.random.default_rng(seed)
    chosen: dict[str, np.ndarray] = {}
    for label in sorted(set(labels)):
        chosen[label] = rng.permutation(np.flatnonzero(labels == label))[:pool]
    taken = np.concatenate(list(chosen.values()))
    rest = np.flatnonzero(~np.isin(groups, groups[taken]))
    return chosen, rng.choice(rest, size=min(held_out, len(rest)), replace=False)


def run(name: str, texts: list[str], labels: np.ndarray, train: np.ndarray, test: np.ndarray) -> dict:
    learner = CANDIDATES[name]()
    started = time.perf_counter()
    learner.fit([texts[i] for i in train], labels[train])
    test_texts = [texts[i] for i in test]
    result: dict = {"fit_s": time.perf_counter() - started}
    if hasattr(learner, "predict_proba"):
        proba = learner.predict_proba(test_texts)
        predicted = np.asarray(learner.classes_)[proba.argmax(axis=1)]
        sure = proba.max(axis=1) >= THRESHOLD
        result["sure"] = float(sure.mean())
        result["sure_right"] = float((predicted[sure] == labels[test][sure]).mean()) if sure.any() else float("nan")
        # Brier score over the classes: how far the probabilities are from the truth.
        truth = (np.asarray(learner.classes_)[np.newaxis, :] == labels[test][:, np.newaxis]).astype(float)
        result["brier"] = float(((proba - truth) ** 2).sum(axis=1).mean())
    else:
        predicted = learner.predict(test_texts)
    result["macro_f1"] = float(f1_score(labels[test], predicted, average="macro"))
    return result


def mean_std(values: list[float]) -> str:
    return f"{statistics.mean(values):.3f} ± {statistics.pstdev(values):.3f}"


def report(results: dict, names: list[str], sizes: list[int], seeds: int) -> None:
    for n in sizes:
        print(f"\nn = {n} per class ({seeds} seeds)")
        columns = ("macro-F1", 15), ("wins A", 7), ("wins B", 7), ("≥0.8", 6), ("right", 6), ("Brier", 6), ("fit s", 6)
        print(f"{'candidate':16} " + " ".join(f"{title:>{width}}" for title, width in columns))
        for name in names:
            rows = results[name, n]
            f1 = [r["macro_f1"] for r in rows]
            wins = []
            for base in BASELINES:
                if (base, n) in results and base != name:
                    other = [r["macro_f1"] for r in results[base, n]]
                    wins.append(f"{sum(a > b for a, b in zip(f1, other, strict=True))}/{len(f1)}")
                else:
                    wins.append("—")
            line = f"{name:16} {mean_std(f1):>15} {wins[0]:>7} {wins[1]:>7}"
            if "sure" in rows[0]:
                right = [r["sure_right"] for r in rows if r["sure"] > 0]
                line += f" {statistics.mean(r['sure'] for r in rows):6.1%}"
                line += f" {statistics.mean(right):6.1%}" if right else f" {'—':>6}"
                line += f" {statistics.mean(r['brier'] for r in rows):6.3f}"
            else:
                line += f" {'':>6} {'':>6} {'':>6}"
            line += f" {statistics.mean(r['fit_s'] for r in rows):6.2f}"
            print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="examples per class, comma-separated")
    parser.add_argument("--held-out", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="3 seeds, 500 held out")
    parser.add_argument("--candidates", default="", help=f"comma-separated (default: {','.join(DEFAULT)})")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    if args.list:
        print("\n".join(CANDIDATES))
        return
    names = [n.strip() for n in args.candidates.split(",") if n.strip()] or DEFAULT
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        parser.error(f"unknown candidates: {', '.join(unknown)} (see --list)")
    if not args.data.exists():
        progress(f"{args.data} is not there: nothing to measure")
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    seeds, held_out = (3, 500) if args.quick else (args.seeds, args.held_out)

    started = time.perf_counter()
    raw, labels = load(args.data)
    texts = [normalise(t) for t in raw]
    groups = near_duplicate_groups(raw)
    progress(f"{len(texts)} messages, {len(set(labels))} classes, {groups.max() + 1} near-duplicate groups")
    results: dict = {}
    for seed in range(seeds):
        chosen, test = draws(labels, groups, seed, max(sizes), held_out)
        for n in sizes:
            train = np.concatenate([indices[:n] for indices in chosen.values()])
            for name in names:
                results.setdefault((name, n), []).append(run(name, texts, labels, train, test))
            progress(
                f"seed {seed} n={n}: "
                + ", ".join(f"{name} {results[name, n][-1]['macro_f1']:.3f}" for name in names)
            )
    report(results, names, sizes, seeds)
    print(f"\n{len(test)} held-out messages per seed; {time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
