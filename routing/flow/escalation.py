"""Warnings and escalation (预警与督办), in levels.

- A ticket's warning level (预警) for its current deadline: yellow (临期) when
  most of its working time is used, red (超期) when the deadline has passed.
- A reminder (催办) goes to the agency when the deadline is reached; a notice
  (通报) to the agency's supervisor when it stays overdue for some working
  days. Each is a stored record and an event on the ticket's timeline, made
  once per ticket and deadline by the periodic sweep.
- A daily digest (每日简报) per agency, made once per working day by a job.

The sweep finds its candidates with indexed conditions on state and deadline;
only the few tickets those return are looked at in Python.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from routing.dispatch import rules
from routing.flow import staff_notices, steps
from routing.flow.calendar import WorkCalendar
from routing.flow.deadlines import load_calendar
from routing.store.jobs import Registry, enqueue
from routing.store.oversight import AgencyDigest, Escalation, EscalationKind
from routing.store.people import Agency
from routing.store.tickets import Status, Ticket, Urgency

ACCEPT, ANSWER = "accept", "answer"
# Not a deadline: the notice of a ticket redone too often (``redo``); due_at is the redo's moment.
REDO = "redo"
DEADLINE_LABELS = {ACCEPT: "签收时限", ANSWER: "答复时限"}
DEADLINE_VERBS = {ACCEPT: "签收", ANSWER: "答复"}
# The states in which each deadline runs, and the column that holds it.
DEADLINE_STATES = {ACCEPT: (Status.ASSIGNED,), ANSWER: (Status.ACCEPTED, Status.WAITING)}
DEADLINE_ATTRIBUTES = {ACCEPT: "accept_by", ANSWER: "answer_by"}
DEADLINE_COLUMNS = {ACCEPT: Ticket.accept_by, ANSWER: Ticket.answer_by}
EVENT_ACTIONS = {EscalationKind.REMINDER: "remind", EscalationKind.NOTICE: "notify_supervisor"}

DIGESTS, DIGEST = "routing.digests", "routing.digest"
# A sweep raises at most this many records of each kind; the rest wait for the
# next slot, so a backlog (the first run after an outage) never makes one huge job.
BATCH = 500


class Level(str, enum.Enum):
    """预警等级 of a ticket's current deadline."""

    NONE = "none"
    YELLOW = "yellow"  # 临期: most of the working time is used
    RED = "red"  # 超期: the deadline has passed

    @property
    def label(self) -> str:
        return {"none": "", "yellow": "临期", "red": "超期"}[self.value]


@dataclass(frozen=True)
class EscalationPolicy:
    """The settings WARNING_SHARE and ESCALATION_DAYS."""

    warning_share: float = 0.8
    escalation_days: int = 2


def current_deadline(ticket: Ticket) -> tuple[str, datetime] | None:
    """The deadline the ticket runs against now: accept before acceptance,
    answer after; none once answered, closed or not assigned."""
    for deadline, states in DEADLINE_STATES.items():
        due = getattr(ticket, DEADLINE_ATTRIBUTES[deadline])
        if ticket.status in states and due is not None:
            return deadline, due
    return None


def clock_moment(ticket: Ticket, now: datetime) -> datetime:
    """Where the ticket's clock stands: a ticket waiting on the resident does
    not age, so its clock stopped when it started waiting."""
    if ticket.status is Status.WAITING and ticket.paused_at is not None:
        return min(ticket.paused_at, now)
    return now


def warning_level(ticket: Ticket, now: datetime, calendar: WorkCalendar, share: float = 0.8) -> Level:
    """预警: red when the current deadline has passed, yellow when at least
    ``share`` of its working time is used. Emergencies run on the clock
    (their deadline is in hours), everything else in office time on working days."""
    current = current_deadline(ticket)
    if current is None:
        return Level.NONE
    _, due = current
    moment = clock_moment(ticket, now)
    if moment > due:
        return Level.RED
    start = min(ticket.assigned_at or ticket.created_at, moment)
    if ticket.urgency is Urgency.URGENT:
        total, left = due - start, due - moment
    else:
        total = calendar.working_time_between(start, due)
        left = calendar.working_time_between(moment, due)
    if total <= timedelta(0) or total - left >= total * share:
        return Level.YELLOW
    return Level.NONE


