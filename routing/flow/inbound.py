"""What a channel hands over (来件): the text, the contact, the place and the
classifier's reading as routing's labels; and the codes and numbers a new
ticket gets. Every channel's text is cleaned the same way here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from routing.dispatch.agency_choice import LearnedAgency
from routing.dispatch.places import valid_coordinates
from routing.store.areas import Station
from routing.store.tickets import Kind, Ticket, Urgency

# No 0/O, 1/I/L: a resident reads the code off a phone and types it again.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# 31 ** 12 ≈ 2 ** 59: ticket numbers are sequential, so the code alone stands
# between a guesser and someone's ticket (codes of 8, from before, stay valid).
CODE_LENGTH = 12


@dataclass(frozen=True)
class Labels:
    """What the classifier read in a text, as routing needs it."""

    topic: str | None = None
    subtopic: str | None = None
    confidence: float | None = None
    district: str | None = None
    street: str | None = None
    kind: Kind = Kind.COMPLAINT
    urgency: Urgency = Urgency.NORMAL
    # Below the confidence threshold, or no text yet: a dispatcher decides.
    needs_triage: bool = False
    triage_reason: str | None = None
    prediction: dict[str, Any] | None = None
    # The agency model's suggestion, weighed against the rules when routing.
    learned_agency: LearnedAgency | None = None
    # The text's fingerprint, (term, weight) pairs: stored in the index in
    # which later tickets find this one as a possible duplicate.
    matter: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True)
class Contact:
    name: str | None = None
    phone: str | None = None
    # 短信告知办理进展: the resident agrees to be texted at ``phone`` (the form's
    # checkbox, the API's ``sms_notice``); nothing is texted without a phone.
    sms_notice: bool = True
    # 保密: the resident asked that the agency not see who they are.
    confidential: bool = False

    def __post_init__(self) -> None:
        if self.name is not None:
            object.__setattr__(self, "name", storable(self.name))


# C0 control characters but tab, line feed and carriage return, DEL, and lone
# UTF-16 surrogates: PostgreSQL cannot store a NUL, XLSX and XML cannot hold
# the others, and a surrogate cannot be encoded at all. A person never meant one.
_UNSTORABLE = {c: None for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0xD800, 0xE000)]}


def storable(text: str) -> str:
    """``text`` without the characters no store or export can keep."""
    return text.translate(_UNSTORABLE)


@dataclass(frozen=True)
class Location:
    text: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    def __post_init__(self) -> None:
        # Every channel hands its place over here: a NaN stored once made the
        # dashboard's JSON invalid for everyone.
        if not valid_coordinates(self.latitude, self.longitude):
            raise ValueError(f"invalid coordinates: {self.latitude!r}, {self.longitude!r}")
        if self.text is not None:
            object.__setattr__(self, "text", storable(self.text))


@dataclass(frozen=True)
class Inbound:
    """One inbound message as a channel hands it over; its text is made
    storable here, for every channel alike."""

    channel: str
    text: str
    payload: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None
    sender: str | None = None
    station: Station | None = None
    contact: Contact = Contact()
    location: Location = Location()

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", storable(self.text))


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def ticket_number(ticket: Ticket) -> str:
    """Date and serial: readable over the phone, unique by the row id."""
    return number_of(ticket.created_at, ticket.id)


def number_of(created_at: datetime, ticket_id: int) -> str:
    return f"{created_at:%Y%m%d}{ticket_id:06d}"
