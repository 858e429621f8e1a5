"""Speed of the classifier on real messages: model load time, messages per
second on one core (segmentation included), and the process's memory.

    python bench/classifier_speed.py [--data ../shared/data/gov-messages-7class/data.csv]
                                     [--model-dir DIR] [--limit 3000]

Without --model-dir (or with an empty one), the default model is first trained from the shipped
corpus in a child process (not timed, and not counted in this process's
memory). What is timed is the whole prediction the application makes
(``Classifier.predict``: topic at both levels, agency when the model has one,
place, urgency, kind), one message at a time and in batches of 32 (as the job
workers call it). Figures are given in CPU time of this process, which is what
"on one core" means on a shared machine, and in wall time. Messages of 150–450
characters, the issue's "typical message", are also timed apart. The topic
model alone is timed one message at a time both ways: through its lean path
(what the application uses) and through the scikit-learn pipeline.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, as the issue measures it
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "gov-messages-7class" / "data.csv"
BATCH = 32


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train_default(store_dir: Path) -> None:
    from classifier import ModelStore, TopicModel, shipped_corpus

    corpus = shipped_corpus()
    ModelStore(store_dir).save(TopicModel.train(corpus.texts, corpus.labels, source="shipped corpus"))


def rate(texts: Sequence[str], work: Callable[[Sequence[str]], object], batch: int) -> dict[str, float]:
    """Messages per second of CPU and of wall time, best of three rounds."""
    best_cpu = best_wall = float("inf")
    for _ in range(3):
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(0, len(texts), batch):
            work(texts[i : i + batch])
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return {"cpu": round(len(texts) / best_cpu, 1), "wall": round(len(texts) / best_wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--model-dir", type=Path)
    parser.add_argument("--limit", type=int, default=3000, help="messages to classify")
    parser.add_argument("--train-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.train_only:
        train_default(args.model_dir)
        return
    store_dir = args.model_dir or Path(tempfile.mkdtemp(prefix="tingjian-speed-"))
    if not (store_dir / "manifest.json").exists():
        subprocess.run([sys.executable, __file__, "--train-only", "--model-dir", str(store_dir)], check=True)

    before = rss_mb()
    started = time.perf_counter()
    from classifier import Classifier, ModelStore, read_dataset
    from classifier.estimators import pipeline_proba
    from classifier.text import normalise, warm_up

    import_seconds = time.perf_counter() - started
    started = time.perf_counter()
    store = ModelStore(store_dir)
    model = store.load_version(store.active_version())
    warm_up()
    classifier = Classifier(model)
    load_seconds = time.perf_counter() - started

    texts = read_dataset(args.data).texts[: args.limit]
    typical = [t for t in texts if 150 <= len(t) <= 450]
    lengths = sorted(len(t) for t in texts)
    classifier.predict_many(texts[:BATCH])

    one = lambda batch: classifier.predict(batch[0])  # noqa: E731
    through_pipeline = lambda batch: pipeline_proba(model.pipeline, [normalise(t) for t in batch])  # noqa: E731
    print(
        json.dumps(
            {
                "messages": len(texts),
                "median_characters": lengths[len(lengths) // 2],
                "mean_characters": round(sum(lengths) / len(lengths), 1),
                "typical_messages_150_450": len(typical),
                "import_seconds": round(import_seconds, 3),  # numpy, scipy, scikit-learn: once per process
                "model_load_seconds": round(load_seconds, 3),  # the model file and the segmentation dictionary
                "messages_per_second_one_by_one": rate(texts, one, 1),
                "messages_per_second_batched": rate(texts, classifier.predict_many, BATCH),
                "typical_one_by_one": rate(typical, one, 1),
                "typical_batched": rate(typical, classifier.predict_many, BATCH),
                "lean_path": model.lean is not None,
                "topic_model_typical_one_by_one": {
                    "lean": rate(typical, model.predict_proba, 1),
                    "pipeline": rate(typical, through_pipeline, 1),
                },
                "rss_before_model_mb": round(before, 1),
                "peak_rss_mb": round(rss_mb(), 1),
            },
            ensure_ascii=False,
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
