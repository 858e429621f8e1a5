"""Intake (受理): store once, classify, hand over to routing.

Every channel ends here. A message with an idempotency key that was already
stored returns the ticket it made, so a retried delivery creates nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from classifier import Classifier, Prediction
from routing.models import Kind, Message, Ticket, Urgency
from routing.tickets import Inbound, Labels, open_ticket

DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class Receipt:
    ticket: Ticket
    created: bool  # False when this was a repeated delivery


def labels_from(prediction: Prediction, threshold: float) -> Labels:
    """Turn the classifier's reading into routing's labels; below the
    threshold the topic is kept as a hint but a dispatcher decides."""
    place = prediction.place
    reason = None
    if prediction.topic is None:
        reason = "分类模型不可用"
    elif prediction.confidence < threshold:
        reason = f"分类置信度 {prediction.confidence:.2f} 低于阈值 {threshold:.2f}"
    return Labels(
        topic=prediction.topic,
        subtopic=prediction.subtopic,
        confidence=prediction.confidence,
        district=place.district if place else None,
        street=place.street if place else None,
        kind=Kind(prediction.kind),
        urgency=urgency_of(prediction),
        needs_triage=reason is not None,
        triage_reason=reason,
        prediction=prediction.as_dict(),
    )


def urgency_of(prediction: Prediction) -> Urgency:
    """Danger first; then an outage of water, power, gas or heating (水电气热)."""
    if prediction.urgent:
        return Urgency.URGENT
    return Urgency.UTILITY if prediction.utility_words else Urgency.NORMAL


def with_place_of_location(labels: Labels, classifier: Classifier, inbound: Inbound) -> Labels:
    """Where the text names no place, the location the resident gave may."""
    if labels.district is not None or not inbound.location.text:
        return labels
    place = classifier.gazetteer.find(inbound.location.text)
    return replace(labels, district=place.district, street=place.street) if place else labels


def find_delivered(session: Session, channel: str, external_id: str | None) -> Ticket | None:
    if external_id is None:
        return None
    message = session.scalar(
        select(Message).where(Message.channel == channel, Message.external_id == external_id)
    )
    return message.ticket if message is not None else None


def submit(
    session: Session,
    inbound: Inbound,
    classifier: Classifier,
    now: datetime,
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> Receipt:
    """Take one inbound message; commits. Safe to call again with the same
    ``external_id``: the first delivery's ticket is returned."""
    existing = find_delivered(session, inbound.channel, inbound.external_id)
    if existing is not None:
        return Receipt(existing, created=False)
    labels = with_place_of_location(labels_from(classifier.predict(inbound.text), threshold), classifier, inbound)
    try:
        ticket = open_ticket(session, inbound, labels, now)
        session.commit()
    except IntegrityError:
        # The same delivery arrived at the same moment on another worker and won.
        session.rollback()
        existing = find_delivered(session, inbound.channel, inbound.external_id)
        if existing is None:
            raise
        return Receipt(existing, created=False)
    return Receipt(ticket, created=True)
