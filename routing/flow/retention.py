"""The retention job (存储期限届满的个人信息删除): what ``routing.store.retention``
says is past its date is removed or scrubbed, in batches of set-based
statements, so a million tickets take minutes, not a night.

Per ticket closed long enough ago, the columns the map names are treated as
it says and the ticket gets ``anonymised_at`` and an event on its timeline
(``anonymise``; ``remove_media`` for its photos and voice notes). Rows that
hang on no ticket (messages that made none, imported files, old hotline
history, finished jobs) follow their own time. What the figures count is never
touched, so scorecards and reports add up after the job as before it.

A second run finds nothing left to do: every selection asks for what still
holds something.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from routing.flow.steps import SYSTEM
from routing.store.access_log import AccessEntry, purge_access_log, retention_days
from routing.store.db import Base
from routing.store.jobs import DONE, FAILED, Job, enqueue
from routing.store.retention import (
    CONTACT,
    FIXED,
    MEDIA,
    TREATMENTS,
    Schedule,
    columns_of,
    deleted_whole,
    tables_of,
)
from routing.store.tickets import Attachment, HistoricalTicket, Status, Ticket, TicketEvent

log = logging.getLogger(__name__)

ANONYMISE, REMOVE_MEDIA = "anonymise", "remove_media"  # the timeline's actions
BATCH = 1000
# What the report counts, in the command line's words.
ITEMS = {
    "tickets": "工单的联系方式、原始消息和文字中的号码",
    "attachments": "工单的照片、录音和附件",
    "messages": "未成工单的消息",
    "history": "历史工单文字中的号码",
    "imports": "导入的热线文件",
    "jobs": "已完成的后台任务",
    "access_log": "个人信息访问日志",
}
Progress = Callable[[str, int, int], None]


@dataclass
class RetentionReport:
    dry_run: bool
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ITEMS, 0))
    # The run stopped at its limit with more left (the job runs again soon).
    more: bool = False

    def lines(self) -> list[str]:
        verb = "将处理" if self.dry_run else "已处理"
        return [f"{ITEMS[item]}：{verb} {n} 条" for item, n in self.counts.items()]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def ended_before(cutoff: datetime) -> Any:
    """Closed (办结) before ``cutoff``, or marked invalid (无效) before it."""
    return or_(
        and_(Ticket.status == Status.CLOSED, Ticket.closed_at < cutoff),
        and_(Ticket.status == Status.INVALID, Ticket.updated_at < cutoff),
    )


def _media_left() -> Any:
    return or_(*(Attachment.__table__.c[name].is_not(None) for name in columns_of("attachment", MEDIA)))


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def rewrite(session: Session, table: Table, where: Any, treatments: dict[str, str], *, write: bool = True) -> int:
    """Apply ``treatments`` (column: treatment) to the rows ``where`` selects:
    values that are the same whatever was there in one UPDATE, the others read
    and written back with one executemany. Returns how many rows changed (or would)."""
    fixed = {name: FIXED[how] for name, how in treatments.items() if how in FIXED}
    computed = {name: TREATMENTS[how] for name, how in treatments.items() if how in TREATMENTS}
    changed: set[Any] = set()
    key = table.primary_key.columns.values()[0]
    if fixed:
        left = or_(*(table.c[name].is_not(None) if value is None else table.c[name] != value
                     for name, value in fixed.items()))
        changed |= set(session.scalars(select(key).where(where, left)))
        if write and changed:
            session.execute(update(table).where(where, left).values(fixed))
    if computed:
        rows = session.execute(select(key, *(table.c[name] for name in computed)).where(where)).all()
        writes = []
        for row in rows:
            values = {name: fn(old) for (name, fn), old in zip(computed.items(), row[1:])}
            if any(new != old for new, old in zip(values.values(), row[1:])):
                writes.append({"row_key": row[0], **{f"new_{name}": value for name, value in values.items()}})
        changed |= {w["row_key"] for w in writes}
        if write and writes:
            statement = update(table).where(key == bindparam("row_key")).values(
                {name: bindparam(f"new_{name}", type_=table.c[name].type) for name in computed}
            )
            session.execute(statement.execution_options(synchronize_session=False), writes)
    return len(changed)


def _event_rows(tickets: Sequence[Any], action: str, now: datetime, actor: tuple[int | None, str],
                reason: str | None, detail: dict[str, Any]) -> list[dict[str, Any]]:
    actor_id, label = actor
    return [
        {"ticket_id": t.id, "at": now, "agency_id": t.agency_id, "actor_id": actor_id, "actor": label,
         "action": action, "from_status": None, "to_status": t.status.value, "reason": reason, "detail": detail}
        for t in tickets
    ]


def anonymise_tickets(
    session: Session, ids: Sequence[int], now: datetime, data_classes: Sequence[str], *,
    action: str = ANONYMISE, actor: tuple[int | None, str] = (None, SYSTEM), reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Remove the personal data of ``data_classes`` from the tickets ``ids``
    and everything hanging on them, as the map says; one event on each
    ticket's timeline. Returns the attachments emptied. The caller commits."""
    tickets = session.execute(
        select(Ticket.id, Ticket.agency_id, Ticket.status).where(Ticket.id.in_(ids)).order_by(Ticket.id)
    ).all()
    emptied = 0
    if CONTACT in data_classes:
        for name in tables_of(CONTACT):
            table = _table(name)
            if name == "ticket":
                rewrite(session, table, table.c.id.in_(ids), columns_of(name, CONTACT))
            elif "ticket_id" in table.c:
                if deleted_whole(name):
                    session.execute(delete(table).where(table.c.ticket_id.in_(ids)))
                else:
                    rewrite(session, table, table.c.ticket_id.in_(ids), columns_of(name, CONTACT))
        session.execute(
            update(Ticket.__table__).where(Ticket.id.in_(ids))
            .values(anonymised_at=now, version=Ticket.__table__.c.version + 1)
        )
    if MEDIA in data_classes:
        attachments = _table("attachment")
        emptied = rewrite(session, attachments, attachments.c.ticket_id.in_(ids), columns_of("attachment", MEDIA))
    if tickets:
        session.execute(insert(TicketEvent.__table__), _event_rows(tickets, action, now, actor, reason, detail or {}))
    return emptied


