"""Learning from corrections (纠错学习): retrain with the dispatchers' corrections,
compare with the active model on held-out corrections, activate only if not worse.
The agency model of the same version is learned, held out and judged alike.

Which corrections are held out is decided by a hash of the text, so it never
changes: a held-out example has never been trained on by any version this
function made, and the active and the new model are compared fairly. The
shipped corpus is always trained on in full; it is the city's own examples
that judge whether a new model is better for the city. So are closed
tickets (``closed``): trained on in full, never held out, because their
topics are mostly the active model's own readings, and judging by them
would favour the model that made them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from .agency import MIN_AGENCIES, MIN_EXAMPLES_PER_AGENCY, AgencyModel, enough_to_learn, learnable
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
class AgencyOutcome:
    """What became of the agency model in one training run."""

    trained: bool
    note: str  # why not, or what it learned from
    trained_on: int = 0
    held_out: int = 0
    accuracy: float | None = None  # the new agency model's, on the held-out examples
    active_accuracy: float | None = None  # the active version's agency model's

    @property
    def not_worse(self) -> bool:
        return self.accuracy is None or self.active_accuracy is None or self.accuracy >= self.active_accuracy

    @property
    def reason(self) -> str:
        if not self.trained:
            return self.note
        if self.accuracy is None:
            return f"{self.note}；没有留出的承办单位样本可比较"
        if self.active_accuracy is None:
            return f"{self.note}；留出的 {self.held_out} 条上准确率 {self.accuracy:.1%}，此前没有承办单位模型"
        verdict = "不低于" if self.not_worse else "低于"
        return (
            f"{self.note}；留出的 {self.held_out} 条上准确率 {self.accuracy:.1%}，"
            f"{verdict}当前模型的 {self.active_accuracy:.1%}"
        )


NO_AGENCY_MODEL = AgencyOutcome(False, "没有承办单位样本，派单仍只按规则")


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
    agency: AgencyOutcome = NO_AGENCY_MODEL
    closed_trained: int = 0

    @property
    def topic_not_worse(self) -> bool:
        return self.accuracy is None or self.active_accuracy is None or self.accuracy >= self.active_accuracy

    @property
    def reason(self) -> str:
        if self.accuracy is None:
            topic = "没有留出的纠错样本可比较"
        elif self.active_accuracy is None:
            topic = "此前没有启用的模型"
        else:
            verdict = "不低于" if self.topic_not_worse else "低于"
            topic = (
                f"留出的 {self.held_out} 条纠错样本上准确率 {self.accuracy:.1%}，"
                f"{verdict}当前模型的 {self.active_accuracy:.1%}"
            )
        return f"{topic}；承办单位：{self.agency.reason}"


def train_agency(
    store: ModelStore,
    examples: Dataset,
    active_before: str | None,
    progress: Callable[[str], None],
) -> tuple[AgencyModel | None, AgencyOutcome]:
    """The agency model of a new version, judged on held-out examples like the topic model."""
    if not enough_to_learn(examples.labels):
        have = len(learnable(examples.labels))
        return None, AgencyOutcome(
            False,
            f"承办单位样本不足（需至少 {MIN_AGENCIES} 个单位各 {MIN_EXAMPLES_PER_AGENCY} 条，"
            f"现有 {have} 个单位达到），本版本不含承办单位模型，派单仍只按规则",
        )
    train, held_out = split_examples(examples)
    if not enough_to_learn(train.labels):
        # Held out by the hash, what is left is too little: learn from all, judge on nothing.
        train, held_out = examples, Dataset([], [])
    kept = learnable(train.labels)
    progress(f"训练承办单位模型：{len(kept)} 个单位、{sum(kept.values())} 条样本（另留出 {len(held_out)} 条用于比较）…")
    agency = AgencyModel.train(train.texts, train.labels, source=f"{len(train)} agency examples")
    accuracy = active_accuracy = None
    if len(held_out):
        accuracy = agency.accuracy(held_out.texts, held_out.labels)
        active = store.load_version(active_before) if active_before is not None else None
        if active is not None and active.agency is not None:
            active_accuracy = active.agency.accuracy(held_out.texts, held_out.labels)
    outcome = AgencyOutcome(
        True,
        f"{len(kept)} 个单位、{sum(kept.values())} 条样本",
        trained_on=sum(kept.values()),
        held_out=len(held_out),
        accuracy=accuracy,
        active_accuracy=active_accuracy,
    )
    agency.metadata["evaluation"] = {
        "held_out_examples": len(held_out),
        "accuracy": accuracy,
        "compared_with": active_before,
        "compared_accuracy": active_accuracy,
    }
    return agency, outcome


def retrain(
    store: ModelStore,
    corpus: Dataset,
    corrections: Dataset,
    *,
    agencies: Dataset | None = None,
    closed: Dataset | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> TrainingOutcome:
    """Train on the corpus and the corrections not held out; store the model as
    a new version with its evaluation; activate it only if it does at least as
    well as the active one on the held-out corrections.

    With ``agencies`` (texts and the agency that answered them) the version
    gets an agency model too, when there is enough to learn from; the version
    is then activated only if neither model is worse than the active one's.
    ``closed`` (closed tickets and their final topics) are trained on, not judged by."""
    train, held_out = split_examples(corrections)
    closed = closed or Dataset([], [])
    data = Dataset(list(corpus.texts), list(corpus.labels))
    data.extend(closed)
    data.extend(train)
    progress(
        f"训练：内置语料 {len(corpus)} 条，已办结工单 {len(closed)} 条，"
        f"纠错样本 {len(train)} 条（另留出 {len(held_out)} 条用于比较）…"
    )
    source = f"shipped corpus + {len(train)} corrections" + (f" + {len(closed)} closed tickets" if len(closed) else "")
    model = TopicModel.train(data.texts, data.labels, source=source)
    accuracy = active_accuracy = None
    active_before = store.active_version()
    if len(held_out):
        progress("在留出的纠错样本上比较新旧模型…")
        accuracy = topic_accuracy(model, held_out)
        if active_before is not None:
            active_accuracy = topic_accuracy(store.load_version(active_before), held_out)
    agency_model, agency_outcome = train_agency(store, agencies or Dataset([], []), active_before, progress)
    model.agency = agency_model
    topic_not_worse = accuracy is None or active_accuracy is None or accuracy >= active_accuracy
    activated = topic_not_worse and agency_outcome.not_worse
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
        agency=agency_outcome,
        closed_trained=len(closed),
    )
