"""What the classifier says of one text: topic, place, urgency, kind."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .kind import guess_kind
from .model import LEVEL_SEPARATOR, TopicModel
from .place import Gazetteer, Place
from .store import ActiveModel, ModelStore
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

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["alternatives"] = [[label, round(p, 4)] for label, p in self.alternatives]
        data["confidence"] = round(self.confidence, 4)
        data["subtopic_confidence"] = round(self.subtopic_confidence, 4)
        return data


class Classifier:
    """A topic model with the gazetteer and the rules around it."""

    def __init__(
        self, model: TopicModel | None, gazetteer: Gazetteer | None = None, version: str | None = None
    ) -> None:
        self.model = model
        self.gazetteer = gazetteer or Gazetteer.load()
        self.version = version

    def predict(self, text: str) -> Prediction:
        place = self.gazetteer.find(text)
        urgency = assess_urgency(text)
        kind = guess_kind(text)
        common = dict(
            place=place,
            urgent=urgency.urgent,
            urgency_words=urgency.words,
            utility_words=urgency.utility_words,
            kind=kind.kind,
            kind_words=kind.words,
            model_version=self.version,
        )
        if self.model is None:
            return Prediction(None, None, 0.0, 0.0, **common)
        proba = self.model.predict_proba([text])
        labels = self.model.labels
        order = proba[0].argsort()[::-1]
        alternatives = [(labels[i], float(proba[0][i])) for i in order[:3]]
        if self.model.two_level:
            tops, top_proba = self.model.first_level_proba(proba)
            best_top = int(top_proba[0].argmax())
            topic, confidence = tops[best_top], float(top_proba[0][best_top])
            # The best second level within the chosen first level.
            inside = [i for i in order if labels[i].split(LEVEL_SEPARATOR, 1)[0] == topic]
            subtopic = labels[inside[0]].split(LEVEL_SEPARATOR, 1)[1]
            subtopic_confidence = float(proba[0][inside[0]])
        else:
            topic, confidence = labels[order[0]], float(proba[0][order[0]])
            subtopic, subtopic_confidence = None, confidence
        return Prediction(topic, subtopic, confidence, subtopic_confidence, alternatives, **common)


class LiveClassifier:
    """The classifier a long-running process uses: the store's active model,
    picked up again when an administrator activates another version."""

    def __init__(self, store: ModelStore | None, gazetteer: Gazetteer | None = None) -> None:
        self.active = ActiveModel(store) if store is not None else None
        self.gazetteer = gazetteer or Gazetteer.load()

    def current(self) -> Classifier:
        version, model = self.active.get() if self.active is not None else (None, None)
        return Classifier(model, self.gazetteer, version)
