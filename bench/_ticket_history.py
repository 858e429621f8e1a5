"""The million tickets' generator (bench/million_tickets.py): each ticket's
history up to now, as routing would have written it — its row as it ends and
its key events, in the column order of TICKET_COLUMNS and EVENT_COLUMNS.

Imports the project's packages: the script puts the checkout's root on
sys.path first.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from itertools import accumulate

from routing.flow.calendar import WorkCalendar
from routing.flow.deadlines import DEFAULT_POLICIES, add_months
from routing.store.tickets import Kind, Urgency

TEXTS = (
    "小区物业擅自涨停车费，业主都不同意，请有关部门管一管。",
    "路灯坏了两个星期，晚上出门很不安全，希望尽快修好。",
    "工地夜里十二点以后还在打桩施工，噪音太大。",
    "建议增加一个公交站点，方便老人出行。",
    "公司拖欠工资三个月了，请劳动监察部门帮忙讨薪。",
    "孩子上小学，户口和租房不在一个区，应该在哪里报名？",
    "餐馆后厨卫生很差，请市场监管部门检查。",
    "社保断缴了三个月，想补缴，需要带什么材料？",
)
KINDS = (
    (Kind.COMPLAINT, 0.45), (Kind.CONSULTATION, 0.2), (Kind.HELP, 0.15),
    (Kind.SUGGESTION, 0.15), (Kind.DEPUTY_SUGGESTION, 0.05),
)
RATING_LABELS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}
TICKET_COLUMNS = (
    "id", "number", "code", "status", "kind", "urgency", "channel", "text", "agency_id", "assigned_at",
    "accept_by", "answer_by", "accepted_at", "answered_at", "answer", "closed_at", "rating", "rated_at",
    "paused_at", "created_at", "updated_at", "version",
)
EVENT_COLUMNS = ("ticket_id", "at", "actor", "action", "from_status", "to_status", "agency_id", "detail")


class Deadlines:
    """Deadlines as routing computes them, cached per day (they depend only on the day)."""

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar
        self._days: dict[tuple, datetime] = {}

    def add(self, start: datetime, days: int) -> datetime:
        key = (start.date(), days)
        found = self._days.get(key)
        if found is None:
            found = self._days[key] = self.calendar.add_working_days(start, days)
        return found

    def for_kind(self, kind: Kind, urgent: bool, start: datetime) -> tuple[datetime, datetime]:
        if urgent:
            return start + timedelta(hours=1), start + timedelta(hours=2)
        terms = DEFAULT_POLICIES[(kind, Urgency.NORMAL)]
        if terms.answer_months:  # 代表建议: months on the calendar, as routing counts them
            answer_by = datetime.combine(add_months(start, terms.answer_months), start.time())
            return self.add(start, terms.accept_days), answer_by
        return self.add(start, terms.accept_days), self.add(start, terms.answer_days)


class Life:
    """One ticket's history up to ``now``: the row it ends as and its events."""

    def __init__(self, tid: int, created: datetime, now: datetime, kind: Kind, urgent: bool, deadlines: Deadlines):
        self.tid, self.now, self.kind, self.urgent, self.deadlines = tid, now, kind, urgent, deadlines
        self.row = {
            "status": "triage", "agency_id": None, "assigned_at": None, "accept_by": None, "answer_by": None,
            "accepted_at": None, "answered_at": None, "answer": None, "closed_at": None, "rating": None,
            "rated_at": None, "paused_at": None, "updated_at": created,
        }
        self.events: list[tuple] = []
        self.done = False  # the next step would be after now

    def step(self, at: datetime, action: str, to: str | None, actor: str = "系统", detail: str | None = None) -> bool:
        """Record the step if it happened by now; say whether it did."""
        if self.done or at > self.now:
            self.done = True
            return False
        before = self.row["status"]
        if to is not None:
            self.row["status"] = to
        self.row["updated_at"] = at
        self.events.append((self.tid, at, actor, action, before, self.row["status"], self.row["agency_id"], detail))
        return True

    def assign(self, at: datetime, agency: tuple[int, str], action: str = "assign", actor: str = "系统") -> bool:
        if not self.step(at, action, "assigned", actor, json.dumps({"agency": agency[1]}, ensure_ascii=False)):
            return False
        accept_by, answer_by = self.deadlines.for_kind(self.kind, self.urgent, at)
        self.row.update(agency_id=agency[0], assigned_at=at, accept_by=accept_by, answer_by=answer_by,
                        accepted_at=None, answered_at=None, paused_at=None)
        return True