# -- reminders and notices (催办、通报) ------------------------------------------


class SupervisionError(ValueError):
    """A supervisor that cannot be set; the message says why, in Chinese."""


def set_supervisor(session: Session, agency_name: str, supervisor_name: str | None) -> Agency:
    """上级督办单位: who receives the notices about ``agency_name``; None: the
    dispatcher centre alone. A chain of supervisors must never come back to
    the agency itself. The caller commits."""
    agencies = {a.name: a for a in session.scalars(select(Agency))}
    for name in filter(None, (agency_name, supervisor_name)):
        if name not in agencies:
            raise SupervisionError(f"没有名为“{name}”的承办单位。")
    agency = agencies[agency_name]
    supervisor = agencies[supervisor_name] if supervisor_name else None
    above = supervisor
    while above is not None:
        if above.id == agency.id:
            raise SupervisionError(f"{supervisor_name}已在{agency_name}之下，不能再督办它。")
        above = above.supervisor
    agency.supervisor = supervisor
    session.flush()
    return agency


def _not_yet(kind: EscalationKind, deadline: str):
    """No record of this kind for the ticket's present deadline yet."""
    column = DEADLINE_COLUMNS[deadline]
    return ~exists(
        select(Escalation.id).where(
            Escalation.ticket_id == Ticket.id,
            Escalation.kind == kind,
            Escalation.deadline == deadline,
            Escalation.due_at == column,
        )
    )


def _candidates(session: Session, kind: EscalationKind, deadline: str, cutoff: datetime) -> list[Ticket]:
    """Tickets whose ``deadline`` is at or before ``cutoff`` and has no record
    of ``kind`` yet: a range on the (status, deadline) index and an anti-join
    on the record's unique key."""
    column = DEADLINE_COLUMNS[deadline]
    query = select(Ticket).where(
        Ticket.status.in_(DEADLINE_STATES[deadline]),
        column <= cutoff,
        Ticket.agency_id.is_not(None),
        _not_yet(kind, deadline),
    )
    if deadline == ANSWER:
        # A ticket waiting on the resident counts only if it was late before it stopped.
        query = query.where(or_(Ticket.status != Status.WAITING, column <= Ticket.paused_at))
    query = query.order_by(column, Ticket.id).limit(BATCH).options(selectinload(Ticket.agency))
    return list(session.scalars(query))


def raise_record(
    session: Session, ticket: Ticket, kind: EscalationKind, deadline: str, due: datetime,
    recipient: Agency | None, now: datetime, text: str,
) -> Escalation:
    record = Escalation(
        ticket_id=ticket.id, kind=kind, deadline=deadline, due_at=due, agency_id=ticket.agency_id,
        recipient_id=recipient.id if recipient is not None else None, created_at=now, text=text[:500],
    )
    session.add(record)
    steps.record(
        session, ticket, EVENT_ACTIONS[kind], None, now, from_status=ticket.status, reason=text,
        detail={"deadline": deadline, "due_at": due.isoformat(),
                "to": recipient.name if recipient is not None else "分拨中心"},
    )
    staff_notices.escalation_raised(session, record, now)
    return record


def send_reminders(session: Session, now: datetime) -> int:
    """催办: every ticket whose current deadline is reached gets one reminder to its agency."""
    sent = 0
    for deadline in (ACCEPT, ANSWER):
        for ticket in _candidates(session, EscalationKind.REMINDER, deadline, now):
            due = getattr(ticket, DEADLINE_ATTRIBUTES[deadline])
            text = (f"{DEADLINE_LABELS[deadline]}（{due:%Y-%m-%d %H:%M}）已到，"
                    f"请{ticket.agency.name}尽快{DEADLINE_VERBS[deadline]}。")
            raise_record(session, ticket, EscalationKind.REMINDER, deadline, due, ticket.agency, now, text)
            # The deputy who raised it hears that the deadline passed, once per deadline.
            steps.notify_deputy(session, ticket, "overdue", f"{deadline}:{due.isoformat()}", now,
                                   deadline=deadline, due=due.isoformat())
            sent += 1
    return sent


