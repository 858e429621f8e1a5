"""The learning loop (模型学习): the classifier learns the city.

A periodic check (``RETRAIN_CHECK``, hourly) asks whether a retraining is
due — ``RETRAIN_EVERY_DAYS`` since the last one, or ``RETRAIN_AFTER_CORRECTIONS``
new corrections and closed tickets — and if so enqueues the retraining job
(``RETRAIN``); a dispatcher may enqueue it too. The job trains on the shipped
corpus, the corrections and the closed tickets (``classifier.learning.retrain``:
one correction in five held out, the new version activated only when not
worse on them), in the store every process reads, and records the run.

One training at a time across every machine: the job is enqueued under one
key (``enqueue_once``), which the queue lets no second waiting or running job
have, and the job's lease keeps it one worker's while it runs.

Every change of the active version — by a retraining, on the learning page,
or with ``classifier activate`` — goes through ``activate_version`` or is
audited alike, so the change log says who switched to which version when.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from classifier import Dataset, ModelStore, UntrustedModel, shipped_corpus
from classifier.learning import TrainingOutcome, retrain
from routing.dispatch.contradictions import Disagreement, disagreements
from routing.dispatch.corrections import (
    agency_examples,
    closed_topic_examples,
    new_examples_since,
    oldest_example,
    topic_examples,
)
from routing.store.audit import audit, changes
from routing.store.configuration import ConfigChange
from routing.store.jobs import FAILED, QUEUED, Job, Registry, enqueue, enqueue_once, next_slot
from routing.store.people import User
from routing.store.retraining import ACTIVATED, COUNT, MANUAL, REFUSED, SCHEDULE, Retraining, last_retraining
from routing.store.retraining import FAILED as TRAINING_FAILED
from routing.store.tickets import Ticket
from routing.texts import DomainError, N_

RETRAIN = "classifier.retrain"
RETRAIN_CHECK = "classifier.retrain_check"
CHECK_EVERY = timedelta(hours=1)
# The one key every retraining job is enqueued under (see the module's docstring).
RUN_KEY = "classifier.retrain"
AUDIT_SUBJECT = "model"


class LearningError(DomainError):
    """A version that cannot be activated as asked."""


@dataclass(frozen=True)
class Schedule:
    """When a retraining is due: ``every_days`` after the last one (or, before
    the first, after the oldest example), or as soon as ``after_examples`` new
    corrections and closed tickets came in; 0 turns either off. Never without
    anything new: the same examples would train the same model again."""

    every_days: int = 7
    after_examples: int = 200

    def due(self, session: Session, now: datetime) -> str | None:
        """The trigger of a retraining due at ``now``, or None."""
        if not (self.every_days or self.after_examples):
            return None
        last = last_retraining(session)
        since = last.started_at if last is not None else None
        new = new_examples_since(session, since)
        if not new:
            return None
        if self.after_examples and new >= self.after_examples:
            return COUNT
        start = since or oldest_example(session)
        if self.every_days and start is not None and now - start >= timedelta(days=self.every_days):
            return SCHEDULE
        return None


@dataclass
class Learning:
    """What a retraining needs: the model store every process reads, and the
    corpus it starts from (the shipped one; a test's small one)."""

    store: ModelStore
    schedule: Schedule = field(default_factory=Schedule)
    corpus: Callable[[], Dataset] = shipped_corpus


def schedule_check(session: Session, now: datetime) -> None:
    """Queue the next hour's check, unless some process already has."""
    slot = next_slot(now, CHECK_EVERY)
    enqueue(session, RETRAIN_CHECK, {}, now, key=f"retrain-check:{slot:%Y%m%d%H}", delay=slot - now, max_attempts=3)


def request_retraining(session: Session, now: datetime, trigger: str, actor: User | None = None) -> bool:
    """Enqueue a retraining; False when one is already waiting or running."""
    payload = {"trigger": trigger, "by": actor.id if actor is not None else None}
    return enqueue_once(session, RETRAIN, payload, now, key=RUN_KEY, max_attempts=2) is not None


def pending_retraining(session: Session) -> Job | None:
    """The retraining waiting or running, if any."""
    return session.scalar(select(Job).where(Job.key == RUN_KEY, Job.status == QUEUED))


def last_failed_job(session: Session) -> Job | None:
    """The last retraining job that failed for good (the database, not the training, failed it)."""
    return session.scalar(
        select(Job).where(Job.kind == RETRAIN, Job.status == FAILED).order_by(Job.id.desc()).limit(1)
    )


def retrain_from_city(
    session: Session, learning: Learning, now: datetime, trigger: str, actor_id: int | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> Retraining:
    """Train a new version from the corpus and the city's examples, activate it
    if the gate lets it through, and record the run (in ``session``, for the
    caller to commit). A training that fails on its data is recorded as failed."""
    corrections = topic_examples(session)
    closed = closed_topic_examples(session)
    agencies = agency_examples(session)
    withheld = sum(len(d.corrections) for d in disagreements(session))
    before = learning.store.active_version()
    record = Retraining(
        started_at=now, trigger=trigger, requested_by_id=actor_id, version_before=before, withheld=withheld,
        closed=len(closed),
    )
    progress(
        f"承办单位样本 {len(agencies.pairs)} 条：已办结工单 {agencies.closed}，"
        f"历史工单 {agencies.history}，调度员纠错 {agencies.corrections}；互相矛盾而暂不学习的纠错 {withheld} 条"
    )
    started = time.monotonic()
    try:
        outcome = retrain(
            learning.store, learning.corpus(), _dataset(corrections),
            agencies=Dataset(agencies.texts, agencies.agencies), closed=_dataset(closed), progress=progress,
        )
    except (ValueError, UntrustedModel, RuntimeError, OSError) as exc:
        record.outcome, record.note = TRAINING_FAILED, str(exc)[:2000]
    else:
        _fill(record, outcome)
        if outcome.activated and outcome.version != before:
            audit(session, AUDIT_SUBJECT, None, "activate", None, now, before={"version": before},
                  after={"version": outcome.version}, summary="重新训练后通过留出样本检验，自动启用")
    record.seconds = round(time.monotonic() - started, 1)
    session.add(record)
    return record


def _dataset(pairs: list[tuple[str, str]]) -> Dataset:
    return Dataset([text for text, _ in pairs], [label for _, label in pairs])


def _fill(record: Retraining, outcome: TrainingOutcome) -> None:
    record.outcome = ACTIVATED if outcome.activated else REFUSED
    record.version_after = outcome.version
    record.held_out, record.accuracy_before, record.accuracy_after = (
        outcome.held_out, outcome.active_accuracy, outcome.accuracy,
    )
    agency = outcome.agency
    record.agency_held_out = agency.held_out
    record.agency_accuracy_before, record.agency_accuracy_after = agency.active_accuracy, agency.accuracy
    record.examples, record.corrections = outcome.trained_on, outcome.corrections_trained
    record.note = outcome.reason


def activate_version(
    session: Session, store: ModelStore, version: str, actor: User | None, now: datetime, *, summary: str = ""
) -> str | None:
    """Make ``version`` the active model (every process picks it up within
    seconds) and record who did it in the change log; the version active
    before. Activating the active version changes and records nothing."""
    before = store.active_version()
    if version not in store.manifest()["versions"]:
        raise LearningError(N_("没有模型版本 %(version)s。"), version=version)
    if version == before:
        return before  # nothing changes, so nothing to record
    audit(session, AUDIT_SUBJECT, None, "activate", actor, now, before={"version": before},
          after={"version": version}, summary=summary or None)
    session.flush()  # the record is written before the switch it records, so a refused write switches nothing
    store.activate(version)
    return before


def previous_version(session: Session, store: ModelStore) -> str | None:
    """The version that was active before the active one, when the change log
    knows it and the store still has it: where a roll-back goes."""
    active = store.active_version()
    for change in changes(session, AUDIT_SUBJECT, limit=200):
        if (change.after or {}).get("version") == active:
            before = (change.before or {}).get("version")
            return before if before in store.manifest()["versions"] else None
    return None


def versions(store: ModelStore, limit: int = 20) -> list[dict[str, Any]]:
    """The newest stored versions with what their metadata says, newest first."""
    manifest = store.manifest()
    rows = []
    for version, entry in sorted(manifest["versions"].items(), reverse=True)[:limit]:
        meta = entry.get("metadata", {})
        evaluation = meta.get("evaluation") or {}
        rows.append({
            "version": version,
            "active": version == manifest["active"],
            "trained_at": meta.get("trained_at"),
            "samples": meta.get("n_samples"),
            "source": meta.get("source", ""),
            "held_out": evaluation.get("held_out_corrections"),
            "accuracy": evaluation.get("topic_accuracy"),
            "agency": bool(entry.get("agency")),
        })
    return rows


def register_jobs(registry: Registry, learning: Learning) -> None:
    def run(session: Session, payload: dict[str, Any], now: datetime) -> None:
        retrain_from_city(session, learning, now, payload.get("trigger") or MANUAL, payload.get("by"))

    def check(session: Session, payload: dict[str, Any], now: datetime) -> None:
        trigger = learning.schedule.due(session, now)
        if trigger is not None:
            request_retraining(session, now, trigger)
        schedule_check(session, now)

    registry.register(RETRAIN, run)
    registry.register_periodic(RETRAIN_CHECK, check, schedule_check)


@dataclass
class Overview:
    """What the learning page shows."""

    active: str | None
    previous: str | None
    runs: list[Retraining]
    versions: list[dict[str, Any]]
    pending: Job | None
    failed: Job | None
    new_examples: int
    disagreements: list[Disagreement]
    tickets: dict[int, Ticket]
    people: dict[int, User]
    history: list[ConfigChange]


def overview(session: Session, learning: Learning, runs: list[Retraining]) -> Overview:
    last = runs[0] if runs else None
    found = disagreements(session)
    corrections = [c for d in found for c in d.corrections]
    ticket_ids = {c.ticket_id for c in corrections}
    people_ids = {c.user_id for c in corrections if c.user_id} | {r.requested_by_id for r in runs if r.requested_by_id}
    return Overview(
        active=learning.store.active_version(),
        previous=previous_version(session, learning.store),
        runs=runs,
        versions=versions(learning.store),
        pending=pending_retraining(session),
        failed=last_failed_job(session),
        new_examples=new_examples_since(session, last.started_at if last else None),
        disagreements=found,
        tickets={t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))},
        people={u.id: u for u in session.scalars(select(User).where(User.id.in_(people_ids)))},
        history=changes(session, AUDIT_SUBJECT, limit=20),
    )
