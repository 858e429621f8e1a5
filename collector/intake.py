"""Intake (受理): store once, classify, hand over to routing.

Every channel ends here. A message with an idempotency key that was already
stored returns the ticket it made, so a retried delivery creates nothing new.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from classifier import Classifier, Prediction
from classifier.similar import fingerprint, fingerprints
from routing.dispatch.agency_choice import DEFAULT_AGENCY_THRESHOLD, LearnedAgency
from routing.dispatch.matters import count_unindexed, index_matters, index_ticket, unindexed_open
from routing.flow.inbound import Inbound, Labels
from routing.flow.steps import notify_resident
from routing.flow.tickets import open_ticket, relabel, relabel_many
from routing.store.idempotency import DEFAULT_HOURS as DEFAULT_IDEMPOTENCY_HOURS
from routing.store.idempotency import Request as IdempotentRequest
from routing.store.idempotency import remember, remembered
from routing.store.jobs import QUEUED, BatchHandler, Handler, Job, enqueue, next_slot
from routing.store.tickets import Kind, Message, Status, Ticket, Urgency

DEFAULT_THRESHOLD = 0.5
CLASSIFY = "intake.classify"


@dataclass(frozen=True)
class Receipt:
    ticket: Ticket
    created: bool  # False when this was a repeated delivery


def labels_from(
    prediction: Prediction, threshold: float, agency_threshold: float = DEFAULT_AGENCY_THRESHOLD
) -> Labels:
    """Turn the classifier's reading into routing's labels; below the
    threshold the topic is kept as a hint but a dispatcher decides. The
    threshold is the topic's own at the routing precision the city chose
    (``ROUTING_PRECISION``) when the model learned one, else ``threshold``.
    A learned agency goes along with the confidence routing must see before
    trusting it."""
    place = prediction.place
    reason = None
    if prediction.topic is None:
        reason = "分类模型不可用"
    elif prediction.routing_threshold is not None:
        if prediction.confidence < prediction.routing_threshold:
            reason = _below_topic_threshold(prediction)
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
        learned_agency=(
            LearnedAgency(prediction.agency, prediction.agency_confidence, agency_threshold)
            if prediction.agency
            else None
        ),
    )


def _below_topic_threshold(prediction: Prediction) -> str:
    target = f"{prediction.routing_precision:.0%}" if prediction.routing_precision else "目标"
    if prediction.routing_threshold is not None and prediction.routing_threshold > 1:
        return f"“{prediction.topic}”的自动分派达不到 {target} 的准确率，须人工确认"
    return (
        f"分类置信度 {prediction.confidence:.2f} 低于“{prediction.topic}”"
        f"达到 {target} 准确率所需的 {prediction.routing_threshold:.2f}"
    )


def urgency_of(prediction: Prediction) -> Urgency:
    """Danger first; then an outage of water, power, gas or heating (水电气热)."""
    if prediction.urgent:
        return Urgency.URGENT
    return Urgency.UTILITY if prediction.utility_words else Urgency.NORMAL


def with_place_of_location(labels: Labels, classifier: Classifier, location: str | None) -> Labels:
    """Where the text names no place, the location the resident gave may."""
    if labels.district is not None or not location:
        return labels
    place = classifier.gazetteer.find(location)
    return replace(labels, district=place.district, street=place.street) if place else labels


def reading(
    classifier: Classifier,
    prediction: Prediction,
    location: str | None,
    threshold: float,
    agency_threshold: float = DEFAULT_AGENCY_THRESHOLD,
) -> Labels:
    """A prediction as routing's labels, the place the resident gave
    included: the one reading every channel hands to routing, whether the
    text was read as it came (``read``) or later by the classify job."""
    return with_place_of_location(labels_from(prediction, threshold, agency_threshold), classifier, location)


def read(
    classifier: Classifier,
    text: str,
    location: str | None,
    threshold: float,
    agency_threshold: float = DEFAULT_AGENCY_THRESHOLD,
) -> Labels:
    """The classifier's reading of a text, as routing's labels, with the
    text's fingerprint for the duplicate search."""
    labels = reading(classifier, classifier.predict(text), location, threshold, agency_threshold)
    return replace(labels, matter=fingerprint(text))


