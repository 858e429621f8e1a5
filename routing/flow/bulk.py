"""Bulk actions (批量处理): one workflow step for several tickets at once.

Each ticket takes the step in a savepoint of its own, so one that cannot take
it (wrong state, a stale copy) is reported with the reason and rolled back
alone while the others go through. Every step still goes through
``workflow``, and every change is an event on the ticket's timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from routing.flow import steps, workflow
from routing.store.people import Agency, User
from routing.store.tickets import Ticket
from routing.texts import N_

# The steps a dispatcher may apply to a selection, by the name the form posts.
BULK_STEPS = {"assign": N_("派单（转办）"), "merge": N_("合并"), "invalidate": N_("标记无效")}
# A page of the list at most, with room to spare; more is a mistake, not a wish.
BULK_LIMIT = 200

NOT_FOUND = N_("没有找到这张工单。")
STALE = N_("这张工单刚刚被其他人处理过，请查看最新状态后再操作。")


@dataclass
class BulkOutcome:
    """What happened: the numbers done, and the failed ones with the error
    that says why (``str(error)`` in Chinese; translated where shown)."""

    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, steps.WorkflowError]] = field(default_factory=list)

    def reasons(self) -> list[tuple[str, str]]:
        return [(number, str(error)) for number, error in self.failed]


def unique_numbers(numbers: Iterable[str]) -> list[str]:
    """The selection as posted: trimmed, without blanks or repeats, in order."""
    seen: dict[str, None] = {}
    for number in numbers:
        number = number.strip()
        if number:
            seen.setdefault(number, None)
    return list(seen)


def apply_to_each(
    session: Session, numbers: Iterable[str], step: Callable[[Ticket], None]
) -> BulkOutcome:
    """Run ``step`` on each ticket in its own savepoint; the caller commits."""
    numbers = unique_numbers(numbers)
    if len(numbers) > BULK_LIMIT:
        raise steps.WorkflowError(N_("一次最多处理 %(limit)s 件工单。"), limit=BULK_LIMIT)
    tickets = {t.number: t for t in session.scalars(select(Ticket).where(Ticket.number.in_(numbers)))}
    outcome = BulkOutcome()
    for number in numbers:
        ticket = tickets.get(number)
        if ticket is None:
            outcome.failed.append((number, steps.WorkflowError(NOT_FOUND)))
            continue
        try:
            with session.begin_nested():
                step(ticket)
        except steps.WorkflowError as exc:
            outcome.failed.append((number, exc))
        except StaleDataError:
            outcome.failed.append((number, steps.WorkflowError(STALE)))
        else:
            outcome.done.append(number)
    return outcome


def assign_all(
    session: Session, numbers: Iterable[str], agency: Agency, actor: User, now: datetime, reason: str | None = None
) -> BulkOutcome:
    """派单 / 转办 each ticket to ``agency``."""
    return apply_to_each(
        session, numbers, lambda ticket: workflow.assign(session, ticket, agency, actor, now, reason=reason)
    )


def merge_all(
    session: Session, numbers: Iterable[str], into: Ticket, actor: User, now: datetime, reason: str | None = None
) -> BulkOutcome:
    """合并 each ticket into ``into``; the target itself, if selected, is refused."""
    return apply_to_each(
        session, numbers, lambda ticket: workflow.merge(session, ticket, into, actor, now, reason=reason)
    )


def invalidate_all(
    session: Session, numbers: Iterable[str], actor: User, now: datetime, reason: str
) -> BulkOutcome:
    """标记无效 each ticket, all with the same reason."""
    return apply_to_each(
        session, numbers, lambda ticket: workflow.invalidate(session, ticket, actor, now, reason)
    )
