"""What the classifier says of one text: topic, agency, place, urgency, kind."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from .estimators import LEVEL_SEPARATOR
from .kind import guess_kind
from .model import TopicModel
from .place import Gazetteer, Place
from .store import ActiveModel, ModelStore
from .thresholds import UNREACHABLE
from .urgency import assess_urgency


@dataclass(frozen=True)
class Prediction:
    """The classifier's reading of a text, each part with why or how sure."""

    topic: str | None  # 一级分类
    subtopic: str | None  # 二级分类
    confidence: float  # of the first-level topic, 0..1
    subtopic_confidence: float
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    place: Place | None = None
    urgent: bool = False
    urgency_words: tuple[str, ...] = ()
    # 水电气热: an outage of a utility, answered within a day.
    utility_words: tuple[str, ...] = ()
    kind: str = "complaint"
    kind_words: tuple[str, ...] = ()
    model_version: str | None = None
    # 承办单位: what the agency model learned, when the active version has one.
    agency: str | None = None
    agency_confidence: float = 0.0
    # The topic's confidence threshold at the routing precision asked for, from
    # the model's held-out predictions; None when the model has none (older
    # models) or no precision was asked for: intake then uses its fixed threshold.
    routing_threshold: float | None = None
    routing_precision: float | None = None

    def as_dict(self) -> dict[str, Any]:
        # Field by field rather than ``asdict``, which deep-copies every
        # string: the job does this for every ticket it reads.
        data = {name: getattr(self, name) for name in _FIELDS}
        data["place"] = asdict(self.place) if self.place is not None else None
        data["alternatives"] = [[label, round(p, 4)] for label, p in self.alternatives]
        data["confidence"] = round(self.confidence, 4)
        data["subtopic_confidence"] = round(self.subtopic_confidence, 4)
        data["agency_confidence"] = round(self.agency_confidence, 4)
        if self.routing_threshold is not None:
            data["routing_threshold"] = round(self.routing_threshold, 4)
        return data


_FIELDS = tuple(f.name for f in fields(Prediction))


class Classifier:
    """A topic model with the gazetteer and the rules around it."""

    def __init__(
        self,
        model: TopicModel | None,
        gazetteer: Gazetteer | None = None,
        version: str | None = None,
        *,
        routing_precision: float | None = None,
    ) -> None:
        self.model = model
        self.gazetteer = gazetteer or Gazetteer.load()
        self.version = version
        self.routing_precision = routing_precision
        # Per topic, the threshold at that precision (None: the model has none).
        self.thresholds = (
            model.routing_thresholds(routing_precision) if model is not None and routing_precision else None
        )

    def predict(self, text: str) -> Prediction:
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        """Several texts at once: the rest of the work per text is shared, a
        third faster per text than one by one."""
        common = [self._rules(text) for text in texts]
        if self.model is None or not texts:
            return [Prediction(None, None, 0.0, 0.0, **c) for c in common]
        if self.model.agency is not None:
            agencies, agency_confidence = self.model.agency.predict(texts)
            for c, agency, confidence in zip(common, agencies, agency_confidence):
                c.update(agency=agency, agency_confidence=float(confidence))
        proba = self.model.predict_proba(texts)
        labels = self.model.labels
        rows = np.arange(len(texts))
        # The three likeliest labels of each text, best first.
        alternatives = np.argsort(-proba, axis=1, kind="stable")[:, :3]
        if self.model.two_level:
            tops, top_proba = self.model.first_level_proba(proba)
            best_top = top_proba.argmax(axis=1)
            # The best second level within the chosen first level.
            inside = self.model.topic_of_label[None, :] == best_top[:, None]
            best_label = np.where(inside, proba, -1.0).argmax(axis=1)
            topics = [tops[t] for t in best_top]
            subtopics = [labels[j].split(LEVEL_SEPARATOR, 1)[1] for j in best_label]
            confidence = top_proba[rows, best_top]
        else:
            best_label = alternatives[:, 0]
            topics = [labels[j] for j in best_label]
            subtopics = [None] * len(texts)
            confidence = proba[rows, best_label]
        subtopic_confidence = proba[rows, best_label]
        if self.thresholds is not None:
            for c, topic in zip(common, topics, strict=True):
                # A topic the held-out predictions never showed has no measured precision.
                c.update(routing_threshold=self.thresholds.get(topic, UNREACHABLE), routing_precision=self.routing_precision)
        return [
            Prediction(
                topics[i],
                subtopics[i],
                float(confidence[i]),
                float(subtopic_confidence[i]),
                [(labels[j], float(proba[i, j])) for j in alternatives[i]],
                **c,
            )
            for i, c in enumerate(common)
        ]

    def _rules(self, text: str) -> dict[str, Any]:
        """What the gazetteer and the word rules read, model or not."""
        urgency = assess_urgency(text)
        kind = guess_kind(text)
        return dict(
            place=self.gazetteer.find(text),
            urgent=urgency.urgent,
            urgency_words=urgency.words,
            utility_words=urgency.utility_words,
            kind=kind.kind,
            kind_words=kind.words,
            model_version=self.version,
        )


class LiveClassifier:
    """The classifier a long-running process uses: the store's active model,
    picked up again when an administrator activates another version; and the
    gazetteer, fixed or asked for each time (``places``: the city's, which an
    administrator may change while the process runs)."""

    def __init__(
        self,
        store: ModelStore | None,
        gazetteer: Gazetteer | None = None,
        places: Callable[[], Gazetteer] | None = None,
        *,
        routing_precision: float | None = None,
    ) -> None:
        self.active = ActiveModel(store) if store is not None else None
        self.gazetteer = gazetteer or Gazetteer.load()
        self.places = places
        self.routing_precision = routing_precision
        self._made: tuple[str | None, TopicModel | None, Gazetteer, Classifier] | None = None

    def current(self) -> Classifier:
        version, model = self.active.get() if self.active is not None else (None, None)
        gazetteer = self.places() if self.places is not None else self.gazetteer
        made = self._made
        if made is not None and made[0] == version and made[1] is model and made[2] is gazetteer:
            return made[3]  # the thresholds are worked out once per model, not per message
        classifier = Classifier(model, gazetteer, version, routing_precision=self.routing_precision)
        self._made = (version, model, gazetteer, classifier)
        return classifier