def read_later(session: Session, ticket: Ticket, now: datetime) -> None:
    """Hand a received ticket to the classifier in a job: a channel that must
    answer within seconds (WeChat) answers with the number at once. The job
    is stored with the ticket, so a ticket is never left unread."""
    if ticket.id is None:
        session.flush()
    enqueue(session, CLASSIFY, {"ticket_id": ticket.id}, now)


def read_again(
    session: Session, ticket: Ticket, had_text: bool, reader: Callable[[str, str | None], Labels], now: datetime
) -> None:
    """Words added to a ticket's matter (a WeChat message, the status page):
    a ticket that had none yet (a photo first) is read and routed now; one
    that had is found by later tickets by all of its words."""
    if not had_text:
        relabel(session, ticket, reader(ticket.text, ticket.location_text), now)
    else:
        index_ticket(session, ticket, fingerprint(ticket.text))


def make_classify(
    classifier: Callable[[], Classifier], threshold: float, agency_threshold: float
) -> tuple[Handler, BatchHandler]:
    """The job that reads a received ticket, then routes it or leaves it for
    triage; and the same for many tickets at once, which the workers use
    when WeChat is busy."""

    def classify(session: Session, payload: dict[str, Any], now: datetime) -> None:
        classify_many(session, [payload], now)

    def classify_many(session: Session, payloads: list[dict[str, Any]], now: datetime) -> None:
        ids = [payload["ticket_id"] for payload in payloads]
        # Read already (a repeated run after a crash, or a dispatcher was quicker): left alone.
        tickets = session.scalars(
            select(Ticket)
            .where(Ticket.id.in_(ids), Ticket.status == Status.RECEIVED)
            .order_by(Ticket.id)
            .options(joinedload(Ticket.assisting))  # routing compares them: in the same query
        ).unique().all()
        current = classifier()
        predictions = current.predict_many([t.text for t in tickets])
        readings = []
        # No fingerprint here: storing one costs PostgreSQL as much as the
        # rest of the routing, and WeChat's bursts need this job quick; the
        # periodic INDEX_MATTERS job fingerprints these tickets soon after.
        for ticket, prediction in zip(tickets, predictions, strict=True):
            readings.append((ticket, reading(current, prediction, ticket.location_text, threshold, agency_threshold)))
        # Routing reads places, rules and policies once for the batch, and
        # writes it in a few statements; it decides as for any other channel
        # (``routing.tickets.decide``).
        relabel_many(session, readings, now)

    return classify, classify_many


def index_unindexed(
    session: Session, since: datetime, progress: Callable[[int, int], None] | None = None, batch: int = 500
) -> int:
    """Fingerprint the open tickets raised since ``since`` that have none
    (raised before the duplicate index existed), a batch per transaction, so
    that an interrupted run keeps what it did and a new run goes on. Returns
    how many were indexed."""
    total = count_unindexed(session, since)
    done, after = 0, 0
    while indexed := index_some(session, since, after=after, limit=batch):
        session.commit()
        done, after = done + len(indexed), indexed[-1]
        if progress is not None:
            progress(done, total)
    return done


def index_some(session: Session, since: datetime, *, after: int = 0, limit: int = 500) -> list[int]:
    """Fingerprint up to ``limit`` open tickets raised since ``since`` that
    have none, by id after ``after``; returns their ids. The caller commits."""
    tickets = unindexed_open(session, since, after=after, limit=limit)
    prints = fingerprints([t.text for t in tickets])
    index_matters(session, {t.id: (t.created_at, fp) for t, fp in zip(tickets, prints, strict=True)})
    return [t.id for t in tickets]


