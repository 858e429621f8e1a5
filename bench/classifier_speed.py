"""Speed of the classifier on real messages: load time, messages per second on
one core (jieba included), and the process's memory.

    python bench/classifier_speed.py [--data ../shared/data/gov-messages-7class/data.csv]
                                     [--model-dir DIR] [--limit 3000]

Without --model-dir, the default model is trained from the shipped corpus into
a temporary store first (not timed). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "gov-messages-7class" / "data.csv"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--model-dir", type=Path)
    parser.add_argument("--limit", type=int, default=3000, help="messages to classify")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, as the issue measures it

    from classifier import Classifier, ModelStore, TopicModel, read_dataset, shipped_corpus
    from classifier.text import warm_up

    store_dir = args.model_dir
    if store_dir is None:
        store_dir = Path(tempfile.mkdtemp(prefix="tingjian-speed-"))
        corpus = shipped_corpus()
        ModelStore(store_dir).save(TopicModel.train(corpus.texts, corpus.labels, source="shipped corpus"))
    texts = read_dataset(args.data).texts[: args.limit]
    lengths = sorted(len(t) for t in texts)

    before = rss_mb()
    started = time.perf_counter()
    store = ModelStore(store_dir)
    model = store.load_version(store.active_version())
    warm_up()
    load_seconds = time.perf_counter() - started

    classifier = Classifier(model)
    classifier.predict(texts[0])
    started = time.perf_counter()
    for text in texts:
        classifier.predict(text)
    one_by_one = len(texts) / (time.perf_counter() - started)

    started = time.perf_counter()
    for i in range(0, len(texts), 256):
        model.predict_proba(texts[i : i + 256])
    batched = len(texts) / (time.perf_counter() - started)

    print(
        json.dumps(
            {
                "messages": len(texts),
                "median_characters": lengths[len(lengths) // 2],
                "model_load_seconds": round(load_seconds, 3),
                "messages_per_second_one_by_one": round(one_by_one, 1),
                "messages_per_second_batched": round(batched, 1),
                "rss_before_model_mb": round(before, 1),
                "peak_rss_mb": round(rss_mb(), 1),
            },
            ensure_ascii=False,
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
