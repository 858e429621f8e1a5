"""Which answered tickets the centre calls back (回访规则): every ticket of
the kinds the city names (by default complaints), every deputy's suggestion,
and a sample of the rest — chosen by a stable hash of the ticket number, so
the same ticket is always in or out of the sample, whoever asks and when.
What happens after the tries run out is the city's rule too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from routing.store.tickets import Kind, Ticket

# Where the resident cannot be reached after the last try: the ticket closes, or stays as it is.
CLOSE, KEEP = "close", "keep"


@dataclass(frozen=True)
class CallbackRule:
    """The settings CALLBACK_KINDS, CALLBACK_SAMPLE_PERCENT, CALLBACK_ATTEMPTS and CALLBACK_UNREACHED."""

    kinds: Collection[Kind] = field(default_factory=lambda: frozenset({Kind.COMPLAINT}))
    sample_percent: int = 10
    attempts: int = 3
    unreached: str = CLOSE

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CallbackRule:
        return cls(
            kinds=frozenset(config.get("CALLBACK_KINDS", (Kind.COMPLAINT,))),
            sample_percent=int(config.get("CALLBACK_SAMPLE_PERCENT", 10)),
            attempts=int(config.get("CALLBACK_ATTEMPTS", 3)),
            unreached=config.get("CALLBACK_UNREACHED", CLOSE),
        )


def parse_kinds(text: str) -> frozenset[Kind]:
    """CALLBACK_KINDS as written in the environment: kinds' values, comma-separated (may be empty)."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    known = {kind.value: kind for kind in Kind}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"CALLBACK_KINDS: unknown kind(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return frozenset(known[name] for name in names)


def in_sample(number: str, percent: int) -> bool:
    """Whether the ticket ``number`` falls in a ``percent`` sample: the same answer every time."""
    bucket = int.from_bytes(hashlib.sha256(number.encode()).digest()[:4], "big") % 100
    return bucket < max(0, min(percent, 100))


def needs_callback(ticket: Ticket, rule: CallbackRule) -> bool:
    if ticket.kind is Kind.DEPUTY_SUGGESTION or ticket.kind in rule.kinds:
        return True
    return ticket.number is not None and in_sample(ticket.number, rule.sample_percent)
