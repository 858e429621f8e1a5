"""Failures counted per key — wrong passwords, wrong lookup codes — in the
rate limiter's storage, so that every process of the system sees one count.

Unlike a rate limit, only failures count: a resident who looks up their own
ticket with its code is never slowed by it; someone guessing codes is.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from flask import current_app
from limits import RateLimitItem, parse_many
from limits.strategies import RateLimiter
from sqlalchemy.orm import Session

from routing.flow.lookup import find_for_resident
from routing.store.tickets import Ticket

# The app's extension holding the throttles by name (set up by admin.security).
FAILURES = "tingjian_failures"


@dataclass(frozen=True)
class FailureThrottle:
    """Counts failures only (wrong passwords, wrong codes) per key, in the
    limiter's storage, so that every process sees the same count."""

    strategy: RateLimiter
    scope: str
    items: tuple[RateLimitItem, ...]

    @classmethod
    def of(cls, strategy: RateLimiter, scope: str, limits: str) -> FailureThrottle:
        """From a setting in Flask-Limiter's syntax ("10 per 10 minutes;50 per day")."""
        return cls(strategy, scope, tuple(parse_many(limits)))

    def wait(self, key: str) -> int:
        """Seconds until ``key`` may try again; 0 if it may now."""
        waits = []
        for item in self.items:
            if not self.strategy.test(item, self.scope, key):
                reset = self.strategy.get_window_stats(item, self.scope, key).reset_time
                waits.append(max(1, math.ceil(reset - time.time())))
        return max(waits, default=0)

    def failed(self, key: str) -> None:
        for item in self.items:
            self.strategy.hit(item, self.scope, key)


def failures(name: str) -> FailureThrottle:
    return current_app.extensions[FAILURES][name]


class TooManyGuesses(Exception):
    """Too many wrong codes for one ticket: lookups wait ``seconds``."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds

    @property
    def message(self) -> str:
        return f"这张工单的查询码输错次数过多，请 {math.ceil(self.seconds / 60)} 分钟后再试。"


def find_with_code(session: Session, number: str, code: str | None) -> Ticket | None:
    """The resident's ticket by number and code (find_for_resident), counting
    wrong codes per ticket number: numbers are sequential, so a guesser
    would otherwise try codes across many tickets at the speed of the server."""
    throttle = failures("lookup-ticket")
    key = (number or "").strip()[:32]
    wait = throttle.wait(key)
    if wait:
        raise TooManyGuesses(wait)
    ticket = find_for_resident(session, number, code)
    if ticket is None:
        throttle.failed(key)
    return ticket