def live(life: Life, rng: random.Random, agencies: list[tuple[int, str]], weights: list[float]) -> None:
    """``weights``: cumulative, for random.choices."""
    """The ticket's course; each step stops the story if it lies after now."""
    row, created = life.row, life.row["updated_at"]
    pick = lambda: rng.choices(agencies, cum_weights=weights)[0]  # noqa: E731
    if rng.random() < 0.01:
        life.step(created + timedelta(hours=rng.uniform(0.5, 24)), "invalidate", "invalid", "分拨员")
        return
    at = created if rng.random() < 0.85 else created + timedelta(hours=rng.uniform(0.5, 8))
    if not life.assign(at, pick()):
        return
    if rng.random() < 0.04:  # 退回 within the accept deadline, then the dispatcher assigns again
        at = row["assigned_at"] + (row["accept_by"] - row["assigned_at"]) * rng.uniform(0.1, 0.9)
        if not life.step(at, "return", "triage", "承办员", None):
            return
        row.update(agency_id=None, assigned_at=None, accept_by=None, answer_by=None)
        if not life.assign(at + timedelta(hours=rng.uniform(0.5, 6)), pick(), actor="分拨员"):
            return
    for round_ in range(2):
        if not handle(life, rng, pick):
            return
        if not rate_and_close(life, rng, reopen_allowed=round_ == 0):
            return


def handle(life: Life, rng: random.Random, pick: Callable[[], tuple[int, str]]) -> bool:
    """签收 … 答复, with a transfer or a wait on the resident now and then."""
    row = life.row
    window = row["accept_by"] - row["assigned_at"]
    on_time = rng.random() < 0.9
    at = row["assigned_at"] + window * rng.uniform(0.05, 1) if on_time else row["accept_by"] + timedelta(hours=rng.uniform(1, 72))
    if not life.step(at, "accept", "accepted", "承办员"):
        return False
    row["accepted_at"] = at
    if rng.random() < 0.02:  # 转办 by the dispatcher
        if not life.assign(at + timedelta(days=rng.uniform(0.5, 3)), pick(), action="reassign", actor="分拨员"):
            return False
        at = row["assigned_at"] + timedelta(hours=rng.uniform(0.5, 6))
        if not life.step(at, "accept", "accepted", "承办员"):
            return False
        row["accepted_at"] = at
    if rng.random() < 0.03:  # 请群众补充: the clock stops, the deadline moves on by the days it stood still
        paused = at + timedelta(days=rng.uniform(0.2, 2))
        if not life.step(paused, "ask_resident", "waiting", "承办员"):
            return False
        row["paused_at"] = paused
        resumed = paused + timedelta(days=rng.uniform(1, 6))
        if not life.step(resumed, "resume", "accepted"):
            return False
        row["answer_by"] += resumed - paused
        row["paused_at"] = None
        at = resumed
    span = max(row["answer_by"] - at, timedelta(hours=1))
    on_time = rng.random() < 0.88
    at = at + span * rng.uniform(0.05, 1) if on_time else row["answer_by"] + timedelta(hours=rng.uniform(1, 240))
    if not life.step(at, "answer", "answered", "承办员"):
        return False
    row["answered_at"], row["answer"] = at, "已办理。"
    return True


def rate_and_close(life: Life, rng: random.Random, *, reopen_allowed: bool) -> bool:
    """群众评价 or not; 办结; 不满意 reopens once (returns True to go round again)."""
    row = life.row
    if rng.random() < 0.65:
        at = row["answered_at"] + timedelta(hours=rng.uniform(1, 100))
        rating = rng.choices(("satisfied", "basically_satisfied", "unsatisfied"), (0.78, 0.14, 0.08))[0]
        if not reopen_allowed and rating == "unsatisfied":
            rating = "basically_satisfied"
        detail = json.dumps({"rating": rating, "label": RATING_LABELS[rating]}, ensure_ascii=False)
        if not life.step(at, "rate", None, detail=detail):
            return False
        if rating == "unsatisfied":
            return life.assign(at, (row["agency_id"], ""), action="reopen")
        row["rating"], row["rated_at"] = rating, at
    else:
        at = row["answered_at"] + timedelta(days=7)  # five working days, roughly
    if life.step(at, "close", "closed"):
        row["closed_at"] = at
    return False


def tickets(count: int, now: datetime, agencies: list[tuple[int, str]], calendar: WorkCalendar,
            seed: int = 7) -> Iterator[tuple[tuple, list[tuple]]]:
    rng = random.Random(seed)
    deadlines = Deadlines(calendar)
    # Some agencies get far more than others, as in any city.
    weights = list(accumulate(rng.paretovariate(1.5) for _ in agencies))
    kinds, kind_weights = zip(*KINDS)
    kind_weights = list(accumulate(kind_weights))
    span = timedelta(days=730).total_seconds()
    start = now - timedelta(days=730)
    for tid in range(1, count + 1):
        created = (start + timedelta(seconds=span * (tid - 0.5) / count)).replace(microsecond=0)
        kind = rng.choices(kinds, cum_weights=kind_weights)[0]
        urgent = rng.random() < 0.02
        life = Life(tid, created, now, kind, urgent, deadlines)
        live(life, rng, agencies, weights)
        r = life.row
        yield (
            tid, f"{created:%Y%m%d}{tid:07d}", f"{rng.getrandbits(40):010X}"[:8], r["status"], kind.value,
            "urgent" if urgent else "normal", "web", rng.choice(TEXTS), r["agency_id"], r["assigned_at"],
            r["accept_by"], r["answer_by"], r["accepted_at"], r["answered_at"], r["answer"], r["closed_at"],
            r["rating"], r["rated_at"], r["paused_at"], created, r["updated_at"], 1,
        ), life.events
