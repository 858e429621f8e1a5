"""Learning from corrections (纠错学习): retrain with the dispatchers' corrections,
compare with the active model on held-out corrections, activate only if not worse.

Which corrections are held out is decided by a hash of the text, so it never
changes: a held-out example has never been trained on by any version this
function made, and the active and the new model are compared fairly. The
shipped corpus is always trained on in full; it is the city's own examples
that judge whether a new model is better for the city.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from .dataset import Dataset
from .model import TopicModel
from .store import ModelStore

HOLDOUT_ONE_IN = 5


def is_held_out(text: str) -> bool:
    digest = hashlib.sha256(text.strip().encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % HOLDOUT_ONE_IN == 0


def split_examples(examples: Dataset) -> tuple[Dataset, Dataset]:
    """(to train on, held out) — stable for each text."""
    train, held_out = Dataset([], []), Dataset([], [])
    for text, label in zip(examples.texts, examples.labels, strict=True):
        part = held_out if is_held_out(text) else train
        part.texts.append(text)
        part.labels.append(label)
    return train, held_out


def topic_accuracy(model: TopicModel, data: Dataset) -> float:
    """Share of ``data`` whose first-level topic the model gets right."""
    level = "topic" if model.two_level else "label"
    truth = [label.split("/", 1)[0] for label in data.labels] if level == "topic" else data.labels
    predicted, _ = model.predict(data.texts, level=level)
    return sum(p == t for p, t in zip(predicted, truth, strict=True)) / len(truth)


@dataclass(frozen=True)
class TrainingOutcome:
    version: str
    activated: bool
    trained_on: int
    corrections_trained: int
    held_out: int
    accuracy: float | None  # the new model's, on the held-out corrections
    active_before: str | None
    active_accuracy: float | None

    @property
    def reason(self) -> str:
        if self.accuracy is None:
            return "没有留出的纠错样本可比较，直接启用"
        if self.active_accuracy is None:
            return "此前没有启用的模型"
        verdict = "不低于" if self.activated else "低于"
        return (
            f"留出的 {self.held_out} 条纠错样本上准确率 {self.accuracy:.1%}，"
            f"{verdict}当前模型的 {self.active_accuracy:.1%}"
        )


def retrain(
    store: ModelStore,
    corpus: Dataset,
    corrections: Dataset,
    *,
    progress: Callable[[str], None] = lambda _: None,
) -> TrainingOutcome:
    """Train on the corpus and the corrections not held out; store the model as
    a new version with its evaluation; activate it only if it does at least as
    well as the active one on the held-out corrections."""
    train, held_out = split_examples(corrections)
    data = Dataset(list(corpus.texts), list(corpus.labels))
    data.extend(train)
    progress(f"训练：内置语料 {len(corpus)} 条，纠错样本 {len(train)} 条（另留出 {len(held_out)} 条用于比较）…")
    model = TopicModel.train(
        data.texts, data.labels, source=f"shipped corpus + {len(train)} corrections"
    )
    accuracy = active_accuracy = None
    active_before = store.active_version()
    if len(held_out):
        progress("在留出的纠错样本上比较新旧模型…")
        accuracy = topic_accuracy(model, held_out)
        if active_before is not None:
            active_accuracy = topic_accuracy(store.load_version(active_before), held_out)
    activated = accuracy is None or active_accuracy is None or accuracy >= active_accuracy
    model.metadata["evaluation"] = {
        "held_out_corrections": len(held_out),
        "topic_accuracy": accuracy,
        "compared_with": active_before,
        "compared_topic_accuracy": active_accuracy,
    }
    version = store.save(model, activate=activated)
    return TrainingOutcome(
        version=version,
        activated=activated,
        trained_on=len(data),
        corrections_trained=len(train),
        held_out=len(held_out),
        accuracy=accuracy,
        active_before=active_before,
        active_accuracy=active_accuracy,
    )