INDEX_MATTERS = "intake.index_matters"
# How soon a ticket read by the classify job can be found as a duplicate,
# and how far back a run looks for tickets without a fingerprint.
INDEX_EVERY = timedelta(seconds=30)
INDEX_LOOKBACK = timedelta(days=2)
# At most this many a run (a few seconds of work); a longer backlog, after a
# burst, is taken by the runs that follow. While tickets wait to be read,
# reading and routing them comes first: a run then takes only a few
# (indexing a ticket costs PostgreSQL about as much as routing it, and in a
# burst of 500 a second both would not fit on two cores).
INDEX_RUN = 5000
INDEX_RUN_BUSY = 100


def schedule_indexing(session: Session, now: datetime) -> None:
    """Queue the next run of INDEX_MATTERS, unless some process already has."""
    slot = next_slot(now, INDEX_EVERY)
    enqueue(session, INDEX_MATTERS, {}, now, key=f"index:{slot:%Y%m%d%H%M%S}", delay=slot - now, max_attempts=3)


def index_matters_job(session: Session, payload: dict[str, Any], now: datetime) -> None:
    """Fingerprint the tickets read since the last run (WeChat's, read by the
    classify job), then queue the next run; the job runner commits both."""
    busy = session.scalar(
        select(exists().where(Job.kind == CLASSIFY, Job.status == QUEUED, Job.run_after <= now))
    )
    index_some(session, now - INDEX_LOOKBACK, limit=INDEX_RUN_BUSY if busy else INDEX_RUN)
    schedule_indexing(session, now)


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
    agency_threshold: float = DEFAULT_AGENCY_THRESHOLD,
    before_commit: Callable[[Ticket], None] | None = None,
) -> Receipt:
    """Take one inbound message; commits. Safe to call again with the same
    ``external_id``: the first delivery's ticket is returned. ``before_commit``
    writes what must be stored with the new ticket or not at all."""
    existing = find_delivered(session, inbound.channel, inbound.external_id)
    if existing is not None:
        return Receipt(existing, created=False)
    labels = read(classifier, inbound.text, inbound.location.text, threshold, agency_threshold)
    try:
        ticket = open_ticket(session, inbound, labels, now)
        if ticket.channel != "wechat" and ticket.contact_phone and ticket.sms_notice:
            # The receipt by SMS (number, lookup code, link), stored with the ticket.
            notify_resident(session, ticket, "receipt", now)
        if before_commit is not None:
            before_commit(ticket)
        session.commit()
    except IntegrityError:
        # The same delivery arrived at the same moment on another worker and won.
        session.rollback()
        existing = find_delivered(session, inbound.channel, inbound.external_id)
        if existing is None:
            raise
        return Receipt(existing, created=False)
    return Receipt(ticket, created=True)


def submit_once(
    session: Session,
    inbound: Inbound,
    request: IdempotentRequest,
    classifier: Classifier,
    now: datetime,
    *,
    hours: int = DEFAULT_IDEMPOTENCY_HOURS,
    threshold: float = DEFAULT_THRESHOLD,
    agency_threshold: float = DEFAULT_AGENCY_THRESHOLD,
) -> Receipt:
    """Take a submission that came with an idempotency key; commits. The
    caller's retry of the same body gets the first attempt's ticket; the
    same key with another body raises ``KeyReused`` and stores nothing."""
    earlier = remembered(session, request, now, hours)
    if earlier is not None:
        return Receipt(earlier, created=False)
    try:
        return submit(
            session, inbound, classifier, now, threshold=threshold, agency_threshold=agency_threshold,
            before_commit=lambda ticket: remember(session, request, ticket, now, hours),
        )
    except IntegrityError:
        # The same key arrived at the same moment and won: its answer is ours
        # (or, for another body, the refusal).
        earlier = remembered(session, request, now, hours)
        if earlier is None:
            raise
        return Receipt(earlier, created=False)