def _batches(session: Session, query: Any, total: int, batch: int, limit: int | None,
             work: Callable[[list[int]], None], item: str, progress: Progress | None, commit: bool) -> tuple[int, bool]:
    """Take ``query``'s ids ``batch`` at a time until none is left (each batch
    done leaves the query) or ``limit`` is reached; whether more were left."""
    done = 0
    while limit is None or done < limit:
        size = batch if limit is None else min(batch, limit - done)
        ids = list(session.scalars(query.limit(size)))
        if not ids:
            return done, False
        work(ids)
        done += len(ids)
        if commit:
            session.commit()
        if progress:
            progress(item, done, total)
    return done, bool(list(session.scalars(query.limit(1))))


def _count(session: Session, query: Any) -> int:
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def apply_retention(
    session: Session, now: datetime, schedule: Schedule, dry_run: bool = False, *, batch: int = BATCH,
    limit: int | None = None, commit: bool = False, progress: Progress | None = None,
) -> RetentionReport:
    """Apply the retention ``schedule`` at ``now``; with ``dry_run`` only count
    what would go. ``limit``: at most that many tickets (and as many
    attachments) in this run; ``commit``: after each batch (the command line;
    a job leaves the commit to its runner). Idempotent."""
    report = RetentionReport(dry_run)
    contact_before, media_before = schedule.cutoff(CONTACT, now), schedule.cutoff(MEDIA, now)
    due = select(Ticket.id).where(Ticket.anonymised_at.is_(None), ended_before(contact_before)).order_by(Ticket.id)
    with_media = (
        select(Attachment.ticket_id).join(Ticket, Ticket.id == Attachment.ticket_id)
        .where(ended_before(media_before), _media_left()).group_by(Attachment.ticket_id).order_by(Attachment.ticket_id)
    )
    if dry_run:
        report.counts["tickets"] = _count(session, due)
        report.counts["attachments"] = _count(session, select(Attachment.id).join(Ticket, Ticket.id == Attachment.ticket_id)
                                              .where(ended_before(media_before), _media_left()))
    else:
        count, more = _batches(
            session, due, _count(session, due), batch, limit,
            lambda ids: anonymise_tickets(session, ids, now, [CONTACT], detail={"years": schedule.contact_years}),
            "tickets", progress, commit,
        )
        report.counts["tickets"], report.more = count, more

        def media(ids: list[int]) -> None:
            report.counts["attachments"] += anonymise_tickets(
                session, ids, now, [MEDIA], action=REMOVE_MEDIA, detail={"years": schedule.media_years}
            )

        _, more = _batches(session, with_media, _count(session, with_media), batch, limit, media, "attachments",
                           progress, commit)
        report.more = report.more or more
    _unlinked(session, now, schedule, report)
    if commit and not dry_run:
        session.commit()
    return report