def send_notices(session: Session, now: datetime, days: int, calendar: WorkCalendar) -> int:
    """通报: a ticket still overdue ``days`` working days after its deadline is
    reported to its agency's supervisor (none: the dispatcher centre)."""
    sent = 0
    for deadline in (ACCEPT, ANSWER):
        # N working days are at least N calendar days: a cheap first cut in SQL.
        for ticket in _candidates(session, EscalationKind.NOTICE, deadline, now - timedelta(days=days)):
            due = getattr(ticket, DEADLINE_ATTRIBUTES[deadline])
            if calendar.add_working_days(due, days) > clock_moment(ticket, now):
                continue
            supervisor = ticket.agency.supervisor
            text = (f"{ticket.agency.name}的工单 {ticket.number} {DEADLINE_LABELS[deadline]}"
                    f"（{due:%Y-%m-%d %H:%M}）已超期 {days} 个工作日仍未{DEADLINE_VERBS[deadline]}，"
                    f"通报{supervisor.name if supervisor else '分拨中心'}督办。")
            raise_record(session, ticket, EscalationKind.NOTICE, deadline, due, supervisor, now, text)
            sent += 1
    return sent


def escalate(session: Session, now: datetime, policy: EscalationPolicy) -> tuple[int, int]:
    """The sweep's part: reminders, then notices. Returns how many of each."""
    reminders = send_reminders(session, now)
    notices = send_notices(session, now, policy.escalation_days, load_calendar(session))
    return reminders, notices


def _still_open():
    """A record is open while its ticket still runs against that same deadline
    at that same agency: once accepted, answered, extended or moved on, it is done."""
    return and_(
        Ticket.agency_id == Escalation.agency_id,
        or_(
            and_(Escalation.deadline == ACCEPT, Ticket.status.in_(DEADLINE_STATES[ACCEPT]),
                 Ticket.accept_by == Escalation.due_at),
            and_(Escalation.deadline == ANSWER, Ticket.status.in_(DEADLINE_STATES[ANSWER]),
                 Ticket.answer_by == Escalation.due_at),
            # A redo's notice (``redo``): until the dispatcher centre decides on that redo.
            and_(Escalation.deadline == REDO, Ticket.redo_review_since == Escalation.due_at),
        ),
    )


def open_escalations(session: Session, *, agency_id: int | None = None, limit: int = 500) -> list[Escalation]:
    """Open reminders and notices, the most overdue first. With ``agency_id``:
    only those about that agency's own tickets, and notices addressed to it as
    a supervisor — never another agency's reminders."""
    query = select(Escalation).join(Escalation.ticket).where(_still_open())
    if agency_id is not None:
        query = query.where(
            or_(Escalation.agency_id == agency_id,
                and_(Escalation.kind == EscalationKind.NOTICE, Escalation.recipient_id == agency_id))
        )
    query = query.order_by(Escalation.due_at, Escalation.kind, Escalation.id).limit(limit)
    return list(session.scalars(query.options(selectinload(Escalation.ticket), selectinload(Escalation.agency),
                                              selectinload(Escalation.recipient))))


def count_open(session: Session) -> int:
    return session.scalar(select(func.count(Escalation.id)).join(Escalation.ticket).where(_still_open())) or 0


# -- the daily digest (每日简报) -------------------------------------------------


def previous_workday(calendar: WorkCalendar, day: date) -> date:
    day -= timedelta(days=1)
    while not calendar.is_workday(day):
        day -= timedelta(days=1)
    return day


def schedule_digests(session: Session, now: datetime, calendar: WorkCalendar) -> None:
    """From the opening of a working day on, once per day: one job that makes
    every agency's digest. The key makes it once, however many sweeps run."""
    if calendar.is_workday(now.date()) and now.time() >= calendar.hours.start:
        day = now.date().isoformat()
        enqueue(session, DIGESTS, {"day": day}, now, key=f"digests:{day}")


