"""A city learning: does automatic routing stay right, and cover more, as
the dispatchers' corrections come in?

    python bench/city_simulation.py [--data ../shared/data/gov-messages-7class/data.csv]
                                    [--limit N] [--round 500] [--precision 0.95]
                                    [--out test-artifacts/city_simulation]

Starts from the shipped model (trained on the project's own corpus, with
its routing thresholds) and feeds the real messages of the shared data, in
a fixed random order, as tickets. Each ticket is decided as intake decides
(its topic's threshold at the routing precision): a simulated dispatcher
corrects every ticket in triage and every automatically routed ticket whose
topic is wrong (the data's label), choosing the second level the model
finds likeliest within the right topic, as a dispatcher picks the nearest
sub-topic. Every ``--round`` tickets a new version is trained as the
periodic job would (``classifier.learning.retrain``: the shipped corpus and
the corrections, one in five held out, activated only when not worse on
them). After each round it reports, on the messages still to come: the
coverage of automatic routing (share routed without a dispatcher), its
precision (share of those with the right topic), and macro-F1 of the topic.

The data (../shared/data, beside the checkout; never copied into the
project) is the 2020 TipDM Cup messages as published pre-processed. Where it
is absent the script says so and stops. Writes ``<out>.md`` (the table),
``<out>.json`` and ``<out>.png`` (the curves) and prints the table.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "gov-messages-7class" / "data.csv"
SEED = 21

import numpy as np
from _curve_png import write_curves
from sklearn.metrics import f1_score

from classifier import Dataset, ModelStore, TopicModel, shipped_corpus, thresholds
from classifier.estimators import LEVEL_SEPARATOR, first_level
from classifier.evaluate import routed_share
from classifier.learning import retrain


def messages(path: Path, limit: int | None) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = [(row["text"], row["label"]) for row in csv.DictReader(f) if row["text"].strip()]
    random.Random(SEED).shuffle(rows)
    return rows[:limit] if limit else rows


def figures(model: TopicModel, rows: list[tuple[str, str]], target: float) -> dict:
    """The production path on ``rows``: coverage and precision of automatic routing, and macro-F1."""
    texts, truth = [t for t, _ in rows], [label for _, label in rows]
    predicted, confidence = model.predict(texts, level="topic" if model.two_level else "label")
    share = routed_share(truth, predicted, confidence, model.routing_thresholds(target))
    macro = f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)
    return {"coverage": share["coverage"], "precision": share["precision"], "macro_f1": round(float(macro), 4)}


def corrections_of(model: TopicModel, rows: list[tuple[str, str]], target: float, *, closed: bool = False) -> Dataset:
    """What the dispatcher corrects in one round: every ticket in triage, and
    every routed ticket with the wrong topic, labelled with the right topic
    and the model's likeliest second level inside it. With ``closed``, the
    tickets routed to the right topic too, as closed tickets confirm them."""
    texts = [t for t, _ in rows]
    proba = model.predict_proba(texts)
    topics, topic_proba = model.first_level_proba(proba)
    best = topic_proba.argmax(axis=1)
    confidence = topic_proba[np.arange(len(texts)), best]
    thresholds = model.routing_thresholds(target) or {}
    labels = np.array(model.labels, dtype=object)
    corrected = Dataset([], [])
    for i, (text, topic) in enumerate(rows):
        predicted = topics[best[i]]
        routed = confidence[i] >= thresholds.get(predicted, 1.01)
        if routed and predicted == topic and not closed:
            continue
        inside = [j for j, label in enumerate(labels) if first_level(label) == topic]
        label = labels[max(inside, key=lambda j: proba[i, j])] if inside else f"{topic}{LEVEL_SEPARATOR}其他"
        corrected.texts.append(text)
        corrected.labels.append(str(label))
    return corrected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="only the first N messages of the fixed order")
    parser.add_argument("--round", type=int, default=500, help="tickets between two retrainings")
    parser.add_argument("--precision", type=float, default=0.95, help="ROUTING_PRECISION")
    parser.add_argument(
        "--closed",
        action="store_true",
        help="learn from correctly routed (closed) tickets too, not only from corrections",
    )
    parser.add_argument(
        "--z", type=float, default=None, help="classifier.thresholds.LOWER_BOUND_Z for this run (a measurement knob)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "city_simulation")
    args = parser.parse_args()
    if not args.data.exists():
        print(f"no data at {args.data}: the shared data is not beside this checkout; nothing measured")
        return
    if args.z is not None:
        thresholds.LOWER_BOUND_Z = args.z
    rows = messages(args.data, args.limit)
    corpus = shipped_corpus()
    table = []
    with tempfile.TemporaryDirectory() as folder:
        store = ModelStore(folder)
        started = time.process_time()
        model = TopicModel.train(corpus.texts, corpus.labels, source="shipped corpus")
        store.save(model)
        corrections = Dataset([], [])
        seen = 0
        while True:
            ahead = rows[seen:]
            if not ahead:
                break
            row = {"tickets_seen": seen, "corrections": len(corrections), "version": store.active_version()}
            row.update(figures(model, ahead, args.precision))
            row["cpu_seconds"] = round(time.process_time() - started, 1)
            table.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
            write(args, table)
            batch = rows[seen : seen + args.round]
            corrections.extend(corrections_of(model, batch, args.precision, closed=args.closed))
            seen += len(batch)
            if seen >= len(rows):
                break
            outcome = retrain(store, corpus, corrections)
            model = store.load_version(store.active_version())
            table[-1]["activated_next"] = outcome.activated
    print(write(args, table))


def write(args: argparse.Namespace, table: list[dict]) -> str:
    """The table (markdown and JSON) and the curves so far: a run cut short still leaves its rounds."""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"| tickets seen | learnt from | coverage | precision | macro-F1 | (routing precision {args.precision}) |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for row in table:
        precision = f"{row['precision']:.1%}" if row["precision"] is not None else "–"
        lines.append(
            f"| {row['tickets_seen']:,} | {row['corrections']:,} | {row['coverage']:.1%} | "
            f"{precision} | {row['macro_f1']:.3f} | |"
        )
    text = "\n".join(lines) + "\n"
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(table, ensure_ascii=False, indent=1), encoding="utf-8")
    if len(table) > 1:
        write_curves(
            args.out.with_suffix(".png"),
            [row["tickets_seen"] for row in table],
            {
                "precision": [row["precision"] or 0.0 for row in table],
                "coverage": [row["coverage"] for row in table],
                "macro-F1": [row["macro_f1"] for row in table],
            },
            guides=(args.precision, 0.85, 0.60),
        )
    return text


if __name__ == "__main__":
    main()