def _unlinked(session: Session, now: datetime, schedule: Schedule, report: RetentionReport) -> None:
    """Rows that hang on no ticket, each by its own time."""
    write = not report.dry_run
    before = schedule.cutoff(CONTACT, now)
    messages = _table("message")
    report.counts["messages"] = rewrite(
        session, messages,
        and_(messages.c.ticket_id.is_(None), messages.c.received_at < before,
             or_(messages.c.sender.is_not(None), messages.c.external_id.like("event%"))),
        columns_of("message", CONTACT), write=write,
    )
    history = _table("historical_ticket")
    report.counts["history"] = rewrite(
        session, history, func.coalesce(HistoricalTicket.created_at, HistoricalTicket.imported_at) < before,
        columns_of("historical_ticket", CONTACT), write=write,
    )
    imports = _table("ticket_import")
    report.counts["imports"] = rewrite(
        session, imports, and_(imports.c.finished_at < before, func.length(imports.c.content) > 0),
        columns_of("ticket_import", CONTACT), write=write,
    )
    finished = and_(Job.status.in_((DONE, FAILED)), Job.finished_at < before)
    if write:
        report.counts["jobs"] = session.execute(delete(Job).where(finished)).rowcount or 0
        report.counts["access_log"] = purge_access_log(session, now, schedule.access_log_days)
    else:
        report.counts["jobs"] = _count(session, select(Job.id).where(finished))
        cutoff = now - timedelta(days=retention_days(schedule.access_log_days))
        report.counts["access_log"] = _count(session, select(AccessEntry.id).where(AccessEntry.at < cutoff))


# -- the daily job -------------------------------------------------------------

RETENTION = "routing.retention"
# At night, when nobody works: three in the morning, city time.
HOUR = timedelta(hours=3)
# Tickets one run anonymises at most; a run that stops there queues the next at once.
JOB_LIMIT = 20_000


def schedule_next(session: Session, now: datetime) -> None:
    """Enqueue the next night's run, unless some process already has."""
    start = (now - HOUR).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1) + HOUR
    enqueue(session, RETENTION, {}, now, key=f"retention:{start:%Y%m%d}", delay=start - now, max_attempts=3)


def make_job(schedule: Schedule) -> Callable[[Session, dict[str, Any], datetime], None]:
    def run(session: Session, payload: dict[str, Any], now: datetime) -> None:
        report = apply_retention(session, now, schedule, limit=JOB_LIMIT)
        if report.more:
            enqueue(session, RETENTION + ".more", {}, now, key=f"retention:more:{now:%Y%m%d%H%M%S%f}")
        if not payload.get("more"):
            schedule_next(session, now)
        if report.total:
            log.info("retention: %s", "; ".join(report.lines()))

    return run


def register_jobs(registry: Any, schedule: Schedule) -> None:
    """The nightly run, and the follow-up runs a large backlog needs."""
    job = make_job(schedule)
    registry.register_periodic(RETENTION, job, schedule_next)
    registry.register(RETENTION + ".more", lambda session, payload, now: job(session, {"more": True}, now))