def make_digest(
    session: Session, agency_id: int, day: date, now: datetime, policy: EscalationPolicy,
    calendar: WorkCalendar | None = None,
) -> AgencyDigest:
    """The digest of one agency for one working day, made once: tickets newly
    assigned and reminders and notices raised since just after the agency's
    previous digest (the first: since the previous working day began) up to
    ``now``, the moment it is made — so consecutive digests neither miss nor
    repeat anything, and the reminders and notices of the sweep that asks for
    the digest are in it; and the open tickets due soon (yellow) and overdue
    (red) as of ``now``."""
    existing = session.scalar(
        select(AgencyDigest).where(AgencyDigest.agency_id == agency_id, AgencyDigest.day == day)
    )
    if existing is not None:
        return existing
    calendar = calendar or load_calendar(session)
    previous = session.scalar(
        select(func.max(AgencyDigest.created_at)).where(AgencyDigest.agency_id == agency_id, AgencyDigest.day < day)
    )
    since = previous or datetime.combine(previous_workday(calendar, day), time())

    def in_period(column: Any) -> ColumnElement[bool]:
        # The previous digest counted up to the moment it was made: from just after it.
        return and_(column > since if previous else column >= since, column <= now)

    new = session.scalars(
        select(Ticket.number).where(Ticket.agency_id == agency_id, in_period(Ticket.assigned_at)).order_by(Ticket.id)
    ).all()
    open_tickets = session.scalars(
        select(Ticket).where(Ticket.agency_id == agency_id, Ticket.status.in_(rules.OPEN)).order_by(Ticket.id)
    ).all()
    levels = {t.number: warning_level(t, now, calendar, policy.warning_share) for t in open_tickets}
    records = session.scalars(
        select(Escalation).where(
            or_(Escalation.agency_id == agency_id,
                and_(Escalation.kind == EscalationKind.NOTICE, Escalation.recipient_id == agency_id)),
            in_period(Escalation.created_at),
        ).order_by(Escalation.id).options(selectinload(Escalation.ticket))
    ).all()
    detail: dict[str, Any] = {
        "since": since.isoformat(),
        "new": list(new),
        "due_soon": [n for n, level in levels.items() if level is Level.YELLOW],
        "overdue": [n for n, level in levels.items() if level is Level.RED],
        "reminders": [e.ticket.number for e in records if e.kind is EscalationKind.REMINDER],
        "notices": [e.ticket.number for e in records if e.kind is EscalationKind.NOTICE],
    }
    digest = AgencyDigest(
        agency_id=agency_id, day=day, created_at=now, detail=detail,
        **{field: len(detail[key]) for field, key in (("new_tickets", "new"), ("due_soon", "due_soon"),
                                                      ("overdue", "overdue"), ("reminders", "reminders"),
                                                      ("notices", "notices"))},
    )
    session.add(digest)
    session.flush()
    return digest


def latest_digests(session: Session, agency_id: int, limit: int = 20) -> list[AgencyDigest]:
    return list(session.scalars(
        select(AgencyDigest).where(AgencyDigest.agency_id == agency_id)
        .order_by(AgencyDigest.day.desc()).limit(limit)
    ))


def register_jobs(registry: Registry, policy: EscalationPolicy) -> None:
    """The digest jobs: one that fans out per agency, one per agency and day."""

    def digests(session: Session, payload: dict[str, Any], now: datetime) -> None:
        day = payload["day"]
        for agency_id in session.scalars(select(Agency.id).where(Agency.active.is_(True)).order_by(Agency.id)):
            enqueue(session, DIGEST, {"agency_id": agency_id, "day": day}, now, key=f"digest:{agency_id}:{day}")

    def digest(session: Session, payload: dict[str, Any], now: datetime) -> None:
        made = make_digest(session, payload["agency_id"], date.fromisoformat(payload["day"]), now, policy)
        staff_notices.digest_made(session, made, now)

    registry.register(DIGESTS, digests)
    registry.register(DIGEST, digest)
